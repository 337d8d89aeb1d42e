# tests/lib.sh - the prelude every test runner shares (sourced, not run).
#
#   . "${BASH_SOURCE[0]%/*}/../lib.sh"
#   espimg_clean_env [NAME=VALUE...] -- "$@"
#                                # re-runs the script in a clean environment
#                                # (plus the NAME=VALUE settings given)
#   espimg_locate TOOL           # cd to the repository; sets repo, build,
#                                # corpus and tool ($build/bin/TOOL)
#   espimg_runner_args "$@"      # a conformance runner's arguments: sets
#                                # keep (--keep) and filters (SUBSTRING...)
#   espimg_tmpdir NAME           # sets tmp: a new scratch directory, removed
#                                # on exit unless keep is 1
#
# A clean environment makes the runs independent of the caller's locale and
# variables: only PATH, a UTF-8 C locale, BUILD, CORPUS, TMPDIR, JOBS and the
# sanitizer settings pass through.

# Re-executes the calling script under `env -i` once; returns on the second run.
espimg_clean_env() {
	if [[ -n ${_ESPIMG_TEST_CLEAN_ENV-} ]]; then
		export -n _ESPIMG_TEST_CLEAN_ENV
		return 0
	fi
	local keep_env=(PATH="$PATH" LANG=C.UTF-8 LC_ALL=C.UTF-8
		_ESPIMG_TEST_CLEAN_ENV=1) v
	while [[ $# -gt 0 && $1 != -- ]]; do
		keep_env+=("$1")
		shift
	done
	shift # the --
	for v in $(compgen -e); do
		case $v in
		BUILD | CORPUS | TMPDIR | JOBS | *SAN_OPTIONS | *SYMBOLIZER_PATH)
			keep_env+=("$v=${!v}") ;;
		esac
	done
	exec env -i "${keep_env[@]}" "${BASH:-bash}" "$0" "$@"
}

# Changes to the repository root (two levels above the calling script) and
# sets repo, build (absolute), corpus (absolute; CORPUS or ../shared/corpus
# beside the repository) and tool ($build/bin/$1, when a name is given).
espimg_locate() {
	local script_dir=${BASH_SOURCE[1]%/*}
	[[ $script_dir == "${BASH_SOURCE[1]}" ]] && script_dir=.
	cd -- "$script_dir/../.." || exit 2
	repo=$PWD
	build=${BUILD:-build}
	[[ $build == /* ]] || build=$repo/$build
	corpus=${CORPUS:-${repo%/*}/shared/corpus}
	[[ $corpus == /* ]] || corpus=$repo/$corpus
	tool=${1:+$build/bin/$1}
	export -n BUILD CORPUS 2>/dev/null
	return 0
}

# The arguments every conformance runner takes: --keep (sets keep=1),
# -h/--help (prints the script's header comment), SUBSTRING... (filters).
espimg_runner_args() {
	local a
	keep=0
	filters=()
	for a in "$@"; do
		case $a in
		--keep) keep=1 ;;
		-h | --help)
			sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"
			exit 0 ;;
		-*) echo "${0##*/}: unknown option '$a'" >&2; exit 2 ;;
		*) filters+=("$a") ;;
		esac
	done
}

# Makes the scratch directory $TMPDIR/NAME.XXXXXX (TMPDIR default /tmp) and
# sets tmp to it; TMPDIR is no longer exported to the tools run.  With
# keep=1 (espimg_runner_args --keep) the directory stays and its path is
# printed on stderr, otherwise it is removed on exit.  An interrupt exits
# with 130 (through the exit trap).
espimg_tmpdir() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 2
	export -n TMPDIR 2>/dev/null
	if ((keep)); then
		echo "conformance: keeping $tmp" >&2
	else
		trap 'rm -rf -- "$tmp"' EXIT
	fi
	trap 'exit 130' INT TERM
}

# --- check helpers for the conformance runners that count named checks ---
# They use the caller's globals: filters (SUBSTRING arguments), passed,
# failed, and set rc.

# selected NAME: whether a check runs under the SUBSTRING filters.
selected() {
	((${#filters[@]})) || return 0
	local s
	for s in "${filters[@]}"; do
		[[ $1 == *"$s"* ]] && return 0
	done
	return 1
}

# result NAME [FAILURE...]: one check; passes without failures.
result() {
	local name=$1 f
	shift
	if (($# == 0)); then
		((passed++))
		return
	fi
	((failed++))
	for f in "$@"; do
		echo "FAIL $name: $f"
	done
}

# run OUTBASE CMD...: runs CMD with stdout/stderr in OUTBASE.out/.err;
# sets rc.  The braces catch bash's own "Segmentation fault" notice.
run() {
	local base=$1
	shift
	{ "$@" </dev/null >"$base.out" 2>"$base.err"; rc=$?; } 2>/dev/null
}

# crashed WHAT RC ERRFILE: prints a failure when the run crashed or the
# sanitizers reported something.
crashed() {
	if (($2 >= 3)); then
		echo "$1 exit $2$( (($2 >= 128)) && echo " (signal $(($2 - 128)))"): $(head -c 300 "$3" | head -n 2 | tr '\n' ' ')"
	elif grep -qE 'runtime error:|ERROR: [A-Za-z]*Sanitizer' "$3"; then
		echo "$1: sanitizer report: $(grep -m1 -E 'runtime error:|Sanitizer' "$3")"
	fi
}
