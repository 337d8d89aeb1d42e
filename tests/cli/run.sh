#!/usr/bin/env bash
# tests/cli/run.sh - golden tests of the command-line tools.
#
# Every tool has a directory tests/cli/<tool>/ (the binary is
# $BUILD/bin/<tool>).  A case NAME is a set of files in it:
#   NAME.cmd         one line: the arguments after the program name, split on
#                    blanks (no quoting); paths are relative to the repository
#                    root.  @OUT@ stands for a scratch output path.  An empty
#                    line means no arguments.
#   NAME.stdin       optional: fed to the tool's standard input (else /dev/null)
#   NAME.stdout      expected standard output, byte for byte
#   NAME.stderr      expected standard error, byte for byte
#   NAME.exit        expected exit status
#   NAME.out.sha256  with @OUT@: the SHA-256 of the file written there, or
#                    "none" when no file may be written
# The program runs with argv[0] = "<tool>" from the repository root, in an
# environment with only PATH, LANG=C.UTF-8, LC_ALL=C.UTF-8 and the sanitizer
# settings.  The scratch path is written as @OUT@ in stdout and stderr.
#
# Usage: tests/cli/run.sh [--update] [CASE...]
#   --update  (re)write the expected files from the actual results; review
#             every change before committing it.
#   CASE      only run the cases whose name ("<tool>/<name>" or "<name>")
#             is given.
# Environment: BUILD (default build; relative to the repository root).
# Prints "FAIL <tool>/<name>: <what> differs" with a short unified diff, and
# ends with "N passed, N failed".  Exit status 0 when nothing failed.
set -u
set -o pipefail

if [[ -z ${_ESPIMG_CLI_CLEAN_ENV-} ]]; then
	keep_env=(PATH="$PATH" LANG=C.UTF-8 LC_ALL=C.UTF-8 _ESPIMG_CLI_CLEAN_ENV=1)
	for v in $(compgen -e); do
		case $v in
		BUILD | TMPDIR | *SAN_OPTIONS | *SYMBOLIZER_PATH)
			keep_env+=("$v=${!v}") ;;
		esac
	done
	exec env -i "${keep_env[@]}" "${BASH:-bash}" "$0" "$@"
fi
export -n _ESPIMG_CLI_CLEAN_ENV

script_dir=${BASH_SOURCE[0]%/*}
[[ $script_dir == "${BASH_SOURCE[0]}" ]] && script_dir=.
cd -- "$script_dir/../.." || exit 2
build=${BUILD:-build}
[[ $build == /* ]] || build=$PWD/$build
export -n BUILD 2>/dev/null

update=0
want=()
for a in "$@"; do
	case $a in
	--update) update=1 ;;
	-h | --help)
		sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
		exit 0 ;;
	-*) echo "run.sh: unknown option '$a'" >&2; exit 2 ;;
	*) want+=("$a") ;;
	esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/espimg-cli.XXXXXX") || exit 2
export -n TMPDIR 2>/dev/null
trap 'rm -rf -- "$tmp"' EXIT
trap 'exit 130' INT TERM

passed=0 failed=0

# show_diff EXPECTED ACTUAL: first 20 lines of a unified diff, indented.
show_diff() {
	diff -u --label expected --label actual -- "$1" "$2" | head -n 20 | sed 's/^/    /'
}

# update_file EXPECTED ACTUAL: copy when different; report it.
update_file() {
	if [[ ! -f $1 ]] || ! cmp -s -- "$1" "$2"; then
		cp -- "$2" "$1" && echo "updated ${1#tests/cli/}"
	fi
}

# selected TOOL NAME
selected() {
	((${#want[@]})) || return 0
	local w
	for w in "${want[@]}"; do
		[[ $w == "$1/$2" || $w == "$2" ]] && return 0
	done
	return 1
}

shopt -s nullglob
for dir in tests/cli/*/; do
	dir=${dir%/}
	tool=${dir##*/}
	bin=$build/bin/$tool
	for cmdf in "$dir"/*.cmd; do
		base=${cmdf%.cmd}
		name=${base##*/}
		selected "$tool" "$name" || continue
		if [[ ! -x $bin ]]; then
			echo "FAIL $tool/$name: $bin not found (run make)"
			((failed++))
			continue
		fi

		# Arguments.
		line=
		IFS= read -r line <"$cmdf" || true
		set -f
		IFS=$' \t' read -r -a words <<<"$line"
		set +f
		work=$tmp/case
		rm -rf -- "$work"
		mkdir -- "$work" || exit 2
		outp=$work/out
		args=()
		uses_out=0
		for w in "${words[@]}"; do
			if [[ $w == *@OUT@* ]]; then
				uses_out=1
				w=${w//@OUT@/$outp}
			fi
			args+=("$w")
		done
		stdin=/dev/null
		[[ -f $base.stdin ]] && stdin=$base.stdin

		# Run (argv[0] = the tool's name, so messages do not depend on BUILD).
		{ (exec -a "$tool" "$bin" "${args[@]}") <"$stdin" >"$work/stdout" 2>"$work/stderr"; rc=$?; } 2>/dev/null
		echo "$rc" >"$work/exit"
		for s in stdout stderr; do
			if grep -qF -- "$outp" "$work/$s"; then
				sed -i "s|${outp//./\\.}|@OUT@|g" "$work/$s"
			fi
		done
		if ((uses_out)); then
			if [[ -f $outp ]]; then
				read -r sum _ < <(sha256sum -- "$outp")
			else
				sum=none
			fi
			echo "$sum" >"$work/out.sha256"
		fi

		if ((update)); then
			for s in stdout stderr exit; do
				update_file "$base.$s" "$work/$s"
			done
			if ((uses_out)); then
				update_file "$base.out.sha256" "$work/out.sha256"
			elif [[ -f $base.out.sha256 ]]; then
				rm -f -- "$base.out.sha256" && echo "removed ${base#tests/cli/}.out.sha256"
			fi
			((passed++))
			continue
		fi

		missing=()
		for s in exit stdout stderr; do
			[[ -f $base.$s ]] || missing+=("$name.$s")
		done
		((uses_out)) && [[ ! -f $base.out.sha256 ]] && missing+=("$name.out.sha256")
		if ((${#missing[@]})); then
			echo "FAIL $tool/$name: no expected ${missing[*]} (review the output, then run with --update $name)"
			((failed++))
			continue
		fi
		bad=0
		for s in exit stdout stderr; do
			if ! cmp -s -- "$base.$s" "$work/$s"; then
				if [[ $s == exit ]]; then
					echo "FAIL $tool/$name: exit status differs (expected $(<"$base.exit"), actual $rc)"
				else
					echo "FAIL $tool/$name: $s differs"
					show_diff "$base.$s" "$work/$s"
				fi
				bad=1
			fi
		done
		if ((uses_out)); then
			if ! cmp -s -- "$base.out.sha256" "$work/out.sha256"; then
				echo "FAIL $tool/$name: output file differs (expected sha256 $(<"$base.out.sha256"), actual $sum)"
				bad=1
			fi
		fi
		if ((bad)); then
			((failed++))
		else
			((passed++))
		fi
	done
done

if ((update)); then
	echo "$passed updated"
	exit 0
fi
echo "$passed passed, $failed failed"
((failed == 0))
