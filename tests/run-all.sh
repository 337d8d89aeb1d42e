#!/bin/bash
# Runs the test layers and ends with one "N passed, N failed" line.
# Usage: tests/run-all.sh [unit|cli|conformance|checks]...   (default: all)
# BUILD selects the build directory (build, or build-san for SANITIZE=1).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
layers=${*:-checks unit cli conformance}
total_pass=0 total_fail=0 total_skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Adds the counts from the last "N passed, N failed[, N skipped]" line of $log.
count() {
	local layer=$1 rc=$2 line p f s
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$layer: no result line (exit $rc)"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(sed -E 's/.*\b([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	echo "$layer: $p passed, $f failed${s:+, $s skipped}"
}

for layer in $layers; do
	case $layer in
	checks)
		: >"$log"
		p=0 f=0
		if scripts/check-exports.sh "$BUILD/libespimg.so" >>"$log" 2>&1; then p=$((p + 1)); else f=$((f + 1)); cat "$log"; fi
		if [ -x scripts/check-synopsis.sh ]; then
			if scripts/check-synopsis.sh "$BUILD/bin" >>"$log" 2>&1; then p=$((p + 1)); else f=$((f + 1)); cat "$log"; fi
		fi
		echo "$p passed, $f failed" >>"$log"
		count checks 0
		;;
	unit)
		p=0 f=0
		for t in "$BUILD"/tests/test_*; do
			[ -x "$t" ] || continue
			"$t" --jobs 2 >"$log" 2>&1
			rc=$?
			line=$(grep -E 'Synthesis: Tested: [0-9]+' "$log" | tail -n 1)
			tp=$(sed -nE 's/.*Passing: ([0-9]+).*/\1/p' <<<"$line")
			tf=$(sed -nE 's/.*Failing: ([0-9]+).*Crashing: ([0-9]+).*/\1 \2/p' <<<"$line")
			if [ -z "$line" ] || [ "$rc" != 0 ]; then
				grep -vE '^\[----\] +$' "$log" | tail -n 30
			fi
			p=$((p + ${tp:-0}))
			for x in ${tf:-1 0}; do f=$((f + x)); done
			if [ -z "$line" ] || { [ "$rc" != 0 ] && [ "${tf:-}" = "0 0" ]; }; then f=$((f + 1)); fi
		done
		echo "$p passed, $f failed" >"$log"
		count unit 0
		;;
	cli)
		tests/cli/run.sh >"$log" 2>&1
		rc=$?
		grep -E '^FAIL' "$log" | head -n 40
		count cli $rc
		;;
	conformance)
		# One runner per format: tests/conformance/<format>.sh.
		for runner in tests/conformance/*.sh; do
			"$runner" >"$log" 2>&1
			rc=$?
			grep -E '^(FAIL|conformance:)' "$log" | head -n 60
			count "conformance/$(basename "$runner" .sh)" $rc
		done
		;;
	*)
		echo "run-all.sh: unknown layer '$layer'" >&2
		exit 2
		;;
	esac
done

if [ "$total_skip" -gt 0 ]; then
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
	echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" = 0 ]
