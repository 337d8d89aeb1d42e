#!/usr/bin/env bash
# tests/conformance/partitions.sh - gen-partitions against the reference corpus.
#
# Runs $BUILD/bin/gen-partitions once for every row of
# $CORPUS/partitions/manifest.tsv (the recorded runs of ESP-IDF's
# gen_esp32part.py v6.1-beta1) and checks that we accept and reject the same
# inputs and write the same bytes:
#
#   reference exit 0     we exit 0 and the output is byte-identical to the stored
#                        output (column `output`), or has the SHA-256 of column
#                        `sha256` when no file is stored;
#   reference exit 1/2   we exit 1 or 2, write no output file and print at least
#                        one "gen-partitions: ...error: ..." line on stderr;
#   always               no crash (exit >= 128) and no sanitizer report on stderr;
#
# except for the DOCUMENTED IMPROVEMENTS table below.
#
# Usage: tests/conformance/partitions.sh [--keep] [SUBSTRING...]
#   SUBSTRING  only run the rows whose input name contains one of them
#   --keep     keep the temporary directory (its path is printed on stderr)
# Environment: BUILD (default build; relative to the repository root),
#   CORPUS (default: <repo>/../shared/corpus), JOBS (parallel runs; default:
#   the number of CPUs, at most 8).
# Output: one "FAIL <name> [<args>]: <what differs>" line per failing row
#   (plus indented detail lines), then "N passed, N failed[, N skipped]".
# Exit status: 0 when nothing failed, 1 when something failed, 2 when the
#   runner itself could not run.  A missing corpus is skipped with status 0.
set -u
set -o pipefail

# --- Run in the reference's environment ----------------------------------------
# The reference ran with only PATH, LANG=C.UTF-8, LC_ALL=C.UTF-8 and
# PT_APP_SIZE=1M (used by bad/env_var_*.csv); every other $NAME in the corpus
# must be unset.  Re-exec once with exactly that, plus our own settings and the
# sanitizer knobs.
. "${BASH_SOURCE[0]%/*}/../lib.sh"
espimg_clean_env PT_APP_SIZE=1M -- "$@"

# --- Locations ----------------------------------------------------------------
espimg_locate gen-partitions
pdir=$corpus/partitions

espimg_runner_args "$@"

if [[ ! -f $pdir/manifest.tsv ]]; then
	echo "conformance: corpus not found at $pdir, skipped"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [[ ! -x $tool ]]; then
	echo "conformance: $tool not found or not executable (run make)" >&2
	exit 2
fi

espimg_tmpdir espimg-conf
outdir=$tmp/out
mkdir -- "$outdir" || exit 2
errf=$tmp/stderr
printf '# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n' \
	>"$tmp/empty-table.csv"
{ cat "$tmp/empty-table.csv"; printf 'abcdefghijklmno,data,nvs,0x9000,24K,\n'; } \
	>"$tmp/cut-name.csv"

cd -- "$pdir" || exit 2

# --- DOCUMENTED IMPROVEMENTS ------------------------------------------------------
# Rows where gen-partitions deliberately differs from gen_esp32part.py (allowed
# by the issue).  Keyed by manifest row: input name and args exactly as in
# manifest.tsv.  Kinds:
#   like:ARGS    expected result = the reference result of the row with the same
#                input and ARGS (exit class and bytes).  If the manifest has no
#                such row, we must exit 0 and write the same bytes as our own run
#                with ARGS.
#   empty-table  exit 0, and the output is exactly the two CSV header lines.
#   cut-name     exit 0, a ptable.name-cut warning, and the CSV of the one
#                entry with the incomplete last character dropped.
#   round-trip   exit 0, and re-encoding our CSV output (with --no-verify, so
#                that names equal in their first 16 bytes are not rejected as
#                duplicates) gives back the input binary byte for byte.
declare -A IMPROVE=() IMPROVE_WHY=()
improvement() { # improvement NAME ARGS KIND REASON
	IMPROVE["$1"$'\t'"$2"]=$3
	IMPROVE_WHY["$1"$'\t'"$2"]=$4
}
# ( input | args | expected | reason )
improvement 'csv/espressif__esp-idf__components__partition_table__partitions_two_ota.csv' \
	'--secure IN OUT' 'like:--secure v1 IN OUT' \
	'reference argparse takes IN as the value of --secure (invalid choice); we read a bare --secure as v1'
improvement 'bad/app_size_not_64k_secure_v1.csv' \
	'--secure IN OUT' 'like:--secure v1 IN OUT' \
	'as above; the --secure v1 run of this file is rejected (size not 64K-aligned), so ours must be too'
improvement 'csv/espressif__esp-idf__components__partition_table__partitions_two_ota.csv' \
	'--flash-size IN OUT' 'like:IN OUT' \
	'reference argparse takes IN as the value of --flash-size; we read a bare --flash-size as "no size check"'
improvement 'bad/extra_subtypes.csv' \
	'--extra-partition-subtypes data,my_sub,0x40 IN OUT' 'like:--extra-partition-subtypes data,my_sub,0x40 -- IN OUT' \
	'reference nargs=* swallows IN OUT ("input required"); ours only takes words that contain a comma'
improvement 'bin/bad/empty_file.bin' 'IN OUT' 'empty-table' \
	'reference writes an empty table (MD5 entry first) but cannot read it back (UnicodeDecodeError)'
improvement 'bin/bad/only_comments.bin' 'IN OUT' 'empty-table' \
	'same bytes as bin/bad/empty_file.bin'
improvement 'bad/bin_empty_table.bin' 'IN OUT' 'empty-table' \
	'same bytes as bin/bad/empty_file.bin (an empty table: MD5 entry first); the contract reads it as binary'
improvement 'bin/bad/name_utf8_cut_midchar.bin' 'IN OUT' 'cut-name' \
	'reference cuts a name inside a UTF-8 character when writing and then cannot decode it (UnicodeDecodeError); we drop the incomplete character with a warning'
improvement 'bin/bad/names_differ_after_16.bin' 'IN OUT' 'round-trip' \
	'reference accepts two names that differ only after byte 16, then rejects its own binary (names not unique)'
# Deviations that need no entry, because the general rules already cover them:
#  * Python crashes (reference exit 1 with a traceback: UnicodeDecodeError on
#    non-UTF-8 text, struct.error on out-of-range numbers, ValueError on a bad
#    --offset/--primary-bootloader-offset, KeyError/IndexError/ValueError on a
#    malformed --extra-partition-subtypes): we reject with a clear error, which
#    the "rejected" rule checks (exit 1 or 2, an error line, no output).
#  * bad/offset_plus_size_wraps_32bit.csv: accepted by the reference; we must
#    write the same bytes (a warning on stderr is allowed; stderr of accepted
#    runs is only checked for sanitizer reports).

# --- Read the manifest --------------------------------------------------------------
M_name=() M_args=() M_code=() M_sha=() M_err=() M_out=()
declare -A ROW=()       # "name<TAB>args" -> row index
declare -A STORED_SHA=() # sha256 -> a stored file with that content
declare -A MADE_SHA=()   # stored output path (even if absent) -> its sha256
{
	IFS=$'\t' read -r h1 h2 h3 h4 h5 h6 _ || h1=
	if [[ $h1/$h2/$h3/$h4/$h5/$h6 != name/args/exit_code/sha256/error/output ]]; then
		echo "conformance: $pdir/manifest.tsv: unexpected header" >&2
		exit 2
	fi
	n=0
	while IFS=$'\t' read -r c1 c2 c3 c4 c5 c6 _; do
		[[ -z $c1 ]] && continue
		M_name[n]=$c1 M_args[n]=$c2 M_code[n]=$c3 M_sha[n]=$c4 M_err[n]=$c5 M_out[n]=$c6
		ROW["$c1"$'\t'"$c2"]=$n
		if [[ $c6 != - && $c4 != - ]]; then
			MADE_SHA[$c6]=$c4
			[[ -f $c6 && -z ${STORED_SHA[$c4]-} ]] && STORED_SHA[$c4]=$c6
		fi
		((n++))
	done
} <manifest.tsv
for k in "${!IMPROVE[@]}"; do
	[[ -n ${ROW[$k]-} ]] ||
		echo "conformance: note: improvement entry matches no manifest row: ${k/$'\t'/ [}]" >&2
done

# --- Helpers ----------------------------------------------------------------------
err_re='^gen-partitions: (.*: )?error: .'
san_re='runtime error:|ERROR: [A-Za-z]*Sanitizer|SUMMARY: [A-Za-z]*Sanitizer'

declare -A FAILMSG=() # row index -> failure text (first line; detail lines follow)
declare -A KNOWN_OUT=() # paths we asked the tool to write
fail() { # fail ROW TEXT
	if [[ -n ${FAILMSG[$1]-} ]]; then
		FAILMSG[$1]+="; $2"
	else
		FAILMSG[$1]=$2
	fi
}
short() { # short TEXT -> $REPLY, cut to 200 characters
	REPLY=$1
	((${#REPLY} > 200)) && REPLY="${REPLY:0:200}..."
	return 0
}

# scan_stderr FILE: sets S_err (first error line), S_first (first line),
# S_san (first sanitizer line).  Builtins only.
scan_stderr() {
	S_err= S_first= S_san=
	[[ -s $1 ]] || return 0
	local line
	while IFS= read -r line || [[ -n $line ]]; do
		[[ -z $S_first ]] && S_first=$line
		[[ -z $S_err && $line =~ $err_re ]] && S_err=$line
		[[ -z $S_san && $line =~ $san_re ]] && S_san=$line
	done <"$1"
}

# run_tool OUTPATH WORDS...: runs the tool with IN/OUT already mapped;
# sets RC and scans stderr.
run_tool() {
	KNOWN_OUT[$1]=1
	shift
	# (the braces catch bash's own "Segmentation fault" notice)
	{ "$tool" "$@" </dev/null >/dev/null 2>"$errf"; RC=$?; } 2>/dev/null
	scan_stderr "$errf"
}

# common_checks ROW: crash and sanitizer checks on the last run.
common_checks() {
	if ((RC >= 128)); then
		fail "$1" "crashed (exit $RC, signal $((RC - 128)))"
	fi
	if [[ -n $S_san ]]; then
		short "$S_san"
		fail "$1" "sanitizer report: $REPLY"
	fi
}

# ours_said: a short description of our stderr for messages.
ours_said() {
	local l=${S_err:-$S_first}
	if [[ -n $l ]]; then
		short "$l"
		REPLY=" (ours: $REPLY)"
	else
		REPLY=
	fi
}

# Comparison jobs, hashed in one batch at the end.
J_row=() J_ours=() J_exp=() J_sha=() J_text=() J_what=()
add_job() { # add_job ROW OURS EXPFILE EXPSHA IS_TEXT WHAT
	J_row+=("$1") J_ours+=("$2") J_exp+=("$3") J_sha+=("$4") J_text+=("$5") J_what+=("$6")
}

# map_args ARGS IN OUT -> ARGV
map_args() {
	local w words
	ARGV=()
	local IFS=' '
	set -f
	words=($1)
	set +f
	for w in "${words[@]}"; do
		case $w in
		IN) ARGV+=("$2") ;;
		OUT) ARGV+=("$3") ;;
		*) ARGV+=("$w") ;;
		esac
	done
}

# --- Run every row ------------------------------------------------------------
# The rows are shared out over $JOBS worker processes (default: the number of
# CPUs, at most 8).  A worker keeps its results in the arrays below and hands
# them to the parent as NUL-separated records when it is done.
passed=0 failed=0 skipped=0
declare -A RAN=()

# run_row I: runs manifest row I, recording into FAILMSG, J_*, KNOWN_OUT, RAN.
run_row() {
	local i=$1 name=${M_name[$1]} args=${M_args[$1]} code=${M_code[$1]}
	local key=$name$'\t'$args in s id out is_text kind exp_code exp_file exp_sha
	local ref_err self_args exp_out j

	# Input.  Two stored outputs were dropped from the corpus because another
	# stored file has the same bytes; decode rows naming them read that file.
	in=$name
	if [[ ! -f $in ]]; then
		s=${MADE_SHA[$name]-}
		if [[ -n $s && -n ${STORED_SHA[$s]-} ]]; then
			in=${STORED_SHA[$s]}
		else
			echo "conformance: skipped $name [$args]: input not in the corpus" >&2
			SKIPPED+=("$i")
			return
		fi
	fi
	RAN[$i]=1
	printf -v id 'r%04d' "$i"
	out=$outdir/$id.out
	is_text=0
	[[ $name == *.bin ]] && is_text=1 # binary in -> CSV out

	# Expected result.
	kind=${IMPROVE[$key]-}
	exp_code=$code exp_file= exp_sha= ref_err=${M_err[i]} self_args=
	exp_out=${M_out[i]} exp_sha=${M_sha[i]}
	case $kind in
	'') ;;
	like:*)
		j=${ROW["$name"$'\t'"${kind#like:}"]-}
		if [[ -n $j ]]; then
			exp_code=${M_code[j]} exp_out=${M_out[j]} exp_sha=${M_sha[j]} ref_err=${M_err[j]}
		else
			exp_code=0 exp_out=- exp_sha=- self_args=${kind#like:}
		fi ;;
	empty-table) exp_code=0 exp_out=- exp_sha=- exp_file=$tmp/empty-table.csv ;;
	round-trip) exp_code=0 exp_out=- exp_sha=- ;;
	cut-name) exp_code=0 exp_out=- exp_sha=- exp_file=$tmp/cut-name.csv ;;
	*) echo "conformance: bad improvement kind '$kind'" >&2; exit 2 ;;
	esac
	if [[ $exp_code == 0 && -z $exp_file && $exp_out != - ]]; then
		if [[ -f $exp_out ]]; then
			exp_file=$exp_out
		else
			exp_file=${STORED_SHA[$exp_sha]-} # same bytes stored elsewhere
			[[ -n $exp_file ]] && exp_sha=
		fi
	fi
	[[ -n $exp_file ]] && exp_sha=

	map_args "$args" "$in" "$out"
	run_tool "$out" "${ARGV[@]}"
	common_checks "$i"

	if [[ $exp_code == 0 ]]; then
		if ((RC != 0)); then
			ours_said
			fail "$i" "exit status ours $RC, reference 0$REPLY"
		elif [[ ! -f $out ]]; then
			fail "$i" "exit 0 but no output file written"
		elif [[ $kind == cut-name ]] && ! grep -q '\[ptable.name-cut\]' "$errf"; then
			fail "$i" "no ptable.name-cut warning for the name cut inside a UTF-8 character"
		elif [[ $kind == round-trip ]]; then
			map_args "--no-verify IN OUT" "$out" "$outdir/$id.rt"
			run_tool "$outdir/$id.rt" "${ARGV[@]}"
			common_checks "$i"
			if ((RC != 0)); then
				ours_said
				fail "$i" "round trip: re-encoding our CSV with --no-verify failed, exit $RC$REPLY"
			elif [[ ! -f $outdir/$id.rt ]]; then
				fail "$i" "round trip: re-encoding wrote no output"
			else
				add_job "$i" "$outdir/$id.rt" "$in" "" 0 "round trip: re-encoded binary"
			fi
		elif [[ -n $self_args ]]; then
			map_args "$self_args" "$in" "$outdir/$id.self"
			run_tool "$outdir/$id.self" "${ARGV[@]}"
			common_checks "$i"
			if ((RC != 0)); then
				ours_said
				fail "$i" "our own run with [$self_args] failed, exit $RC$REPLY"
			else
				add_job "$i" "$out" "$outdir/$id.self" "" "$is_text" "output vs ours with [$self_args]"
			fi
		else
			add_job "$i" "$out" "$exp_file" "$exp_sha" "$is_text" ""
		fi
	else
		if ((RC == 0)); then
			short "$ref_err"
			fail "$i" "exit status ours 0, reference $exp_code ($REPLY)"
		elif ((RC != 1 && RC != 2 && RC < 128)); then
			ours_said
			fail "$i" "exit status ours $RC, expected 1 or 2 (reference $exp_code)$REPLY"
		fi
		if [[ -e $out ]]; then
			fail "$i" "output file written although the run failed"
		fi
		if ((RC != 0)) && [[ -z $S_err ]]; then
			ours_said
			fail "$i" "no 'gen-partitions: ...error: ...' line on stderr$REPLY"
		fi
	fi
}

# emit_results FD: writes this worker's results as NUL-separated records.
emit_results() {
	local k fd=$1
	for k in "${!RAN[@]}"; do printf 'R\0%s\0' "$k" >&"$fd"; done
	for k in "${SKIPPED[@]}"; do printf 'S\0%s\0' "$k" >&"$fd"; done
	for k in "${!FAILMSG[@]}"; do printf 'F\0%s\0%s\0' "$k" "${FAILMSG[$k]}" >&"$fd"; done
	for k in "${!KNOWN_OUT[@]}"; do printf 'K\0%s\0' "$k" >&"$fd"; done
	for ((k = 0; k < ${#J_row[@]}; k++)); do
		printf 'J\0%s\0%s\0%s\0%s\0%s\0%s\0' "${J_row[k]}" "${J_ours[k]}" \
			"${J_exp[k]}" "${J_sha[k]}" "${J_text[k]}" "${J_what[k]}" >&"$fd"
	done
}

# load_results FILE: merges a worker's records into this shell's arrays.
load_results() {
	local t a b c d e f
	while IFS= read -r -d '' t; do
		case $t in
		R) IFS= read -r -d '' a; RAN[$a]=1 ;;
		S) IFS= read -r -d '' a; SKIPPED+=("$a") ;;
		F) IFS= read -r -d '' a; IFS= read -r -d '' b; fail "$a" "$b" ;;
		K) IFS= read -r -d '' a; KNOWN_OUT[$a]=1 ;;
		J)
			IFS= read -r -d '' a; IFS= read -r -d '' b; IFS= read -r -d '' c
			IFS= read -r -d '' d; IFS= read -r -d '' e; IFS= read -r -d '' f
			add_job "$a" "$b" "$c" "$d" "$e" "$f" ;;
		*) echo "conformance: corrupt worker results in $1" >&2; exit 2 ;;
		esac
	done <"$1"
}

rows=()
for ((i = 0; i < n; i++)); do
	if ((${#filters[@]})); then
		hit=0
		for f in "${filters[@]}"; do [[ ${M_name[i]} == *"$f"* ]] && hit=1; done
		((hit)) || continue
	fi
	rows+=("$i")
done
jobs=${JOBS:-}
if [[ ! $jobs =~ ^[1-9][0-9]*$ ]]; then
	jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || jobs=1
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || jobs=1
	((jobs > 8)) && jobs=8
fi
((jobs > ${#rows[@]})) && jobs=${#rows[@]}
SKIPPED=()
pids=()
for ((w = 0; w < jobs; w++)); do
	(
		errf=$tmp/stderr.$w
		for ((r = w; r < ${#rows[@]}; r += jobs)); do
			run_row "${rows[r]}"
		done
		exec {rfd}>"$tmp/results.$w"
		emit_results "$rfd"
	) &
	pids+=($!)
done
for ((w = 0; w < jobs; w++)); do
	if ! wait "${pids[w]}"; then
		echo "conformance: worker $w failed" >&2
		exit 2
	fi
	load_results "$tmp/results.$w"
done
skipped=${#SKIPPED[@]}

# --- Compare outputs (one sha256sum per 400 files) ------------------------------
declare -A HASH=()
hash_files=()
for ((k = 0; k < ${#J_ours[@]}; k++)); do
	[[ -z ${J_row[k]} ]] && continue
	hash_files+=("${J_ours[k]}")
	[[ -n ${J_exp[k]} ]] && hash_files+=("${J_exp[k]}")
done
for ((s = 0; s < ${#hash_files[@]}; s += 400)); do
	chunk=("${hash_files[@]:s:400}")
	m=0
	while IFS= read -r line; do
		line=${line#\\} # sha256sum escapes odd file names with a leading backslash
		HASH[${chunk[m]}]=${line:0:64}
		((m++))
	done < <(sha256sum -- "${chunk[@]}")
	if ((m != ${#chunk[@]})); then
		echo "conformance: sha256sum failed" >&2
		exit 2
	fi
done

# describe_diff ROW OURS REF IS_TEXT: detail of a content mismatch.
describe_diff() {
	local row=$1 ours=$2 ref=$3 text=$4 pos a b sizes
	if ((text)); then
		D_head="output differs from ${ref#"$tmp/"}"
		D_detail=$(diff -u --label reference --label ours -- "$ref" "$ours" | sed -n '3,22s/^/    /p')
	else
		read -r pos a b < <(cmp -l -- "$ref" "$ours" 2>/dev/null)
		mapfile -t sizes < <(stat -c %s -- "$ref" "$ours")
		if [[ -n ${pos-} ]]; then
			printf -v D_head 'output differs at byte 0x%x (ours %02x, ref %02x)' \
				$((pos - 1)) $((8#$b)) $((8#$a))
		else
			D_head="output differs"
		fi
		if [[ ${sizes[0]} != "${sizes[1]}" ]]; then
			D_head+=", size ours ${sizes[1]}, ref ${sizes[0]}"
		fi
		D_detail=
	fi
}

declare -A DETAIL=()
for ((k = 0; k < ${#J_ours[@]}; k++)); do
	row=${J_row[k]}
	[[ -z $row ]] && continue
	ours=${J_ours[k]} exp=${J_exp[k]} sha=${J_sha[k]}
	have=${HASH[$ours]}
	if [[ -n $exp ]]; then
		want=${HASH[$exp]}
	else
		want=$sha
	fi
	[[ $have == "$want" ]] && continue
	ref=$exp
	[[ -z $ref ]] && ref=${STORED_SHA[$want]-}
	prefix=${J_what[k]}
	[[ -n $prefix ]] && prefix="$prefix: "
	if [[ -n $ref ]]; then
		describe_diff "$row" "$ours" "$ref" "${J_text[k]}"
		fail "$row" "$prefix$D_head"
		[[ -n $D_detail ]] && DETAIL[$row]+=$D_detail$'\n'
	else
		fail "$row" "${prefix}sha256 differs (ours ${have:0:16}, ref ${want:0:16})"
	fi
done

# --- Files left behind (temporary files of the atomic write, outputs of failed runs)
shopt -s dotglob nullglob
stray=0
for p in "$outdir"/*; do
	[[ -n ${KNOWN_OUT[$p]-} ]] && continue
	base=${p##*/}
	if [[ $base =~ (r[0-9]{4}) ]]; then
		row=$((10#${BASH_REMATCH[1]#r}))
		fail "$row" "stray file '$base' left in the output directory"
	else
		echo "FAIL (output directory): stray file '$base' left behind"
		((stray++))
	fi
done
shopt -u dotglob nullglob

# --- Report -----------------------------------------------------------------------
for ((i = 0; i < n; i++)); do
	[[ -n ${RAN[$i]-} ]] || continue
	if [[ -n ${FAILMSG[$i]-} ]]; then
		echo "FAIL ${M_name[i]} [${M_args[i]}]: ${FAILMSG[$i]}"
		[[ -n ${DETAIL[$i]-} ]] && printf '%s' "${DETAIL[$i]}"
		why=${IMPROVE_WHY["${M_name[i]}"$'\t'"${M_args[i]}"]-}
		[[ -n $why ]] && echo "    (documented improvement: $why)"
		((failed++))
	else
		((passed++))
	fi
done
((failed += stray))
summary="$passed passed, $failed failed"
((skipped)) && summary+=", $skipped skipped"
echo "$summary"
((failed == 0))
