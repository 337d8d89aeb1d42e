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
#                    "none" when no file may be written; when the tool made
#                    a directory there, one "SHA-256  NAME" line per file in
#                    it (sorted by name)
# In NAME.cmd a word "<" followed by a path feeds that file to standard
# input instead of NAME.stdin.
#   NAME.seed        optional: one line, a path and optionally an octal mode;
#                    that file is copied to @OUT@ before the run (and given
#                    that mode), so a tool can change it in place, or read a
#                    key file whose mode does not depend on the checkout
#
# Synthesised inputs (tests/synth, built by `make synth`): for a tool
# directory with a synth/ subdirectory, every synth/NAME.args (one line:
# mkimage arguments, without -o) is built into NAME.bin, and every
# synth/NAME.hexmap (lines "ADDRESS NAME.bin") into the Intel HEX file
# NAME.hex holding those images at those flash addresses (objcopy), and
# every synth/NAME.flashmap into the flash image NAME.bin: lines
# "ADDRESS PART" put PART (a NAME.bin built from an .args file, or a path
# from the repository root when it holds a '/') at ADDRESS, 0xff fills the
# rest, and an optional line "size N" sets the length (default: the end of
# the last part); "#" starts a comment line.  Every other file in synth/
# (a manifest, a CSV table) is copied beside them, so it can name them by
# relative paths.  In .cmd and .seed files @SYNTH@ is the directory they
# are built in; in standard output and error that directory is written as
# @SYNTH@.
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

. "${BASH_SOURCE[0]%/*}/../lib.sh"
espimg_clean_env -- "$@"
espimg_locate

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

# build_synth DIR OUTDIR: builds the synthesised inputs of a tool
# directory; prints why and returns 1 when it cannot.
build_synth() {
	local spec name line words f addr part hexf
	local mkimage=$build/tests/mkimage
	mkdir -p -- "$2" || return 1
	for f in "$1"/synth/*; do
		case $f in *.args | *.hexmap | *.flashmap) continue ;; esac
		cp -- "$f" "$2/" || return 1
	done
	for spec in "$1"/synth/*.args; do
		name=${spec##*/}
		name=${name%.args}
		if [[ ! -x $mkimage ]]; then
			echo "$mkimage not found (run make synth)"
			return 1
		fi
		line=
		IFS= read -r line <"$spec" || true
		set -f
		IFS=$' \t' read -r -a words <<<"$line"
		set +f
		if ! "$mkimage" "${words[@]}" -o "$2/$name.bin" 2>"$2/$name.err"; then
			echo "mkimage failed for ${spec#tests/cli/}: $(head -n 1 "$2/$name.err")"
			return 1
		fi
	done
	for spec in "$1"/synth/*.hexmap; do
		name=${spec##*/}
		name=${name%.hexmap}
		hexf=$2/$name.hex
		: >"$hexf"
		while read -r addr part; do
			[[ -n $addr ]] || continue
			if ! objcopy -I binary -O ihex --change-addresses "$addr" \
				"$2/$part" "$2/$name.part.hex" 2>"$2/$name.err"; then
				echo "objcopy failed for ${spec#tests/cli/}: $(head -n 1 "$2/$name.err")"
				return 1
			fi
			# One file: no end-of-file or start-address records between parts.
			grep -v -e '^:00000001FF' -e '^:04000003' -e '^:04000005' \
				"$2/$name.part.hex" >>"$hexf"
		done <"$spec"
		echo ':00000001FF' >>"$hexf"
		rm -f -- "$2/$name.part.hex"
	done
	for spec in "$1"/synth/*.flashmap; do
		name=${spec##*/}
		name=${name%.flashmap}
		local size=0 end=0 img=$2/$name.bin
		while read -r addr part; do
			case $addr in '' | '#'*) continue ;; size) size=$((part)); continue ;; esac
			f=$part
			[[ $part == */* ]] || f=$2/$part
			if [[ ! -f $f ]]; then
				echo "${spec#tests/cli/}: no part '$part'"
				return 1
			fi
			(( addr + $(wc -c <"$f") > end )) && end=$((addr + $(wc -c <"$f")))
		done <"$spec"
		if ((size && size < end)); then
			echo "${spec#tests/cli/}: size $size is less than the end of the parts ($end)"
			return 1
		fi
		((size)) || size=$end
		head -c "$size" /dev/zero | tr '\0' '\377' >"$img"
		while read -r addr part; do
			case $addr in '' | '#'* | size) continue ;; esac
			f=$part
			[[ $part == */* ]] || f=$2/$part
			if ! dd if="$f" of="$img" bs=65536 seek=$((addr)) oflag=seek_bytes \
				conv=notrunc status=none 2>"$2/$name.err"; then
				echo "dd failed for ${spec#tests/cli/}: $(head -n 1 "$2/$name.err")"
				return 1
			fi
		done <"$spec"
	done
	rm -f -- "$2"/*.err
	return 0
}

shopt -s nullglob
for dir in tests/cli/*/; do
	dir=${dir%/}
	tool=${dir##*/}
	bin=$build/bin/$tool
	synth=$tmp/synth/$tool
	synth_err=
	if [[ -d $dir/synth ]]; then
		synth_err=$(build_synth "$dir" "$synth") || synth_err=${synth_err:-failed}
	fi
	for cmdf in "$dir"/*.cmd; do
		base=${cmdf%.cmd}
		name=${base##*/}
		selected "$tool" "$name" || continue
		if [[ ! -x $bin ]]; then
			echo "FAIL $tool/$name: $bin not found (run make)"
			((failed++))
			continue
		fi
		if [[ -n $synth_err ]]; then
			echo "FAIL $tool/$name: synthesised inputs: $synth_err"
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
		if [[ -f $base.seed ]]; then
			seed= seed_mode=
			read -r seed seed_mode <"$base.seed" || true
			seed=${seed//@SYNTH@/$synth}
			if ! cp -- "$seed" "$outp" ||
				{ [[ -n $seed_mode ]] && ! chmod -- "$seed_mode" "$outp"; }; then
				echo "FAIL $tool/$name: cannot copy the seed '$seed'${seed_mode:+ with mode $seed_mode}"
				((failed++))
				continue
			fi
		fi
		args=()
		uses_out=0
		stdin=/dev/null
		[[ -f $base.stdin ]] && stdin=$base.stdin
		redirect=0
		for w in "${words[@]}"; do
			if [[ $w == *@OUT@* ]]; then
				uses_out=1
				w=${w//@OUT@/$outp}
			fi
			w=${w//@SYNTH@/$synth}
			if ((redirect)); then
				stdin=$w
				redirect=0
			elif [[ $w == "<" ]]; then
				redirect=1
			else
				args+=("$w")
			fi
		done

		# Run (argv[0] = the tool's name, so messages do not depend on BUILD).
		{ (exec -a "$tool" "$bin" "${args[@]}") <"$stdin" >"$work/stdout" 2>"$work/stderr"; rc=$?; } 2>/dev/null
		echo "$rc" >"$work/exit"
		for s in stdout stderr; do
			if grep -qF -- "$outp" "$work/$s"; then
				sed -i "s|${outp//./\\.}|@OUT@|g" "$work/$s"
			fi
			if [[ -n $synth ]] && grep -qF -- "$synth" "$work/$s"; then
				sed -i "s|${synth//./\\.}|@SYNTH@|g" "$work/$s"
			fi
		done
		if ((uses_out)); then
			if [[ -f $outp ]]; then
				read -r sum _ < <(sha256sum -- "$outp")
				echo "$sum" >"$work/out.sha256"
			elif [[ -d $outp ]]; then
				(cd -- "$outp" && find . -type f | LC_ALL=C sort |
					sed 's|^\./||' | while IFS= read -r f; do
						read -r sum _ < <(sha256sum -- "$f")
						echo "$sum  $f"
					done) >"$work/out.sha256"
				sum="(directory)"
			else
				sum=none
				echo "$sum" >"$work/out.sha256"
			fi
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
