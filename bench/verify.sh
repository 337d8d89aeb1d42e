#!/usr/bin/env bash
# bench/verify.sh - esp-verify on a batch of images: one run over N
# synthesised ~1 MiB apps (half of them signed, RSA-3072 and ECDSA P-256),
# single thread with the keys, against one `openssl dgst -sha256` over the
# same files; then the same run with -j 2, and peak RSS.
# Run by `make bench` after bench/image.sh; see bench/README.md.
#
# Environment:
#   BUILD              build directory (default: build); uses
#                      $BUILD/bin/esp-verify and $BUILD/tests/mkimage
#   BENCH_IMAGES       images in the batch (default 500)
#   BENCH_VERIFY_RUNS  timed runs of each command (default 5, after 1 warm-up)
#   BENCH_STRICT       1 = exit 1 when the aim is missed
set -euo pipefail

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/bin/esp-verify
MKIMAGE=$BUILD/tests/mkimage
N=${BENCH_IMAGES:-500}
RUNS=${BENCH_VERIFY_RUNS:-5}
KEY_RSA=tests/keys/rsa3072
KEY_EC=tests/keys/p256
# The aim (issue 5, acceptance 3).
AIM_SHA=1.3

die() { echo "bench/verify: $*" >&2; exit 2; }
. bench/lib.sh # median_s (1 warm-up run here), cpu_s, peak_kb, fmt_mib

[ -x "$BIN" ] || die "$BIN not found; run 'make' first"
[ -x "$MKIMAGE" ] || die "$MKIMAGE not found; run 'make synth' first"
command -v openssl >/dev/null 2>&1 || die "openssl not found (scripts/deps.sh bench)"
for k in "$KEY_RSA" "$KEY_EC"; do
	[ -f "$k.pem" ] && [ -f "$k.pub.pem" ] || die "$k.pem / $k.pub.pem not found"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/espimg-bench-verify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# ------------------------------------------------------------ inputs
# ESP32-C3 apps of about 1 MiB (a 64 KiB DROM segment with the application
# description, 32 KiB IRAM, 920 KiB IROM), contents seeded per image.
# Every fourth image is signed with RSA-3072, every fourth plus one with
# ECDSA P-256, the other half is unsigned.
echo "esp-verify bench: synthesising $N images..."
files=()
signed=0
for ((i = 0; i < N; i++)); do
	f=$tmp/app-$i.bin
	sign=()
	case $((i % 4)) in
	0) sign=(--sign "$KEY_RSA.pem"); signed=$((signed + 1)) ;;
	1) sign=(--sign "$KEY_EC.pem"); signed=$((signed + 1)) ;;
	esac
	"$MKIMAGE" --chip esp32c3 --app "bench$i,1.0" --app-len 64K \
		--seg "iram,32K,random,$((2 * i + 1))" \
		--seg "irom,920K,random,$((2 * i + 2))" "${sign[@]}" -o "$f" ||
		die "mkimage failed for image $i"
	files+=("$f")
done
bytes=$(cat "${files[@]}" | wc -c)

keys=(--key "$KEY_RSA.pub.pem" --key "$KEY_EC.pub.pem")
# Every file must be read and the signed ones must pass: exit 1 is
# expected (with --key an unsigned image fails, like espsecure).
rc=0
"$BIN" -q "${keys[@]}" "${files[@]}" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc -le 1 ] || { head -n 20 "$tmp/err" >&2; die "esp-verify exits $rc"; }
failed=$(grep -c ': FAIL$\|: FAIL (' "$tmp/out" || true)
[ "$failed" -eq $((N - signed)) ] ||
	die "expected $((N - signed)) failing (unsigned) files, got $failed"
"$BIN" "${keys[@]}" --format jsonl "${files[@]}" >"$tmp/serial" 2>/dev/null || true
"$BIN" -j 2 "${keys[@]}" --format jsonl "${files[@]}" >"$tmp/parallel" 2>/dev/null || true
cmp -s "$tmp/serial" "$tmp/parallel" || die "-j 2 output differs from -j 1"

# ------------------------------------------------------------ helpers
fmt_ms() { awk -v s="$1" 'BEGIN { printf "%.0f ms", s * 1000 }'; }
row() { printf '%-40s %-10s %-10s %-22s %s\n' "$@"; }

# ------------------------------------------------------------ timing
echo "  tool:    $BIN"
echo "  timing:  $(command -v hyperfine >/dev/null 2>&1 && hyperfine --version || echo 'shell loop'), median of $RUNS"
echo "  inputs:  $N ESP32-C3 apps, $(awk -v b="$bytes" 'BEGIN { printf "%.0f MiB", b / 1048576 }') in all; $signed signed (RSA-3072, ECDSA P-256), $((N - signed)) unsigned; page cache warm"
echo
row "measure" "ours" "openssl" "ratio / aim" "verdict"
row "----------------------------------------" "----------" "----------" "----------------------" "-------"

ours=$(median_s 1 "$RUNS" "$BIN" "${keys[@]}" "${files[@]}")
ours_cpu=$(cpu_s)
theirs=$(median_s 1 "$RUNS" openssl dgst -sha256 "${files[@]}")
theirs_cpu=$(cpu_s)
x=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
ok=$(awk -v x="$x" -v a="$AIM_SHA" 'BEGIN { print (x <= a) ? 1 : 0 }')
V=PASS
[ "$ok" = 1 ] || V=FAIL
row "$N images, one run, -j 1, --key x2" "$(fmt_ms "$ours")" "$(fmt_ms "$theirs")" \
	"${x}x openssl (<= ${AIM_SHA}x)" "$V"
if [ -n "$ours_cpu" ] && [ -n "$theirs_cpu" ]; then
	row "  CPU time (user+sys, mean)" "$(fmt_ms "$ours_cpu")" "$(fmt_ms "$theirs_cpu")" \
		"$(awk -v a="$ours_cpu" -v b="$theirs_cpu" 'BEGIN { printf "%.2fx openssl", a / b }')" ""
fi
par=$(median_s 1 "$RUNS" "$BIN" -j 2 "${keys[@]}" "${files[@]}")
row "$N images, one run, -j 2" "$(fmt_ms "$par")" "-" \
	"$(awk -v a="$ours" -v b="$par" 'BEGIN { printf "%.2fx the -j 1 speed", a / b }')" ""
row "  throughput, -j 1" \
	"$(awk -v s="$ours" -v b="$bytes" 'BEGIN { printf "%.0f MiB/s", b / s / 1048576 }')" \
	"$(awk -v s="$theirs" -v b="$bytes" 'BEGIN { printf "%.0f MiB/s", b / s / 1048576 }')" "" ""

if [ -x /usr/bin/time ]; then
	for j in 1 2; do
		kb=$(peak_kb "$BIN" -j $j "${keys[@]}" "${files[@]}")
		row "  peak RSS, -j $j" "$(fmt_mib "$kb")" "-" "" ""
	done
	kb=$(peak_kb openssl dgst -sha256 "${files[@]}")
	row "  peak RSS, openssl" "-" "$(fmt_mib "$kb")" "" ""
else
	row "  peak RSS" "n/a" "-" "no /usr/bin/time" "SKIP"
fi

echo
if [ "$V" = FAIL ]; then
	echo "esp-verify bench: aim missed"
	[ "${BENCH_STRICT:-0}" = 1 ] && exit 1
else
	echo "esp-verify bench: every aim met"
fi
exit 0
