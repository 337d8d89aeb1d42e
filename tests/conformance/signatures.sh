#!/usr/bin/env bash
# tests/conformance/signatures.sh - esp-sign and esp-verify against
# espsecure 5.3.1's verdicts and outputs in the reference corpus (issue 5,
# acceptance items 1, 4 and 5).
#
#   verify    every row of expected/verify_signature_index.tsv:
#             `esp-verify --secure-boot vN --key KEY FILE` exits 0 exactly
#             when espsecure 5.3.1 did (exit_v5 0), never 3 or a crash;
#   sign      every gen/sign_v2_*.bin, re-made from the command in
#             expected/gen/NAME.gen.txt (same input, same keys, --append
#             when it had --append_signatures): exit 0, the same size,
#             everything before the last 4096 bytes byte-identical to the
#             corpus file, kept blocks byte-identical, the sector's unused
#             bytes 0xff; the result verifies with esp-verify --key and the
#             public half of each signing key, and fails with another key of
#             the same type; esp-imginfo reports the blocks' key digests in
#             the order of the keys, and esp-verify --key-digest accepts
#             the digest file esp-sign --digest -o writes for each key;
#             gen/sign_v1_esp32.bin (--v1, deterministic) byte-identical
#             as a whole;
#   own       corpus images signed with our tests/keys (RSA-3072, P-192,
#             P-256, P-384; three keys at once; --append chains up to three
#             blocks, a fourth refused with nothing written and the input
#             unchanged; -o - to standard output; -o naming IN, nothing
#             left beside it): verified as above, the --format json
#             summary's blocks, key digests and sizes right;
#   digest    `esp-sign --digest` of every PEM key of keys/ (and of
#             tests/keys): byte-identical to the corpus digest files
#             (gen/pubkey_digest_*.bin by their .gen.txt, each
#             keys/*public_key_digest*.bin to some corpus key), with -o
#             identical to the printed one, and equal to the digest
#             esp-imginfo and esp-verify report for every block that key
#             signed;
#   key mode  a private key copied with mode 0644, 0640 or 0604 gives the
#             key.permissions warning (none at 0600, none for a public key,
#             none with -q);
#   espsecure when ESPSECURE is set (a command, e.g. /work/ref/espsecure5):
#             `espsecure verify-signature` accepts every file signed above
#             with each signing key's public half and rejects it with
#             another key; `espsecure digest-sbv2-public-key` writes the same
#             32 bytes as `esp-sign --digest -o` for every key; one line
#             counts these agreements.  Without ESPSECURE one line says
#             these checks are skipped.
#   always    no crash (exit >= 3 or a signal), no sanitizer report.
#
# Usage: tests/conformance/signatures.sh [--keep] [SUBSTRING...]
#   SUBSTRING  only the checks whose name contains one of them
#   --keep     keep the temporary directory (its path is printed on stderr)
# Environment: BUILD (default build; relative to the repository root),
#   CORPUS (default: <repo>/../shared/corpus), ESPSECURE (see above).
# Output: one "FAIL <check>: <what>" line per failing check, then
#   "N passed, N failed[, N skipped]".  Without the corpus, or before
#   esp-sign is built, one "conformance: ..., skipped" line first; before
#   esp-verify is built, one line says its checks are skipped.
# Exit status: 0 when nothing failed, 1 when something failed, 2 when the
#   runner itself could not run.
set -u
set -o pipefail

. "${BASH_SOURCE[0]%/*}/../lib.sh"
espimg_clean_env ${ESPSECURE:+"ESPSECURE=$ESPSECURE"} -- "$@"

# --- Locations ----------------------------------------------------------------
espimg_locate esp-sign
idir=$corpus/images
sign=$tool
verify=$build/bin/esp-verify
imginfo=$build/bin/esp-imginfo
keys=$repo/tests/keys
espsecure=${ESPSECURE:-}
export -n ESPSECURE 2>/dev/null

espimg_runner_args "$@"

if [[ ! -d $idir/expected ]]; then
	echo "conformance: corpus not found at $idir, skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
for t in python3 openssl cmp; do
	if ! command -v "$t" >/dev/null; then
		echo "conformance: $t not found (scripts/deps.sh test)" >&2
		exit 2
	fi
done
if [[ ! -x $sign ]]; then
	echo "conformance: $sign not built yet, skipped"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
have_verify=0
if [[ -x $verify ]]; then
	have_verify=1
else
	echo "conformance: $verify not built yet: its checks are skipped"
fi
if [[ -n $espsecure ]]; then
	# A command, possibly with arguments: split on blanks.
	read -r -a espsecure_cmd <<<"$espsecure"
	if ! "${espsecure_cmd[@]}" --help >/dev/null 2>&1; then
		echo "conformance: ESPSECURE='$espsecure' does not run" >&2
		exit 2
	fi
else
	echo "conformance: ESPSECURE not set: the espsecure checks (verify-signature, digest-sbv2-public-key) are skipped"
fi

espimg_tmpdir espimg-conf-sig

passed=0 failed=0 skipped=0
es_digest=0 es_accept=0 es_reject=0 # espsecure's agreements, for the record

n=0
# newid: a fresh scratch name in $id.
newid() {
	((n++))
	id=$tmp/c$n
}

# --- Keys: type and digest of every key -------------------------------------
# ktype[K], kdig[K] (hex) for every PEM key of keys/ and tests/keys (K is
# the path); kpub[K] its public half (openssl pkey -pubout).
declare -A ktype kdig kpub
corpus_keys=() our_keys=()
shopt -s nullglob
for k in "$idir"/keys/*.pem; do corpus_keys+=("$k"); done
for k in "$keys"/*.pem; do our_keys+=("$k"); done
shopt -u nullglob

# digest_json FILE: "TYPE HEX" from an espimg.sign/1 digest document.
digest_json() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = d["keys"][0]
print(k["type"], k["digest"])' "$1" 2>/dev/null
}

for k in "${corpus_keys[@]}" "${our_keys[@]}"; do
	newid
	run "$id" "$sign" --digest "$k" --format json
	if ((rc == 0)); then
		read -r t d < <(digest_json "$id.out")
		ktype[$k]=$t kdig[$k]=$d
	fi
	if openssl pkey -in "$k" -pubout -out "$id.pub.pem" -passin pass:test 2>/dev/null; then
		kpub[$k]=$id.pub.pem
	fi
done

# other_key K [SIGNER...]: prints a key of K's type whose digest is none of
# the SIGNERs' (K's when none given), public when there is one, for "fails
# with another key".
other_key() {
	local k=$1 c s hit
	shift
	(($#)) || set -- "$k"
	for c in "${our_keys[@]}" "${corpus_keys[@]}"; do
		[[ ${ktype[$c]-} == "${ktype[$k]-x}" ]] || continue
		hit=0
		for s in "$@"; do
			[[ ${kdig[$c]} == "${kdig[$s]-}" ]] && hit=1
		done
		((hit)) && continue
		echo "${kpub[$c]:-$c}"
		return 0
	done
	return 1
}

# --- digest: esp-sign --digest against the corpus and espsecure -------------
expected_digest=()   # "KEYPATH DIGESTFILE" from gen/pubkey_digest_*.gen.txt
shopt -s nullglob
for g in "$idir"/expected/gen/pubkey_digest_*.bin.gen.txt; do
	read -r -a w <"$g"
	k= o=
	for ((i = 0; i < ${#w[@]}; i++)); do
		case ${w[i]} in
		--keyfile) k=${w[i + 1]} ;;
		-o) o=${w[i + 1]} ;;
		esac
	done
	[[ -n $k && -n $o ]] && expected_digest+=("$idir/$k $idir/$o")
done
shopt -u nullglob

for k in "${corpus_keys[@]}" "${our_keys[@]}"; do
	name=digest:${k##*/}
	selected "$name" || continue
	fails=()
	newid
	base=${k##*/}
	run "$id.text" "$sign" --digest "$k"
	trc=$rc
	c=$(crashed "--digest" "$rc" "$id.text.err")
	[[ -n $c ]] && fails+=("$c")
	case $base in
	ed25519* | secp256k1* | rsa2048* | encrypted*)
		# Keys Secure Boot v2 cannot use: refused, nothing printed.
		((trc == 1)) || fails+=("--digest of an unusable key: exit $trc, want 1")
		[[ -s $id.text.out ]] && fails+=("--digest of an unusable key printed: $(head -n1 "$id.text.out")")
		grep -qE '^esp-sign: .*: error: .*\[key\.[a-z_]+\]$' "$id.text.err" ||
			fails+=("--digest of an unusable key: no key.* error line: $(head -n1 "$id.text.err")")
		result "$name" "${fails[@]}"
		continue
		;;
	esac
	if ((trc != 0)) || [[ -z ${kdig[$k]-} ]]; then
		fails+=("--digest exit $trc: $(head -n1 "$id.text.err")")
		result "$name" "${fails[@]}"
		continue
	fi
	want="${kdig[$k]}  $k"
	[[ $(<"$id.text.out") == "$want" ]] || fails+=("text output '$(head -n1 "$id.text.out")', want '$want'")
	run "$id.bin" "$sign" -q --digest "$k" -o "$id.dig"
	if ((rc != 0)) || [[ ! -f $id.dig ]]; then
		fails+=("--digest -o: exit $rc, $(head -n1 "$id.bin.err")")
	else
		d=$(od -An -tx1 -v "$id.dig" | tr -d ' \n')
		[[ $d == "${kdig[$k]}" ]] || fails+=("-o wrote $d, printed ${kdig[$k]}")
		[[ -s $id.bin.out ]] && fails+=("-q printed something")
		for e in "${expected_digest[@]}"; do
			[[ ${e%% *} == "$k" ]] || continue
			cmp -s "$id.dig" "${e#* }" || fails+=("differs from ${e#"$idir/"}")
		done
		if [[ -n $espsecure ]]; then
			run "$id.ref" "${espsecure_cmd[@]}" digest-sbv2-public-key --keyfile "$k" -o "$id.ref.dig"
			if ((rc != 0)); then
				fails+=("espsecure digest-sbv2-public-key exit $rc: $(tail -n1 "$id.ref.err")")
			elif ! cmp -s "$id.dig" "$id.ref.dig"; then
				fails+=("differs from espsecure digest-sbv2-public-key: $(od -An -tx1 -v "$id.ref.dig" | tr -d ' \n')")
			else
				((es_digest++))
			fi
		fi
	fi
	result "$name" "${fails[@]}"
done

# Each keys/*public_key_digest*.bin is the digest of some corpus key.
shopt -s nullglob
for f in "$idir"/keys/*public_key_digest*.bin; do
	name=digest-file:${f#"$idir/"}
	selected "$name" || continue
	d=$(od -An -tx1 -v "$f" | tr -d ' \n')
	hit=
	for k in "${corpus_keys[@]}"; do
		[[ ${kdig[$k]-} == "$d" ]] && hit=$k
	done
	if [[ -n $hit ]]; then
		result "$name"
	else
		result "$name" "no corpus key has the digest $d"
	fi
done
shopt -u nullglob

# block_digests FILE: the key digests esp-imginfo reports for FILE's
# signature blocks, one per line, in block order.
block_digests() {
	"$imginfo" --format json "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for im in d.get("images") or []:
    for b in ((im.get("signatures") or {}).get("blocks")) or []:
        print(b.get("key_digest"))'
}

# verify_digests FILE KEY: the key digests esp-verify --format json reports
# for FILE's signature checks.
verify_digests() {
	"$verify" --format json --key "$2" "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for f in d.get("files") or []:
    for c in f.get("checks") or []:
        if c.get("check") == "signature" and c.get("key_digest"):
            print(c["key_digest"])'
}

# Every block a corpus key signed (rows of the index where espsecure
# verified a v2 signature) carries that key's digest.
index=$idir/expected/verify_signature_index.tsv
while IFS=$'\t' read -r file ver key _ rc5; do
	[[ $file == file || $ver != 2 || $rc5 != 0 ]] && continue
	name=digest-block:$file:${key##*/}
	selected "$name" || continue
	k=$idir/$key
	fails=()
	d=${kdig[$k]-}
	if [[ -z $d ]]; then
		result "$name" "no digest for $key"
		continue
	fi
	grep -qx "$d" <(block_digests "$idir/$file") ||
		fails+=("esp-imginfo reports no block with the key digest $d")
	if ((have_verify)); then
		grep -qx "$d" <(verify_digests "$idir/$file" "$k") ||
			fails+=("esp-verify reports no signature with the key digest $d")
	fi
	result "$name" "${fails[@]}"
done <"$index"

# --- verify: esp-verify against espsecure's exit codes -----------------------
nverify=0
while IFS=$'\t' read -r file ver key _ rc5; do
	[[ $file == file ]] && continue
	name=verify:$file:${key##*/}
	selected "$name" || continue
	((nverify++))
	((have_verify)) || continue
	newid
	run "$id" "$verify" --secure-boot "v$ver" --key "$idir/$key" "$idir/$file"
	fails=()
	c=$(crashed esp-verify "$rc" "$id.err")
	[[ -n $c ]] && fails+=("$c")
	if ((rc5 == 0 && rc != 0)); then
		fails+=("exit $rc, espsecure 5.3.1 accepts it: $(grep -m1 FAIL "$id.out")")
	elif ((rc5 != 0 && rc == 0)); then
		fails+=("exit 0, espsecure 5.3.1 exits $rc5")
	fi
	result "$name" "${fails[@]}"
done <"$index"
if ((!have_verify)); then
	((skipped += nverify))
fi

# --- sign: re-making the corpus's signed files ---------------------------------
# check_signed NAME OUT KEY...: OUT verifies with each KEY's public half and
# fails with another key (esp-verify; espsecure when set); esp-imginfo's
# block key digests end with the KEYs' digests in order.  V1=1 for v1.
# Appends to fails[].
check_signed() {
	local name=$1 out=$2 k pub other i v=2 want got
	shift 2
	((V1)) && v=1
	for k in "$@"; do
		pub=${kpub[$k]:-$k}
		other=$(other_key "$k" "$@") || other=
		if ((have_verify)); then
			run "$out.v" "$verify" --secure-boot "v$v" --key "$pub" "$out"
			((rc == 0)) || fails+=("esp-verify --key ${k##*/} (public half): exit $rc: $(grep -m1 FAIL "$out.v.out")")
			c=$(crashed esp-verify "$rc" "$out.v.err")
			[[ -n $c ]] && fails+=("$c")
			if [[ -n $other ]]; then
				run "$out.vx" "$verify" --secure-boot "v$v" --key "$other" "$out"
				((rc == 1)) || fails+=("esp-verify with another key (${other##*/}): exit $rc, want 1")
			fi
			# The 32-byte digest file esp-sign writes is what
			# esp-verify --key-digest trusts.
			if ((!V1)); then
				run "$out.d" "$sign" -q --digest "$k" -o "$out.dig"
				run "$out.vd" "$verify" --key-digest "$out.dig" "$out"
				((rc == 0)) || fails+=("esp-verify --key-digest (esp-sign --digest -o of ${k##*/}): exit $rc: $(grep -m1 FAIL "$out.vd.out")")
			fi
		fi
		if [[ -n $espsecure ]]; then
			run "$out.r" "${espsecure_cmd[@]}" verify-signature --version "$v" --keyfile "$pub" "$out"
			if ((rc == 0)); then
				((es_accept++))
			else
				fails+=("espsecure verify-signature --keyfile ${k##*/} (public half): exit $rc: $(tail -n1 "$out.r.err")")
			fi
			if [[ -n $other ]]; then
				run "$out.rx" "${espsecure_cmd[@]}" verify-signature --version "$v" --keyfile "$other" "$out"
				if ((rc != 0)); then
					((es_reject++))
				else
					fails+=("espsecure verify-signature accepts another key (${other##*/})")
				fi
			fi
		fi
	done
	((V1)) && return
	want=
	for k in "$@"; do want+="${kdig[$k]-?}"$'\n'; done
	got=$(block_digests "$out" | tail -n "$#")$'\n'
	[[ $got == "$want" ]] || fails+=("esp-imginfo block key digests $(echo $got), want $(echo $want)")
}

# sector_rest OUT NBLOCKS: whether the sector after NBLOCKS blocks is 0xff.
sector_rest() {
	python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
s = b[-4096:][int(sys.argv[2]) * 1216:]
sys.exit(0 if s == b"\xff" * len(s) else 1)' "$1" "$2"
}

shopt -s nullglob
gens=("$idir"/expected/gen/sign_v*.bin.gen.txt)
shopt -u nullglob
for g in "${gens[@]}"; do
	gname=${g##*/}
	gname=${gname%.gen.txt}
	name=sign:gen/$gname
	selected "$name" || continue
	read -r -a w <"$g"
	ver= append=0 out= input= ks=()
	for ((i = 2; i < ${#w[@]}; i++)); do
		case ${w[i]} in
		sign_data) ;;
		--version) ver=${w[++i]} ;;
		--append_signatures | --append-signatures) append=1 ;;
		--keyfile | -k)
			while ((i + 1 < ${#w[@]})) && [[ ${w[i + 1]} != -* ]] && ((i + 2 < ${#w[@]})); do
				ks+=("$idir/${w[++i]}")
			done ;;
		-o | --output) out=${w[++i]} ;;
		*) input=${w[i]} ;;
		esac
	done
	fails=()
	ref=$idir/gen/$gname
	if [[ -z $ver || -z $input || ${#ks[@]} -eq 0 || ! -f $ref ]]; then
		result "$name" "cannot read the command in ${g#"$idir/"}"
		continue
	fi
	newid
	args=()
	for k in "${ks[@]}"; do args+=(--key "$k"); done
	((append)) && args+=(--append)
	V1=0
	[[ $ver == 1 ]] && V1=1 && args+=(--v1)
	run "$id" "$sign" "${args[@]}" --format json -o "$id.bin" "$idir/$input"
	c=$(crashed esp-sign "$rc" "$id.err")
	[[ -n $c ]] && fails+=("$c")
	if ((rc != 0)) || [[ ! -f $id.bin ]]; then
		result "$name" "esp-sign exit $rc: $(head -n1 "$id.err")"
		continue
	fi
	size=$(stat -c %s "$id.bin") rsize=$(stat -c %s "$ref")
	if ((V1)); then
		cmp -s "$id.bin" "$ref" || fails+=("differs from the corpus file (Secure Boot v1 signing is deterministic)")
	elif ((size != rsize)); then
		fails+=("$size bytes, the corpus file $rsize")
	else
		cmp -s -n $((size - 4096)) "$id.bin" "$ref" ||
			fails+=("the bytes before the signature sector differ from the corpus file's")
		kept=0
		if ((append)); then
			kept=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["blocks_kept"])' "$id.out" 2>/dev/null) || kept=0
			((kept > 0)) || fails+=("--append kept no block")
			cmp -s -n $((kept * 1216)) -i $((size - 4096)):$((rsize - 4096)) "$id.bin" "$ref" ||
				fails+=("the $kept kept blocks differ from the corpus file's")
		fi
		sector_rest "$id.bin" $((kept + ${#ks[@]})) ||
			fails+=("the signature sector after its blocks is not all 0xff")
	fi
	check_signed "$name" "$id.bin" "${ks[@]}"
	result "$name" "${fails[@]}"
done

# --- own: corpus images signed with our keys --------------------------------
unaligned=$idir/espressif__esp-serial-flasher__HW_ESP32_C3_hello_world.bin
aligned=$idir/gen/elf2image_esp32-app-template_securepad2.bin
# summary_check JSONFILE IN KEPT KEY...: the espimg.sign/1 summary.
summary_check() {
	local js=$1 in=$2 kept=$3 k want=
	shift 3
	for k in "$@"; do want+=" ${kdig[$k]-?}"; done
	python3 - "$js" "$in" "$kept" "$want" <<'PY' || fails+=("$(cat "$js.why")")
import json, os, sys
js, inp, kept, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split()
why = []
try:
    d = json.load(open(js))
except ValueError as e:
    d = {}
    why.append('summary is not JSON: %s' % e)
size = os.path.getsize(inp)
if d:
    if d.get('schema') != 'espimg.sign/1' or d.get('operation') != 'sign':
        why.append('schema/operation %r/%r' % (d.get('schema'), d.get('operation')))
    if d.get('input_size') != size:
        why.append('input_size %r, want %d' % (d.get('input_size'), size))
    data = size - 4096 if kept else size
    pad = (-data) % 4096
    for k, v in (('data_size', data), ('padding', pad), ('signed_size', data + pad),
                 ('output_size', data + pad + 4096), ('blocks_kept', kept),
                 ('blocks_added', len(want))):
        if d.get(k) != v:
            why.append('%s %r, want %d' % (k, d.get(k), v))
    blocks = d.get('blocks') or []
    if [b.get('origin') for b in blocks] != ['kept'] * kept + ['added'] * len(want):
        why.append('block origins %r' % [b.get('origin') for b in blocks])
    if [b.get('key_digest') for b in blocks[kept:]] != want:
        why.append('added blocks key digests %r, want %r' % (
            [b.get('key_digest') for b in blocks[kept:]], want))
    if [b.get('offset') for b in blocks] != [data + pad + 1216 * i for i in range(len(blocks))]:
        why.append('block offsets %r' % [b.get('offset') for b in blocks])
open(js + '.why', 'w').write('; '.join(why))
sys.exit(1 if why else 0)
PY
}

V1=0
for k in rsa3072 p192 p256 p384; do
	for in in "$unaligned" "$aligned"; do
		name=own:$k:${in##*/}
		selected "$name" || continue
		fails=()
		newid
		run "$id" "$sign" --format json --key "$keys/$k.pem" -o "$id.bin" "$in"
		c=$(crashed esp-sign "$rc" "$id.err")
		[[ -n $c ]] && fails+=("$c")
		if ((rc != 0)); then
			result "$name" "esp-sign exit $rc: $(head -n1 "$id.err")"
			continue
		fi
		summary_check "$id.out" "$in" 0 "$keys/$k.pem"
		cmp -s -n "$(stat -c %s "$in")" "$id.bin" "$in" || fails+=("the input is not the start of the output")
		check_signed "$name" "$id.bin" "$keys/$k.pem"
		result "$name" "${fails[@]}"
	done
done

# Three keys at once, and -o - to standard output.
rsa_corpus=$idir/keys/espressif__esptool__test_secure_images_rsa_secure_boot_signing_key.pem
name=own:three-keys
if selected "$name"; then
	fails=()
	newid
	three=("$keys/rsa3072.pem" "$keys/rsa3072-2.pem" "$rsa_corpus")
	{ "$sign" --key "${three[0]}" --key "${three[1]}" --key "${three[2]}" -o - "$unaligned" \
		</dev/null >"$id.bin" 2>"$id.err"; rc=$?; } 2>/dev/null
	c=$(crashed esp-sign "$rc" "$id.err")
	[[ -n $c ]] && fails+=("$c")
	if ((rc != 0)); then
		fails+=("esp-sign -o - exit $rc: $(head -n1 "$id.err")")
	else
		sector_rest "$id.bin" 3 || fails+=("the sector after three blocks is not all 0xff")
		check_signed "$name" "$id.bin" "${three[@]}"
	fi
	result "$name" "${fails[@]}"
fi

# In place: -o naming IN replaces it with the signed file, and leaves no
# temporary file beside it.
name=own:in-place
if selected "$name"; then
	fails=()
	newid
	mkdir -- "$id.d" && cp -- "$unaligned" "$id.d/app.bin" || exit 2
	run "$id" "$sign" -q --key "$keys/p384.pem" -o "$id.d/app.bin" "$id.d/app.bin"
	c=$(crashed esp-sign "$rc" "$id.err")
	[[ -n $c ]] && fails+=("$c")
	[[ $(ls -A "$id.d") == app.bin ]] || fails+=("files beside the output: $(ls -A "$id.d" | tr '\n' ' ')")
	size=$(stat -c %s "$unaligned")
	if ((rc != 0)); then
		fails+=("esp-sign exit $rc: $(head -n1 "$id.err")")
	elif (($(stat -c %s "$id.d/app.bin") != (size + 4095) / 4096 * 4096 + 4096)); then
		fails+=("$(stat -c %s "$id.d/app.bin") bytes after signing $size in place")
	else
		cmp -s -n "$size" "$id.d/app.bin" "$unaligned" || fails+=("the data changed")
		check_signed "$name" "$id.d/app.bin" "$keys/p384.pem"
	fi
	result "$name" "${fails[@]}"
fi

# --append chains: RSA to three blocks, ECDSA P-256 to two; a fourth block
# is refused and nothing is written.
for chain in "rsa3072 rsa3072-2 $rsa_corpus" "p256 p256-2"; do
	read -r -a links <<<"$chain"
	name=own:append:${links[0]}
	selected "$name" || continue
	fails=()
	newid
	prev=$unaligned
	done_keys=()
	for ((i = 0; i < ${#links[@]}; i++)); do
		k=${links[i]}
		[[ $k == /* ]] || k=$keys/$k.pem
		out=$id.$i.bin
		opt=()
		((i > 0)) && opt=(--append)
		run "$id.$i" "$sign" --format json "${opt[@]}" --key "$k" -o "$out" "$prev"
		c=$(crashed esp-sign "$rc" "$id.$i.err")
		[[ -n $c ]] && fails+=("$c")
		if ((rc != 0)); then
			fails+=("block $i: esp-sign exit $rc: $(head -n1 "$id.$i.err")")
			break
		fi
		done_keys+=("$k")
		summary_check "$id.$i.out" "$prev" "$i" "$k"
		if ((i > 0)); then
			size=$(stat -c %s "$out")
			cmp -s -n $((size - 4096 + i * 1216)) "$out" "$prev" ||
				fails+=("block $i: the data and the kept blocks differ from the input's")
		fi
		sector_rest "$out" $((i + 1)) || fails+=("block $i: the sector after the blocks is not all 0xff")
		prev=$out
	done
	if ((${#done_keys[@]} == ${#links[@]})); then
		check_signed "$name" "$prev" "${done_keys[@]}"
		if ((${#links[@]} == 3)); then
			before=$(sha256sum <"$prev")
			run "$id.x" "$sign" --append --key "$keys/rsa3072.pem" -o "$id.x.bin" "$prev"
			((rc == 1)) || fails+=("a fourth block: exit $rc, want 1")
			grep -q 'error: .*\[sign\.too_many\]' "$id.x.err" || fails+=("a fourth block: no sign.too_many error: $(head -n1 "$id.x.err")")
			[[ -e $id.x.bin ]] && fails+=("a fourth block: an output file was written")
			run "$id.y" "$sign" --append --key "$keys/rsa3072.pem" -o "$prev" "$prev"
			((rc == 1)) || fails+=("a fourth block in place: exit $rc, want 1")
			[[ $(sha256sum <"$prev") == "$before" ]] || fails+=("a fourth block in place changed the input")
		fi
	fi
	result "$name" "${fails[@]}"
done

# --- key mode: the permission warning -----------------------------------------
# (not from the corpus, but here rather than in the golden tests: a checkout
# gives the keys whatever mode the umask allows)
for mode in 0644 0640 0604 0600; do
	for what in private public quiet; do
		name=key-mode:$what:$mode
		selected "$name" || continue
		fails=()
		newid
		src=$keys/p256.pem
		[[ $what == public ]] && src=$keys/p256.pub.pem
		cp -- "$src" "$id.pem" && chmod "$mode" "$id.pem" || exit 2
		q=()
		[[ $what == quiet ]] && q=(-q)
		want=
		[[ $what == private && $mode != 0600 ]] &&
			want="esp-sign: warning: $id.pem: private key is readable by others (mode $mode) [key.permissions]"
		run "$id.d" "$sign" "${q[@]}" --digest "$id.pem"
		((rc == 0)) || fails+=("--digest: exit $rc")
		[[ $(<"$id.d.err") == "$want" ]] || fails+=("--digest: stderr '$(head -n1 "$id.d.err")', want '$want'")
		if [[ $what != public ]]; then
			run "$id.s" "$sign" "${q[@]}" --v1 --key "$id.pem" -o "$id.bin" "$unaligned"
			((rc == 0)) || fails+=("--v1 --key: exit $rc")
			[[ $(<"$id.s.err") == "$want" ]] || fails+=("--v1 --key: stderr '$(head -n1 "$id.s.err")', want '$want'")
		fi
		result "$name" "${fails[@]}"
	done
done

# --- not an image: signed all the same, with the sign.not_image warning -----
name=not-image
if selected "$name"; then
	fails=()
	newid
	cp -- "$keys/p256.pem" "$id.pem" && chmod 0600 "$id.pem" || exit 2
	head -c 5000 "$unaligned" >"$id.in" || exit 2 # cut short: no image
	for v in v2 v1; do
		opt=()
		[[ $v == v1 ]] && opt=(--v1)
		run "$id.$v" "$sign" "${opt[@]}" --key "$id.pem" -o "$id.$v.bin" "$id.in"
		((rc == 0)) || fails+=("$v: exit $rc, want 0")
		grep -q 'warning: not a valid image .*\[sign\.not_image\]$' "$id.$v.err" ||
			fails+=("$v: no sign.not_image warning: $(head -n1 "$id.$v.err")")
		[[ -s $id.$v.bin ]] || fails+=("$v: nothing written")
	done
	run "$id.ok" "$sign" --key "$id.pem" -o "$id.ok.bin" "$unaligned"
	grep -q 'sign\.not_image' "$id.ok.err" && fails+=("a valid image got sign.not_image")
	result "$name" "${fails[@]}"
fi

if [[ -n $espsecure ]]; then
	echo "conformance: espsecure agreed: $es_accept signed files accepted with the signing key, $es_reject rejected with another key, $es_digest key digests identical"
fi
if ((skipped)); then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
((failed == 0))
