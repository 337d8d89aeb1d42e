#!/bin/sh
# tests/fuzz/mkseeds_flash.sh - regenerates tests/fuzz/seeds/fuzz_flash/
# with the test synthesiser (tests/synth, `make synth`) and gen-partitions.
#
# Each seed is the harness's option byte (see fuzz_flash.c) followed by
# its input: mostly option mode 1, records {u8 sector, u16 length LE,
# bytes} that place a bootloader, a partition table and an app in 0xFF
# filler; a few raw files (a table, otadata, an image). Usage, from the
# repository root: tests/fuzz/mkseeds_flash.sh [BUILD]
set -eu

build=${1:-build}
mk=$build/tests/mkimage
gp=$build/bin/gen-partitions
out=tests/fuzz/seeds/fuzz_flash
for t in "$mk" "$gp"; do
	[ -x "$t" ] || { echo "mkseeds_flash: $t missing; run 'make all synth'" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

byte() { printf "\\$(printf '%03o' "$1")"; }

# rec SECTOR FILE: one placement record
rec() {
	n=$(wc -c <"$2")
	byte "$1"
	byte $((n & 255))
	byte $((n >> 8))
	cat "$2"
}

# Parts: bootloaders, apps, tables (every offset given, so the same bytes
# fit anywhere).
"$mk" --chip esp32c3 --seg dram,48 --boot 1 --seg iram,160 -o "$tmp/boot_c3"
"$mk" --chip esp32 --seg dram,48 --boot 1 --seg iram,128 -o "$tmp/boot_esp32"
"$mk" --chip esp32s3 --seg dram,48 --boot 1 --seg iram,96 -o "$tmp/boot_s3"
"$mk" --chip esp32p4 --seg dram,48 --boot 1 --seg iram,64 -o "$tmp/boot_p4"
"$mk" --chip esp32c3 --chip-id 0x1234 --seg iram,32 -o "$tmp/boot_unknown"
"$mk" --chip esp32c3 --app app,1.0 --seg iram,64 -o "$tmp/app_c3"
printf 'nvs,data,nvs,0x9000,0x5000\notadata,data,ota,0xe000,0x2000\nota_0,app,ota_0,0x10000,0x10000\nota_1,app,ota_1,0x20000,0x10000\n' >"$tmp/ota.csv"
printf 'factory,app,factory,0x10000,0x10000\nstorage,data,spiffs,0x20000,0x400000\n' >"$tmp/big.csv"
"$gp" -q "$tmp/ota.csv" "$tmp/ota.bin"
"$gp" -q --disable-md5sum "$tmp/big.csv" "$tmp/big.bin"
# a table whose MD5 entry is wrong
cp "$tmp/ota.bin" "$tmp/badmd5.bin"
printf '\000' | dd of="$tmp/badmd5.bin" bs=1 seek=$((4 * 32 + 20)) conv=notrunc 2>/dev/null
# an erased otadata with one record for seq 1 (CRC 0x4743989a)
{ printf '\001\000\000\000'; head -c 20 /dev/zero; printf '\002\000\000\000\232\230\103\107'
  head -c $((0x2000 - 32)) /dev/zero | tr '\000' '\377'; } >"$tmp/otadata"
# AA 50 with a named type but no end marker: a candidate that does not parse
{ printf '\252\120\001\002'; head -c 3068 /dev/zero | tr '\000' '\101'; } >"$tmp/junk"

# seed NAME OPTION-BYTE then records on stdin
seed() { { byte "$2"; cat; } >"$out/$1"; }

mkdir -p "$out"
rm -f "$out"/*
# option 1: placed records, default table offset, no chip
{ rec 0 "$tmp/boot_c3"; rec 8 "$tmp/ota.bin"; rec 16 "$tmp/app_c3"; } | seed c3-standard 1
{ rec 1 "$tmp/boot_esp32"; rec 8 "$tmp/ota.bin"; rec 16 "$tmp/app_c3"; } | seed esp32-0x1000 1
# ESP32-S3 bootloader at 0x1000 (the wrong place), file rounded (0x80)
{ rec 1 "$tmp/boot_s3"; rec 8 "$tmp/big.bin"; } | seed s3-wrong-offset 129
# --target-offset 0x1000 layout: bootloader at 0, table at 0x7000
{ rec 0 "$tmp/boot_esp32"; rec 7 "$tmp/ota.bin"; rec 15 "$tmp/app_c3"; } | seed esp32-target-offset 1
{ rec 2 "$tmp/boot_p4"; rec 9 "$tmp/ota.bin"; } | seed p4-table-0x9000 1
# option 0x09: expected table at 0x9000 (bits 2-3 = 2)
{ rec 0 "$tmp/boot_c3"; rec 9 "$tmp/ota.bin"; } | seed c3-expected-0x9000 9
# a table moved past 0x10000 (found by the scan only)
{ rec 0 "$tmp/boot_c3"; rec 17 "$tmp/big.bin"; } | seed c3-table-0x11000 1
# bad MD5 at 0x8000, good copy at 0xC000; junk candidate at 0x3000
{ rec 0 "$tmp/boot_c3"; rec 3 "$tmp/junk"; rec 8 "$tmp/badmd5.bin"; rec 12 "$tmp/ota.bin"; } | seed bad-table-and-copy 1
# unknown chip id; option 0x21: chip forced (entry 1)
{ rec 0 "$tmp/boot_unknown"; rec 8 "$tmp/ota.bin"; } | seed unknown-chip 1
{ rec 0 "$tmp/boot_unknown"; rec 8 "$tmp/ota.bin"; } | seed unknown-chip-forced 33
# otadata and a table placed where the table says
{ rec 0 "$tmp/boot_c3"; rec 8 "$tmp/ota.bin"; rec 14 "$tmp/otadata"; } | seed with-otadata 1
# raw files (option 0): a table, otadata, an image; option 0x32: read
# call 4 fails; option 3: a source larger than any flash
{ cat "$tmp/ota.bin"; } | seed raw-table 0
{ cat "$tmp/otadata"; } | seed raw-otadata 0
{ cat "$tmp/app_c3"; } | seed raw-image 0
{ cat "$tmp/ota.bin"; } | seed raw-table-eio 50
{ cat "$tmp/app_c3"; } | seed raw-huge 3
ls -l "$out"
