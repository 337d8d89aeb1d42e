#!/bin/sh
# tests/fuzz/mkseeds_image.sh - regenerates tests/fuzz/seeds/fuzz_image/
# with the test synthesiser (tests/synth, `make synth`).
#
# Each seed is the harness's option byte (see fuzz_image.c) followed by a
# small image: apps and bootloaders of several chips, with descriptors,
# digests, Secure Boot v2 sectors and a v1 trailer. Usage, from the
# repository root: tests/fuzz/mkseeds_image.sh [BUILD]
set -eu

build=${1:-build}
mk=$build/tests/mkimage
out=tests/fuzz/seeds/fuzz_image
[ -x "$mk" ] || { echo "mkseeds_image: $mk missing; run 'make synth'" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT INT TERM

# seed NAME OPTION-BYTE MKIMAGE-ARGS...
seed() {
	name=$1 opt=$2
	shift 2
	"$mk" "$@" -o "$tmp"
	{ printf "\\$(printf '%03o' "$opt")"; cat "$tmp"; } >"$out/$name"
}

mkdir -p "$out"
rm -f "$out"/*
seed c3-app.bin 0 --chip esp32c3 --app blink,1.0 --seg iram,192 --seg irom,256
seed c3-app-rsa.bin 0 --chip esp32c3 --app signed,2.1 --seg iram,64 --sign-v2 rsa
seed c2-app-p256-badcrc.bin 0 --chip esp32c2 --app ecdsa,0.1 --sign-v2 p256,badcrc
seed esp32-app-v1.bin 0 --chip esp32 --app v1,1.0,v4.4.7 --seg iram,128 --seg dram,64 --sign-v1
seed s3-boot.bin 0 --chip esp32s3 --seg dram,48 --boot 1 --seg iram,160 --hash-appended 0
seed c6-app-badsum.bin 0 --chip esp32c6 --app zb,3.0 --seg 0,64,zero --seg iram,100 --bad-checksum --bad-digest
seed p4-app-trunc.bin 0 --chip esp32p4 --app p4,1.0 --seg iram,128 --seg-len 1,4096
# option byte 0x05: chip forced to table entry 1; 0x40: after a 1-byte prefix
seed h2-boot-forced.bin 5 --chip esp32h2 --seg dram,80 --boot 2 --seg iram,64
seed s2-app-prefix.bin 64 --chip esp32s2 --app s2,1.0 --seg 0x3ffe0000,32 --mode 7 --size-freq 0x9f --reserved 1
# 0x07: the second read call fails (here: the signature sector / v1
# trailer); 0x23: the source claims 1 KiB more than it holds
seed c3-app-rsa-eio.bin 7 --chip esp32c3 --app eio,1.0 --seg iram,64 --sign-v2 rsa,p256
seed esp32-app-v1-eio.bin 7 --chip esp32 --app v1,1.0 --seg iram,64 --sign-v1
seed c5-app-shrunk.bin 35 --chip esp32c5 --app shrunk,1.0 --seg iram,64
ls -l "$out"
