#!/usr/bin/env bash
# bench/run.sh - speed and memory of gen-partitions against the reference
# (ESP-IDF's gen_esp32part.py).  Run by `make bench`; see bench/README.md.
#
# Environment:
#   BUILD          build directory (default: build); the tool is $BUILD/bin/gen-partitions
#   GEN_ESP32PART  path to the reference gen_esp32part.py; comparisons are
#                  skipped when unset or missing
#   CORPUS         corpus root (default: ../shared/corpus)
#   PYTHON         interpreter for the reference (default: python3, resolved to
#                  sys.executable so a pyenv-style shim is not timed)
#   BENCH_TABLES   tables in the batch run (default: 1000)
#   BENCH_REF_TABLES  tables converted by the reference for its batch figure (default: 20)
#   BENCH_RUNS     runs per command for the single-conversion timing (default: 200
#                  for ours, 20 for the reference; hyperfine only)
#   BENCH_STRICT   1 = exit 1 when the batch misses the 1 s aim
set -euo pipefail

cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/bin/gen-partitions
CORPUS=${CORPUS:-../shared/corpus}
PYTHON=${PYTHON:-python3}
GEN=${GEN_ESP32PART:-}
N=${BENCH_TABLES:-1000}
REF_N=${BENCH_REF_TABLES:-20}
# The aim: 1000 tables in under 1 s, i.e. 1 ms per table (scaled to N).
AIM_S=$(awk -v n="$N" 'BEGIN { printf "%.3f", n / 1000 }')

die() { echo "bench: $*" >&2; exit 2; }

[ -x "$BIN" ] || die "$BIN not found; run 'make' first"
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/espimg-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

have_ref=0
if [ -z "$GEN" ]; then
	ref_note="GEN_ESP32PART is not set: reference comparisons skipped"
elif [ ! -f "$GEN" ]; then
	ref_note="GEN_ESP32PART=$GEN does not exist: reference comparisons skipped"
elif ! command -v "$PYTHON" >/dev/null 2>&1; then
	ref_note="$PYTHON not found: reference comparisons skipped"
else
	# Resolve launcher shims (pyenv, asdf ...) to the real interpreter, so the
	# shim's own start-up is not billed to the reference.
	PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)' 2>/dev/null || echo "$PYTHON")
	have_ref=1
	ref_note="reference: $PYTHON $GEN"
fi

# ------------------------------------------------------------ inputs
single=partitions/partitions_ota_user.csv
if [ ! -f "$single" ]; then
	single=$CORPUS/partitions/csv/partitions_ota_user.csv
fi
[ -f "$single" ] || die "no input table: neither partitions/partitions_ota_user.csv nor $single"

# Batch inputs: the corpus CSVs the reference converts with default options
# (taken from the manifest, so the reference is not needed to pick them), or
# our stock tables when the corpus is absent.
files=()
extra=()
manifest=$CORPUS/partitions/manifest.tsv
if [ -f "$manifest" ]; then
	while IFS= read -r f; do
		files+=("$CORPUS/partitions/$f")
	done < <(awk -F'\t' '$1 ~ /^csv\// && $2 == "IN OUT" && $3 == 0 { print $1 }' "$manifest")
	batch_src="$CORPUS/partitions/csv (the ${#files[@]} tables the reference accepts)"
else
	for f in partitions/*.csv; do files+=("$f"); done
	# harmless for tables without bootloader rows, needed for the one with them
	extra=(--primary-bootloader-offset 0x1000)
	batch_src="partitions/*.csv (corpus not found at $CORPUS)"
fi
[ ${#files[@]} -gt 0 ] || die "no tables for the batch run"

# ------------------------------------------------------------ helpers
now_ns() { date +%s%N; }

# fmt_ms X: seconds (float) -> "N.NN ms"
fmt_ms() { awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'; }
# ratio OURS REF: "N.Nx faster" (or slower) for two times in seconds
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a <= 0 || b <= 0) print "-";
		else if (b >= a) printf "%.1fx faster", b / a;
		else printf "%.1fx slower", a / b }'
}

# mean_s RUNS CMD... : mean wall time of one run of CMD, in seconds
mean_s() {
	local runs=$1; shift
	if command -v hyperfine >/dev/null 2>&1; then
		local a q=""
		for a in "$@"; do q+=" $(printf '%q' "$a")"; done
		hyperfine -N --style none --warmup 3 --runs "$runs" \
			--export-json "$tmp/hf.json" "${q# }" >/dev/null 2>&1 ||
			die "hyperfine failed on:$q"
		grep -o '"mean": *[0-9.eE+-]*' "$tmp/hf.json" | head -n 1 |
			awk -F: '{ printf "%.9f\n", $2 + 0 }'
	else
		local i t0 t1
		"$@" >/dev/null 2>&1 || die "command failed: $*"
		t0=$(now_ns)
		for ((i = 0; i < runs; i++)); do "$@" >/dev/null 2>&1; done
		t1=$(now_ns)
		awk -v d=$((t1 - t0)) -v n="$runs" 'BEGIN { printf "%.9f\n", d / n / 1e9 }'
	fi
}

# batch_s COUNT CMD... : wall seconds for COUNT runs of CMD TABLE OUT,
# cycling over the batch tables, one process per table
batch_s() {
	local count=$1; shift
	local i t0 t1 nf=${#files[@]}
	t0=$(now_ns)
	for ((i = 0; i < count; i++)); do
		"$@" "${files[i % nf]}" "$tmp/batch.bin" ||
			die "conversion failed: $* ${files[i % nf]}"
	done
	t1=$(now_ns)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.9f\n", d / 1e9 }'
}

# peak_kb CMD... : peak resident set size in KiB
peak_kb() {
	/usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null 2>&1 || die "command failed: $*"
	tail -n 1 "$tmp/rss"
}
fmt_mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

ours=("$BIN" -q "${extra[@]}")
ref=("$PYTHON" "$GEN" -q "${extra[@]}")

# Every batch table must convert before anything is timed.
for f in "${files[@]}"; do
	"${ours[@]}" "$f" "$tmp/check.bin" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; die "gen-partitions rejects $f"; }
done

# ------------------------------------------------------------ measure
runs_ours=${BENCH_RUNS:-200}
runs_ref=${BENCH_RUNS:-20}

one_ours=$(mean_s "$runs_ours" "${ours[@]}" "$single" "$tmp/one.bin")
[ $have_ref = 1 ] && one_ref=$(mean_s "$runs_ref" "${ref[@]}" "$single" "$tmp/one-ref.bin")

batch_ours=$(batch_s "$N" "${ours[@]}")
# The same N tables converted by one process (--output-dir): what a CI job
# converting a whole release's tables pays.  This is the figure the aim is
# about; per-process start-up dominates the loop above.
mkdir -p "$tmp/many" "$tmp/many-out"
for ((i = 0; i < N; i++)); do
	cp "${files[i % ${#files[@]}]}" "$tmp/many/t$i.csv"
done
t0=$(now_ns)
"${ours[@]}" --output-dir "$tmp/many-out" "$tmp"/many/*.csv ||
	die "batch conversion failed"
t1=$(now_ns)
batch_one=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.9f\n", d / 1e9 }')
[ "$(find "$tmp/many-out" -name '*.bin' | wc -l)" -eq "$N" ] ||
	die "batch conversion wrote fewer than $N tables"
# The same loop running a program that does nothing: what process creation
# alone costs on this host (the part of the batch time no tool can avoid).
true_bin=$(command -v true 2>/dev/null | grep / || echo /bin/true)
[ -x "$true_bin" ] || true_bin=/bin/true
batch_floor=$(batch_s "$N" "$true_bin")
[ $have_ref = 1 ] && batch_ref=$(batch_s "$REF_N" "${ref[@]}")

rss_ours=""
rss_ref=""
if [ -x /usr/bin/time ]; then
	rss_ours=$(peak_kb "${ours[@]}" "$single" "$tmp/rss.bin")
	[ $have_ref = 1 ] && rss_ref=$(peak_kb "${ref[@]}" "$single" "$tmp/rss-ref.bin")
fi

# ------------------------------------------------------------ report
per_ours=$(awk -v t="$batch_ours" -v n="$N" 'BEGIN { printf "%.9f", t / n }')
verdict=$(awk -v t="$batch_one" -v a="$AIM_S" 'BEGIN { print (t < a) ? "PASS" : "FAIL" }')

echo "gen-partitions bench"
echo "  tool:    $BIN"
echo "  $ref_note"
echo "  timing:  $(command -v hyperfine >/dev/null 2>&1 && hyperfine --version || echo 'shell loop, date +%s%N')"
echo "  single:  $single"
echo "  batch:   $batch_src"
echo
printf '%-30s %-14s %-16s %s\n' "measure" "ours" "reference" "ratio"
printf '%-30s %-14s %-16s %s\n' "------------------------------" "--------------" "----------------" "------------"
if [ $have_ref = 1 ]; then
	printf '%-30s %-14s %-16s %s\n' "one conversion, mean" "$(fmt_ms "$one_ours")" "$(fmt_ms "$one_ref")" "$(ratio "$one_ours" "$one_ref")"
else
	printf '%-30s %-14s %-16s %s\n' "one conversion, mean" "$(fmt_ms "$one_ours")" "-" "-"
fi
printf '%-30s %-14s %-16s %s\n' "$N tables, one process" "$(awk -v t="$batch_one" 'BEGIN { printf "%.3f s", t }')" "-" "$verdict (aim < ${AIM_S} s)"
printf '%-30s %-14s %-16s %s\n' "$N tables, one process each" "$(awk -v t="$batch_ours" 'BEGIN { printf "%.3f s", t }')" "-" "process per table"
printf '%-30s %-14s %-16s %s\n' "  same loop, $(basename "$true_bin") (floor)" "$(awk -v t="$batch_floor" 'BEGIN { printf "%.3f s", t }')" "-" "process start-up alone"
if [ $have_ref = 1 ]; then
	per_ref=$(awk -v t="$batch_ref" -v n="$REF_N" 'BEGIN { printf "%.9f", t / n }')
	printf '%-30s %-14s %-16s %s\n' "batch, per table" "$(fmt_ms "$per_ours")" "$(fmt_ms "$per_ref") ($REF_N)" "$(ratio "$per_ours" "$per_ref")"
	printf '%-30s %-14s %-16s %s\n' "  $N tables, extrapolated" "" "$(awk -v p="$per_ref" -v n="$N" 'BEGIN { printf "%.1f s", p * n }')" ""
else
	printf '%-30s %-14s %-16s %s\n' "batch, per table" "$(fmt_ms "$per_ours")" "-" "-"
fi
if [ -n "$rss_ours" ]; then
	printf '%-30s %-14s %-16s %s\n' "peak RSS, one table" "$(fmt_mib "$rss_ours")" "$([ -n "$rss_ref" ] && fmt_mib "$rss_ref" || echo -)" \
		"$([ -n "$rss_ref" ] && awk -v a="$rss_ours" -v b="$rss_ref" 'BEGIN { printf "%.1fx smaller", b / a }' || echo -)"
else
	printf '%-30s %-14s %-16s %s\n' "peak RSS, one table" "n/a (no /usr/bin/time)" "-" "-"
fi
printf '%-30s %-14s %-16s %s\n' "sha256 ratio" "n/a" "-" "3 KiB tables; see bench/README.md"

if [ "$verdict" = FAIL ] && awk -v f="$batch_floor" -v a="$AIM_S" 'BEGIN { exit !(f >= a * 0.8) }'; then
	echo
	echo "note: starting $N do-nothing processes already takes $(awk -v t="$batch_floor" 'BEGIN { printf "%.2f s", t }') here;"
	echo "      the aim (1000 tables in 1 s) assumes a host where a process starts in well under 1 ms."
fi

if [ "$verdict" = FAIL ] && [ "${BENCH_STRICT:-0}" = 1 ]; then
	exit 1
fi
exit 0
