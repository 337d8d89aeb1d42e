#!/usr/bin/env bash
# bench/image.sh - memory and speed of esp-imginfo: peak RSS against input
# size, speed per image against esptool image-info, and the cost of
# verifying a large image against `openssl dgst -sha256` on the same bytes.
# Run by `make bench` after bench/run.sh; see bench/README.md.
#
# Environment:
#   BUILD          build directory (default: build); uses $BUILD/bin/esp-imginfo
#                  and the synthesiser $BUILD/tests/mkimage (`make synth`)
#   ESPTOOL        reference command, run as `$ESPTOOL image-info FILE`
#                  (esptool 5.x, e.g. /work/ref/esptool5); the esptool ratio
#                  is skipped when unset or not runnable
#   CORPUS         corpus root (default: ../shared/corpus); its real images
#                  are timed when $CORPUS/images/manifest.tsv exists,
#                  synthesised ones otherwise
#   BENCH_RUNS     runs per command for our timings (default 30)
#   BENCH_REF_RUNS runs per command for esptool (default 10)
#   BENCH_SHA_RUNS runs per command for the SHA-256 comparison (default 21)
#   BENCH_STRICT   1 = exit 1 when an aim is missed
set -euo pipefail

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/bin/esp-imginfo
MKIMAGE=$BUILD/tests/mkimage
CORPUS=${CORPUS:-../shared/corpus}
RUNS=${BENCH_RUNS:-30}
REF_RUNS=${BENCH_REF_RUNS:-10}
SHA_RUNS=${BENCH_SHA_RUNS:-21}
# The aims (issue 3, acceptance 5).
AIM_RSS_KB=4096
AIM_ESPTOOL=50
AIM_SHA=1.3

die() { echo "bench/image: $*" >&2; exit 2; }
. bench/lib.sh # median_s (3 warm-up runs here), cpu_s, peak_kb, fmt_mib

[ -x "$BIN" ] || die "$BIN not found; run 'make' first"
[ -x "$MKIMAGE" ] || die "$MKIMAGE not found; run 'make synth' first"
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
case $MKIMAGE in /*) ;; *) MKIMAGE=$PWD/$MKIMAGE ;; esac
command -v openssl >/dev/null 2>&1 || die "openssl not found (scripts/deps.sh bench)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/espimg-bench-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

have_ref=0
ref=()
if [ -z "${ESPTOOL:-}" ]; then
	ref_note="ESPTOOL is not set: esptool comparison skipped"
else
	read -r -a ref <<<"$ESPTOOL"
	if ! command -v "${ref[0]}" >/dev/null 2>&1; then
		ref_note="ESPTOOL=$ESPTOOL is not runnable: esptool comparison skipped"
	else
		have_ref=1
		ref_note="reference: $ESPTOOL image-info"
	fi
fi

# ------------------------------------------------------------ inputs
# 64 KiB: an ESP32-P4 app, 16 MiB: the same layout with large segments
# (each under 16 MiB, as ESP-IDF's image writer requires). Both carry an
# application description and an appended SHA-256.
small=$tmp/app-64k.bin
large=$tmp/app-16m.bin
"$MKIMAGE" --chip esp32p4 --app bench,1.0 --app-len 24K --seg iram,8K \
	--seg irom,31K -o "$small"
"$MKIMAGE" --chip esp32p4 --app bench,1.0 --app-len 6M --seg iram,512K \
	--seg irom,8M --seg dram,1535K -o "$large"
small_size=$(wc -c <"$small")
large_size=$(wc -c <"$large")

# Images timed against esptool: real ones from the corpus (its top level,
# not the tool-made gen/ or bad/) that esptool 5 reads (exit 0) and that
# are ESP32-family (not ESP8266): the smallest
# bootloader, the app of median size, the largest app and the smallest
# signed image. Synthesised ones when the corpus is absent.
speed=()
manifest=$CORPUS/images/manifest.tsv
if [ -f "$manifest" ]; then
	while IFS= read -r f; do
		[ -f "$CORPUS/images/$f" ] && speed+=("$CORPUS/images/$f")
	done < <(awk -F'\t' 'NR > 1 && $9 == 0 && $2 ~ /^esp32/ && $1 !~ /\// &&
			($3 == "app" || $3 == "bootloader" || $3 == "signed") {
				print $3 "\t" $4 "\t" $1 }' "$manifest" |
		sort -t "$(printf '\t')" -k1,1 -k2,2n |
		awk -F'\t' '{ n[$1]++; f[$1, n[$1]] = $3 }
			END {
				if (n["bootloader"]) print f["bootloader", 1]
				if (n["app"]) {
					print f["app", int((n["app"] + 1) / 2)]
					print f["app", n["app"]]
				}
				if (n["signed"]) print f["signed", 1]
			}')
	speed_src="$CORPUS/images (${#speed[@]} real images)"
fi
if [ ${#speed[@]} -eq 0 ]; then
	"$MKIMAGE" --chip esp32c3 --boot 1 --seg dram,2K --seg iram,16K \
		-o "$tmp/boot.bin"
	"$MKIMAGE" --chip esp32s3 --app synth,1.0 --app-len 96K --seg iram,32K \
		--seg irom,400K -o "$tmp/app-512k.bin"
	"$MKIMAGE" --chip esp32 --app synth,1.0 --app-len 300K --seg iram,64K \
		--seg irom,1M --sign-v2 rsa -o "$tmp/app-signed.bin"
	speed=("$tmp/boot.bin" "$tmp/app-512k.bin" "$tmp/app-signed.bin")
	speed_src="synthesised (corpus not found at $CORPUS)"
fi

# ------------------------------------------------------------ helpers
fmt_ms() { awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'; }
fmt_size() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1048576) printf "%.1f MiB", b / 1048576
		else printf "%.0f KiB", b / 1024 }'
}

fails=0
row() { printf '%-38s %-11s %-11s %-24s %s\n' "$@"; }
# judge OK(0|1): sets V to PASS or FAIL and counts failures (not in a
# subshell, so the count survives)
judge() {
	if [ "$1" = 1 ]; then V=PASS; else V=FAIL; fails=$((fails + 1)); fi
}

# Every input must be read by us (exit 0 or 1, not a usage/internal error).
for f in "$small" "$large" "${speed[@]}"; do
	rc=0
	"$BIN" "$f" >/dev/null 2>"$tmp/err" || rc=$?
	[ $rc -le 1 ] || { cat "$tmp/err" >&2; die "esp-imginfo fails on $f (exit $rc)"; }
done
"$BIN" "$large" >/dev/null 2>"$tmp/err" ||
	{ cat "$tmp/err" >&2; die "the synthesised 16 MiB image is not valid"; }

echo "esp-imginfo bench"
echo "  tool:    $BIN"
echo "  $ref_note"
echo "  timing:  $(command -v hyperfine >/dev/null 2>&1 && hyperfine --version || echo 'shell loop') (median)"
echo "  inputs:  synthesised ESP32-P4 apps of $small_size and $large_size bytes; speed: $speed_src"
echo
row "measure" "ours" "reference" "ratio / aim" "verdict"
row "--------------------------------------" "-----------" "-----------" "------------------------" "-------"

# ------------------------------------------------------------ memory
if [ -x /usr/bin/time ]; then
	for fmt in text json esptool; do
		s=$(peak_kb "$BIN" --format "$fmt" "$small")
		l=$(peak_kb "$BIN" --format "$fmt" "$large")
		d=$((l - s))
		judge "$([ "$d" -le $AIM_RSS_KB ] && echo 1 || echo 0)"
		row "peak RSS, 64 KiB image, $fmt" "$(fmt_mib "$s")" "-" "-" ""
		row "peak RSS, 16 MiB image, $fmt" "$(fmt_mib "$l")" "-" \
			"$(awk -v d="$d" 'BEGIN { printf "%+.1f MiB (<= +4)", d / 1024 }')" "$V"
	done
else
	row "peak RSS" "n/a" "-" "no /usr/bin/time" "SKIP"
fi

# ------------------------------------------------------------ esptool
for f in "${speed[@]}"; do
	name=$(basename "$f")
	[ ${#name} -gt 24 ] && name="...${name: -21}"
	label="$name, $(fmt_size "$(wc -c <"$f")")"
	ours=$(median_s 3 "$RUNS" "$BIN" --format esptool "$f")
	if [ $have_ref = 1 ]; then
		theirs=$(median_s 3 "$REF_RUNS" "${ref[@]}" image-info "$f")
		x=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.0f", b / a }')
		judge "$([ "$x" -ge $AIM_ESPTOOL ] && echo 1 || echo 0)"
		row "$label" "$(fmt_ms "$ours")" "$(fmt_ms "$theirs")" \
			"${x}x faster (>= ${AIM_ESPTOOL}x)" "$V"
	else
		row "$label" "$(fmt_ms "$ours")" "-" "ESPTOOL unset" "SKIP"
	fi
done

# ------------------------------------------------------------ sha256
# The same 16 MiB file, page cache warm (3 warm-up runs each): a full
# description (text, to /dev/null) against a bare digest of its bytes.
ours=$(median_s 3 "$SHA_RUNS" "$BIN" "$large")
ours_cpu=$(cpu_s)
theirs=$(median_s 3 "$SHA_RUNS" openssl dgst -sha256 "$large")
theirs_cpu=$(cpu_s)
x=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
judge "$(awk -v x="$x" -v a="$AIM_SHA" 'BEGIN { print (x <= a) ? 1 : 0 }')"
row "verify 16 MiB image" "$(fmt_ms "$ours")" "$(fmt_ms "$theirs")" \
	"${x}x openssl (<= ${AIM_SHA}x)" "$V"
if [ -n "$ours_cpu" ] && [ -n "$theirs_cpu" ]; then
	row "  CPU time (user+sys, mean)" "$(fmt_ms "$ours_cpu")" "$(fmt_ms "$theirs_cpu")" \
		"$(awk -v a="$ours_cpu" -v b="$theirs_cpu" 'BEGIN { printf "%.2fx openssl", a / b }')" ""
fi
# What starting openssl costs by itself (a 0-byte file): part of its time
# above that no amount of hashing speed changes.
: >"$tmp/empty"
row "  start-up (empty input)" "$(fmt_ms "$(median_s 3 "$SHA_RUNS" "$BIN" -q "$tmp/empty")")" \
	"$(fmt_ms "$(median_s 3 "$SHA_RUNS" openssl dgst -sha256 "$tmp/empty")")" "" ""
row "  throughput" \
	"$(awk -v s="$ours" -v b="$large_size" 'BEGIN { printf "%.0f MiB/s", b / s / 1048576 }')" \
	"$(awk -v s="$theirs" -v b="$large_size" 'BEGIN { printf "%.0f MiB/s", b / s / 1048576 }')" "" ""

echo
if [ $fails -gt 0 ]; then
	echo "esp-imginfo bench: $fails aim(s) missed"
	[ "${BENCH_STRICT:-0}" = 1 ] && exit 1
else
	echo "esp-imginfo bench: every aim met"
fi
exit 0
