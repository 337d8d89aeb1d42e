# bench/lib.sh - timing helpers shared by bench/image.sh and bench/verify.sh
# (sourced, not run).  The sourcing script sets tmp (its scratch directory)
# and defines die MESSAGE... (prints and exits 2).
#
#   median_s WARMUP RUNS CMD...  median wall time of one run of CMD, seconds
#   cpu_s                        CPU time of the last median_s, seconds
#   peak_kb CMD...               peak resident set size of CMD, KiB
#   fmt_mib KIB                  "N.N MiB"

if [ -n "${EPOCHREALTIME:-}" ]; then
	now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
else
	now_us() { echo $(($(date +%s%N) / 1000)); }
fi

# median_s WARMUP RUNS CMD... : median wall time of one run of CMD over
# RUNS runs after WARMUP warm-up runs, in seconds.  Exit codes are ignored
# (an image with findings exits 1); stdout and stderr go to /dev/null.
# hyperfine when installed, else a shell loop.
median_s() {
	local warmup=$1 runs=$2
	shift 2
	if command -v hyperfine >/dev/null 2>&1; then
		local a q=""
		for a in "$@"; do q+=" $(printf '%q' "$a")"; done
		hyperfine -N -i --style none --warmup "$warmup" --runs "$runs" \
			--export-json "$tmp/hf.json" "${q# }" >/dev/null 2>&1 ||
			die "hyperfine failed on:$q"
		grep -o '"median": *[0-9.eE+-]*' "$tmp/hf.json" | head -n 1 |
			awk -F: '{ printf "%.9f\n", $2 + 0 }'
		# mean user + system CPU time, for cpu_s
		grep -o '"\(user\|system\)": *[0-9.eE+-]*' "$tmp/hf.json" |
			awk -F: '{ t += $2 } END { printf "%.9f\n", t }' >"$tmp/cpu"
	else
		: >"$tmp/cpu"
		local i t0 t1
		for ((i = 0; i < warmup; i++)); do "$@" >/dev/null 2>&1 || true; done
		for ((i = 0; i < runs; i++)); do
			t0=$(now_us)
			"$@" >/dev/null 2>&1 || true
			t1=$(now_us)
			echo $((t1 - t0))
		done | sort -n | awk '{ t[NR] = $1 }
			END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
			      printf "%.9f\n", m / 1e6 }'
	fi
}

# cpu_s: the CPU time (user + system, mean) of the last median_s, in
# seconds; empty without hyperfine.  Less disturbed than wall time when
# other jobs share the machine.
cpu_s() { cat "$tmp/cpu"; }

# peak_kb CMD... : peak resident set size in KiB (GNU time %M); the exit
# code of CMD is ignored.
peak_kb() {
	/usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null 2>&1 || true
	tail -n 1 "$tmp/rss"
}

fmt_mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
