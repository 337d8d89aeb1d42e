#!/usr/bin/env bash
# bench/flashimg.sh - `esp-flashimg explain` on synthesised whole-flash
# dumps: wall time on a 16 MB dump (aim: under 0.1 s), and peak RSS on a
# 4 MB and a 16 MB dump of the same shape (aim: flat, the dump is read in
# bounded chunks), with `openssl dgst -sha256` over the same 16 MB as a
# yardstick.  Run by `make bench` after bench/verify.sh; see
# bench/README.md.
#
# Each dump is an ESP32-S3 flash: bootloader at 0x0, the table at 0x8000
# (nvs, otadata, two OTA slots, storage, coredump), a 1 MiB app in each
# slot, otadata selecting ota_1 (otadata-set), NVS and storage erased -
# so explain reads the table, decodes otadata, checks both images
# (SHA-256 over 2 MiB) and scans every erased byte.
#
# Environment:
#   BUILD              build directory (default: build); uses
#                      $BUILD/bin/esp-flashimg, gen-partitions, otadata-set
#                      and the synthesiser $BUILD/tests/mkimage
#   BENCH_FLASH_RUNS   timed runs (default 21, after 3 warm-up runs)
#   BENCH_STRICT       1 = exit 1 when an aim is missed
set -euo pipefail

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/bin/esp-flashimg
GP=$BUILD/bin/gen-partitions
OS=$BUILD/bin/otadata-set
MKIMAGE=$BUILD/tests/mkimage
RUNS=${BENCH_FLASH_RUNS:-21}
# The aims (issue 6, acceptance 5): under 0.1 s for 16 MB, and flat
# memory - we allow 1 MiB of difference between the 4 MB and 16 MB dumps.
AIM_S=0.1
AIM_FLAT_KB=1024

die() { echo "bench/flashimg: $*" >&2; exit 2; }
. bench/lib.sh # median_s (3 warm-up runs here), cpu_s, peak_kb, fmt_mib

if [ ! -x "$BIN" ]; then
	echo "esp-flashimg bench: SKIP ($BIN not built yet)"
	exit 0
fi
for t in "$GP" "$OS" "$MKIMAGE"; do
	[ -x "$t" ] || die "$t not found; run 'make all synth' first"
done
command -v openssl >/dev/null 2>&1 || die "openssl not found (scripts/deps.sh bench)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/espimg-bench-flashimg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# ------------------------------------------------------------ inputs

# place FILE DUMP OFFSET: FILE's bytes at OFFSET in DUMP, in place.
place() {
	dd if="$1" of="$2" bs=4096 seek=$(($3 / 4096)) conv=notrunc status=none
}

# mkdump NAME FLASH-MB SLOT STORAGE: a dump of FLASH-MB MiB; both OTA slots
# SLOT bytes, storage up to the coredump partition in the last 64 KiB.
mkdump() {
	local name=$1 mb=$2 slot=$3 size=$(($2 << 20))
	local ota1=$((0x10000 + slot)) storage=$((0x10000 + 2 * slot))
	local core=$((size - 0x10000))
	local d=$tmp/$name.bin

	cat >"$tmp/$name.csv" <<-EOF
	nvs,      data, nvs,      0x9000,  0x5000
	otadata,  data, ota,      0xe000,  0x2000
	ota_0,    app,  ota_0,    0x10000, $(printf '0x%x' "$slot")
	ota_1,    app,  ota_1,    $(printf '0x%x' "$ota1"), $(printf '0x%x' "$slot")
	storage,  data, spiffs,   $(printf '0x%x' "$storage"), $(printf '0x%x' $((core - storage)))
	coredump, data, coredump, $(printf '0x%x' "$core"), 0x10000
	EOF
	"$GP" -q --flash-size "${mb}MB" "$tmp/$name.csv" "$tmp/$name.table" ||
		die "gen-partitions failed for $name"
	head -c "$size" /dev/zero | tr '\000' '\377' >"$d"
	place "$tmp/boot.bin" "$d" 0
	place "$tmp/$name.table" "$d" $((0x8000))
	place "$tmp/app0.bin" "$d" $((0x10000))
	place "$tmp/app1.bin" "$d" "$ota1"
	"$OS" -q --flash "$d" set-boot --partition ota_1 >/dev/null ||
		die "otadata-set failed for $name"
}

echo "esp-flashimg bench: synthesising 4 MB and 16 MB dumps..."
"$MKIMAGE" --chip esp32s3 --size-freq 0x4f --boot 1 --seg dram,64 \
	--seg iram,24K -o "$tmp/boot.bin" || die "mkimage failed (bootloader)"
for i in 0 1; do
	"$MKIMAGE" --chip esp32s3 --size-freq 0x4f --app "bench,1.$i" \
		--app-len 64K --seg "iram,64K,random,$((i + 1))" \
		--seg "irom,896K,random,$((i + 3))" -o "$tmp/app$i.bin" ||
		die "mkimage failed (app $i)"
done
mkdump d4 4 $((0x180000))
mkdump d16 16 $((0x600000))

# Both dumps must explain cleanly: they boot ota_1.
for n in d4 d16; do
	rc=0
	"$BIN" explain "$tmp/$n.bin" >"$tmp/$n.out" 2>"$tmp/$n.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$tmp/$n.err" >&2; die "explain $n exits $rc"; }
	grep -q 'ota_1' "$tmp/$n.out" || die "explain $n does not name ota_1"
done

# ------------------------------------------------------------ timing
fmt_ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
row() { printf '%-36s %-12s %-22s %s\n' "$@"; }

echo "  tool:    $BIN explain"
echo "  timing:  $(command -v hyperfine >/dev/null 2>&1 && hyperfine --version || echo 'shell loop'), median of $RUNS"
echo "  inputs:  ESP32-S3 dumps of 4 MB and 16 MB, two 1 MiB apps each, the rest erased; page cache warm"
echo
row "measure" "value" "aim" "verdict"
row "------------------------------------" "------------" "----------------------" "-------"

V=PASS
t16=$(median_s 3 "$RUNS" "$BIN" explain "$tmp/d16.bin")
c16=$(cpu_s)
ok=$(awk -v t="$t16" -v a="$AIM_S" 'BEGIN { print (t < a) ? 1 : 0 }')
v=PASS
[ "$ok" = 1 ] || { v=FAIL; V=FAIL; }
row "explain, 16 MB dump" "$(fmt_ms "$t16")" "< $(fmt_ms "$AIM_S")" "$v"
[ -z "$c16" ] || row "  CPU time (user+sys, mean)" "$(fmt_ms "$c16")" "" ""
t4=$(median_s 3 "$RUNS" "$BIN" explain "$tmp/d4.bin")
row "explain, 4 MB dump" "$(fmt_ms "$t4")" "" ""
sha=$(median_s 3 "$RUNS" openssl dgst -sha256 "$tmp/d16.bin")
row "openssl dgst -sha256, 16 MB" "$(fmt_ms "$sha")" \
	"$(awk -v a="$t16" -v b="$sha" 'BEGIN { printf "explain = %.2fx", a / b }')" ""

if [ -x /usr/bin/time ]; then
	k4=$(peak_kb "$BIN" explain "$tmp/d4.bin")
	k16=$(peak_kb "$BIN" explain "$tmp/d16.bin")
	d=$((k16 - k4))
	v=PASS
	[ "$d" -le "$AIM_FLAT_KB" ] || { v=FAIL; V=FAIL; }
	row "peak RSS, 4 MB dump" "$(fmt_mib "$k4")" "" ""
	row "peak RSS, 16 MB dump" "$(fmt_mib "$k16")" \
		"flat ($(awk -v k="$d" 'BEGIN { printf "%+.1f MiB", k / 1024 }') <= $(fmt_mib "$AIM_FLAT_KB"))" "$v"
else
	row "peak RSS" "n/a" "no /usr/bin/time" "SKIP"
fi

echo
if [ "$V" = FAIL ]; then
	echo "esp-flashimg bench: aim missed"
	[ "${BENCH_STRICT:-0}" = 1 ] && exit 1
else
	echo "esp-flashimg bench: every aim met"
fi
exit 0
