#!/usr/bin/env bash
# tests/conformance/flashimg.sh - esp-flashimg against esptool merge_bin's
# outputs and the real merged flash images of the corpus, and the primary
# example's factory image (issue 6, acceptance items 1 to 3).
#
#   merge     every gen/merge_* whose command is in expected/gen/NAME.gen.txt:
#             the command turned into the equivalent manifest (images keyed
#             by offset, no table; chip; output format, pad_to_size,
#             target_offset, uf2_chunk_size, uf2_md5; flash mode/freq/size
#             when the command patches the bootloader header), written to
#             the scratch directory with absolute image paths; `esp-flashimg
#             build MANIFEST -o OUT` exits 0 and OUT is byte-identical to
#             the corpus file (raw, Intel HEX and UF2);
#   explain   every real merged image with expected/NAME.layout.txt:
#             `esp-flashimg explain --format json` (schema espimg.flash/1)
#             reports the bootloader at the layout's offset, for the chip
#             esp-imginfo reads there, and says whether that offset is right
#             for the chip (the S3 file with its bootloader at 0x1000 is
#             misplaced: offset_ok false, exit 1); the table at the layout's
#             offset with the same partitions (name, type, subtype, offset,
#             size, in order); for every image header the layout lists in an
#             app partition, the app's project, version and validity as
#             `esp-imginfo --offset OFF --format json` reads them, and no
#             valid app in the app partitions where the layout has none;
#             `boot` equal to what `otadata-set --flash FILE show --format
#             json` predicts (a table without otadata: its factory app);
#             exit 0 when an app boots and the bootloader sits where the ROM
#             looks for it.  A file without a table in its layout: no table
#             reported, boot null, exit 1;
#   example   examples/release-ota-user/run.sh (build, explain, esp-verify,
#             map) into the scratch directory exits 0; on its factory.bin,
#             4 MB: esp-verify exits 0; explain reports the bootloader at
#             0x1000 (offset ok), the partitions of
#             partitions/partitions_ota_user.csv as gen-partitions lists
#             them, the apps run.sh built (versions as esp-imginfo reads the
#             inputs) in ota_0 and ota_1, and boot ota_1, as otadata-set
#             reads the otadata; the bootloader header says DIO, 40m, 4MB;
#             a second build is byte-identical;
#   map       the example's map.svg (of the dump, and `map release.yaml`)
#             parses as XML and its text holds every partition name of the
#             table; headless Chromium renders the dump's map to a PNG of
#             1000x700 pixels, not of one colour (at least 1% of the pixels
#             differ from the most common colour).  Without chromium one line
#             says the rendering is skipped (scripts/deps.sh browser);
#   inplace   (no corpus; issue 6, acceptance item 4) a 64 MB ESP32-S3
#             dump built by `esp-flashimg build` from images synthesised
#             with tests/synth's mkimage (table at fixed offsets, ota_0 at
#             0x10000, data at the end of the flash).  `write DUMP
#             --partition ota_0 APP` and `erase DUMP --partition ota_0`
#             run through: exit 0, the dump is the one built with only
#             ota_0 replaced (APP then 0xff, or all 0xff; computed here),
#             its mode kept, no temporary file left.  Interrupted by
#             SIGINT, SIGTERM and SIGKILL mid-write: once the temporary
#             file .dump.bin.* appears the tool is stopped (SIGSTOP), and
#             when the file is still there once it is stopped (before its
#             rename) the signal is sent and the tool continued: killed by
#             that signal, the dump byte-identical to before, no temporary
#             file left (after SIGKILL one may be: one line says so).  When
#             3 tries never stop it before its rename, one line says so and
#             the dump must still be the old one or the complete new one.
#             Failing, with a 1 MiB file size limit (ulimit -f) and in a
#             directory of mode 555: exit 2, a "cannot write" error, the
#             dump byte-identical, no temporary file.  As root (which
#             ignores the mode) the tool runs under setpriv without
#             CAP_DAC_OVERRIDE; when that is not possible one line says
#             the read-only directory checks are skipped;
#   always    no crash (exit >= 3 or a signal), no sanitizer report.
#
# Usage: tests/conformance/flashimg.sh [--keep] [SUBSTRING...]
#   SUBSTRING  only the checks whose name contains one of them
#   --keep     keep the temporary directory (its path is printed on stderr;
#              the rendered map is map.png there)
# Environment: BUILD (default build; relative to the repository root),
#   CORPUS (default: <repo>/../shared/corpus).
# Output: one "FAIL <check>: <what>" line per failing check, then
#   "N passed, N failed[, N skipped]".  Before esp-flashimg is built one
#   "conformance: ..., skipped" line; without the corpus one line says the
#   corpus checks (merge, explain) are skipped and the example still runs;
#   without $BUILD/tests/mkimage (make synth) one line says the in-place
#   checks are skipped.
# Exit status: 0 when nothing failed, 1 when something failed, 2 when the
#   runner itself could not run.
set -u
set -o pipefail

. "${BASH_SOURCE[0]%/*}/../lib.sh"
espimg_clean_env -- "$@"

# --- Locations ----------------------------------------------------------------
espimg_locate esp-flashimg
idir=$corpus/images
flashimg=$tool
imginfo=$build/bin/esp-imginfo
otaset=$build/bin/otadata-set
verify=$build/bin/esp-verify
genparts=$build/bin/gen-partitions
example=$repo/examples/release-ota-user

espimg_runner_args "$@"

if ! command -v python3 >/dev/null || ! command -v cmp >/dev/null; then
	echo "conformance: python3 or cmp not found (scripts/deps.sh test)" >&2
	exit 2
fi
if [[ ! -x $flashimg ]]; then
	echo "conformance: $flashimg not built yet, skipped"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
for t in "$imginfo" "$otaset" "$verify" "$genparts"; do
	if [[ ! -x $t ]]; then
		echo "conformance: $t not built (make)" >&2
		exit 2
	fi
done
have_corpus=1
if [[ ! -d $idir/expected/gen ]]; then
	have_corpus=0
	echo "conformance: corpus not found at $idir: the merge and explain checks are skipped"
fi

espimg_tmpdir espimg-conf-flashimg

passed=0 failed=0 skipped=0

# check_run WHAT BASE: appends crashed's verdict on the last run to fails[].
check_run() {
	local c
	c=$(crashed "$1" "$rc" "$2.err")
	[[ -n $c ]] && fails+=("$c")
}

n=0
# newid: a fresh scratch name in $id.
newid() {
	((n++))
	id=$tmp/c$n
}

# yq STRING: STRING as a single-quoted YAML scalar.
yq() {
	printf "'%s'" "${1//\'/\'\'}"
}

# first_diff A B: "offset 0x.. of N / M bytes" for two files that differ.
first_diff() {
	local at
	at=$(cmp "$1" "$2" 2>/dev/null | sed -nE 's/.* byte ([0-9]+),.*/\1/p')
	if [[ -n $at ]]; then
		printf 'first difference at byte 0x%x; %d bytes, the corpus file %d' \
			$((at - 1)) "$(stat -c %s "$1")" "$(stat -c %s "$2")"
	else
		printf '%d bytes, the corpus file %d (one is a prefix of the other)' \
			"$(stat -c %s "$1")" "$(stat -c %s "$2")"
	fi
}

# --- merge: esptool merge_bin's outputs from the equivalent manifest ---------
# merge_manifest GENTXT OUT: writes the manifest equivalent to the merge_bin
# command on GENTXT's first line to OUT and sets ref (the corpus output);
# returns 1 with why set when the command holds an option we cannot map.
merge_manifest() {
	local g=$1 m=$2 i chip='' fmt=raw pad='' target='' chunk='' md5='' mode='' freq='' size=''
	local -a w imgs=() flash=()
	read -r -a w <"$g"
	ref='' why=''
	for ((i = 0; i < ${#w[@]}; i++)); do
		case ${w[i]} in
		'$' | esptool.py | esptool | merge_bin | merge-bin) ;;
		--chip | -c) chip=${w[++i]} ;;
		--format | -f) fmt=${w[++i]} ;;
		-o | --output) ref=$idir/${w[++i]} ;;
		--flash_mode | --flash-mode | -fm) mode=${w[++i]} ;;
		--flash_freq | --flash-freq | -ff) freq=${w[++i]} ;;
		--flash_size | --flash-size | -fs) size=${w[++i]} ;;
		--fill-flash-size | --pad-to-size) pad=${w[++i]} ;;
		--target-offset | -t) target=${w[++i]} ;;
		--chunk-size) chunk=${w[++i]} ;;
		--md5-disable) md5=false ;;
		-*)
			why="option ${w[i]} has no manifest equivalent in this runner"
			return 1 ;;
		*)
			if ((i + 1 >= ${#w[@]})); then
				why="offset ${w[i]} without a file"
				return 1
			fi
			imgs+=("${w[i]}" "$idir/${w[i + 1]}")
			((i++)) ;;
		esac
	done
	if [[ -z $chip || -z $ref || ${#imgs[@]} -eq 0 ]]; then
		why="no --chip, -o or image in the command"
		return 1
	fi
	[[ -n $mode && $mode != keep ]] && flash+=("mode: $mode")
	[[ -n $freq && $freq != keep ]] && flash+=("freq: $freq")
	[[ -n $size && $size != keep ]] && flash+=("size: $size")
	{
		echo "# ${g##*/}"
		echo "chip: $chip"
		if ((${#flash[@]})); then
			echo "flash:"
			for i in "${flash[@]}"; do echo "  $i"; done
		fi
		echo "images:"
		for ((i = 0; i < ${#imgs[@]}; i += 2)); do
			echo "  ${imgs[i]}: $(yq "${imgs[i + 1]}")"
		done
		echo "output:"
		echo "  format: $fmt"
		[[ -n $pad ]] && echo "  pad_to_size: $pad"
		[[ -n $target ]] && echo "  target_offset: $target"
		[[ -n $chunk ]] && echo "  uf2_chunk_size: $chunk"
		[[ -n $md5 ]] && echo "  uf2_md5: $md5"
	} >"$m"
	return 0
}

merge_cases=0
if ((have_corpus)); then
	shopt -s nullglob
	gens=("$idir"/expected/gen/merge_*.gen.txt)
	shopt -u nullglob
	for g in "${gens[@]}"; do
		gname=${g##*/}
		gname=${gname%.gen.txt}
		name=merge:gen/$gname
		selected "$name" || continue
		((merge_cases++))
		fails=()
		newid
		if ! merge_manifest "$g" "$id.yaml"; then
			result "$name" "$why"
			continue
		fi
		if [[ ! -f $ref ]]; then
			result "$name" "the corpus output ${ref#"$idir/"} is missing"
			continue
		fi
		run "$id" "$flashimg" build "$id.yaml" -o "$id.bin"
		check_run "esp-flashimg build" "$id"
		if ((rc != 0)); then
			fails+=("esp-flashimg build exit $rc: $(head -n 2 "$id.err" | tr '\n' ' ')")
		elif [[ ! -f $id.bin ]]; then
			fails+=("esp-flashimg build exit 0 but no output file")
		elif ! cmp -s "$id.bin" "$ref"; then
			fails+=("differs from ${ref#"$idir/"}: $(first_diff "$id.bin" "$ref")")
		fi
		result "$name" "${fails[@]}"
	done
	if ((merge_cases == 0)) && ! ((${#filters[@]})); then
		result merge "no expected/gen/merge_*.gen.txt in the corpus"
	fi
fi

# --- explain: the real merged images and their layout scans ------------------
# explain_check NAME FILE LAYOUT BASE: compares BASE.json (explain, exit
# status in BASE.rc) with LAYOUT, BASE.img.OFF.json (esp-imginfo at each
# image header), BASE.ota.json/.ota.rc (otadata-set show); failures on
# stdout, one a line.
explain_check() {
	python3 - "$@" <<'PY'
import json, os, re, sys
name, path, layout, base = sys.argv[1:5]
why = []
def load(p):
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return None
# The layout scan: image headers (offset, chip_id), the table's offset and
# its entries.
headers, table, parts = [], None, []
for line in open(layout):
    m = re.match(r'0x([0-9a-f]+)\s+image header:.*chip_id=(\d+)', line)
    if m:
        headers.append((int(m.group(1), 16), int(m.group(2))))
        continue
    m = re.match(r'0x([0-9a-f]+)\s+partition table:', line)
    if m:
        table = int(m.group(1), 16)
        continue
    m = re.match(r'\s+(\S+)\s+type=0x([0-9a-f]+) subtype=0x([0-9a-f]+) offset=0x([0-9a-f]+) size=0x([0-9a-f]+)', line)
    if m:
        parts.append(dict(name=m.group(1), type=int(m.group(2), 16), subtype=int(m.group(3), 16),
                          offset=int(m.group(4), 16), size=int(m.group(5), 16)))
rc = int(open(base + '.rc').read())
d = load(base + '.json')
if not isinstance(d, dict):
    print('explain --format json (exit %d) printed no JSON object' % rc)
    sys.exit(0)
if d.get('schema') != 'espimg.flash/1':
    why.append('schema %r, want espimg.flash/1' % d.get('schema'))

def imginfo(off):
    j = load('%s.img.%x.json' % (base, off))
    try:
        return j['images'][0]
    except (TypeError, KeyError, IndexError):
        return None

def chip_matches(c, im):
    want = im['chip']
    if isinstance(c, dict):
        return c.get('id') == want['id'] or c.get('key') == want['key']
    return c in (want['key'], want['name'])

boot_off = headers[0][0] if headers and headers[0][0] <= 0x2000 else None
bl = d.get('bootloader')
offset_ok = None
if table is None:
    # Not a whole flash image: no table may be reported, nothing boots.
    pt = d.get('partition_table')
    if isinstance(pt, dict) and pt.get('offset') is not None:
        why.append('partition_table at %r, the layout has none' % pt.get('offset'))
    if d.get('boot') is not None:
        why.append('boot %r, want null (no partition table)' % d.get('boot'))
    if rc != 1:
        why.append('exit %d, want 1 (nothing would boot)' % rc)
    for w in why:
        print(w)
    sys.exit(0)
bim = imginfo(boot_off) if boot_off is not None else None
if not isinstance(bl, dict):
    why.append('bootloader %r, want the one at 0x%x' % (bl, boot_off or 0))
else:
    if bl.get('offset') != boot_off:
        why.append('bootloader offset %r, the layout 0x%x' % (bl.get('offset'), boot_off))
    if bim is None:
        why.append('esp-imginfo --offset 0x%x printed no image' % boot_off)
    else:
        if not chip_matches(d.get('chip'), bim):
            why.append('chip %r, esp-imginfo reads %s at 0x%x' % (d.get('chip'), bim['chip']['key'], boot_off))
        # (a bootloader without esp_bootloader_desc_t is of kind unknown)
        if bim.get('kind') == 'app':
            why.append('esp-imginfo reads an app at 0x%x, not a bootloader' % boot_off)
        # Where the ROM looks: 0x1000 on the ESP32 and ESP32-S2, 0x2000 on
        # the ESP32-P4 and ESP32-C5, 0x0 elsewhere (esptool's
        # BOOTLOADER_FLASH_OFFSET of each chip class).
        want = {'esp32': 0x1000, 'esp32s2': 0x1000, 'esp32p4': 0x2000,
                'esp32c5': 0x2000}.get(bim['chip']['key'], 0)
        offset_ok = boot_off == want
        if bl.get('offset_ok') is not offset_ok:
            why.append('bootloader offset_ok %r at 0x%x for the %s, want %r' % (
                bl.get('offset_ok'), boot_off, bim['chip']['key'], offset_ok))
        if 'expected_offset' in bl and bl['expected_offset'] != want:
            why.append('bootloader expected_offset %r, want 0x%x' % (bl['expected_offset'], want))
pt = d.get('partition_table')
if not isinstance(pt, dict) or pt.get('offset') != table:
    why.append('partition_table %r, the layout has it at 0x%x' % (pt, table))
got = d.get('partitions')
if not isinstance(got, list):
    got = []
    why.append('no partitions list')
# type and subtype are names, with their numbers in type_id and subtype_id.
got = [p if isinstance(p, dict) else {} for p in got]
mine = [(p.get('name'), p.get('type_id'), p.get('subtype_id'), p.get('offset'), p.get('size')) for p in got]
theirs = [(p['name'], p['type'], p['subtype'], p['offset'], p['size']) for p in parts]
if mine != theirs:
    why.append('partitions (name, type_id, subtype_id, offset, size) %s, the layout %s' % (mine, theirs))
for p in got:
    if {0: 'app', 1: 'data'}.get(p.get('type_id'), p.get('type')) != p.get('type'):
        why.append('%s: type %r for type_id %r' % (p.get('name'), p.get('type'), p.get('type_id')))
# Apps: every image header inside an app partition.
heads = {off for off, _ in headers}
apps = 0
for p in got:
    if p.get('type_id') != 0 or not isinstance(p.get('offset'), int):
        continue
    app = p.get('app')
    if p['offset'] in heads:
        apps += 1
        im = imginfo(p['offset'])
        if im is None:
            why.append('%s: esp-imginfo --offset 0x%x printed no image' % (p.get('name'), p['offset']))
            continue
        ad = im.get('app_desc') or {}
        if not isinstance(app, dict):
            why.append('%s: app %r, esp-imginfo reads %s %s' % (p.get('name'), app,
                       ad.get('project_name'), ad.get('version')))
            continue
        # explain gives null for an empty string (or no description at
        # all), esp-imginfo the empty string
        for k, ik in (('project', 'project_name'), ('version', 'version')):
            if app.get(k) != (ad.get(ik) or None):
                why.append('%s: app %s %r, esp-imginfo %r' % (p.get('name'), k, app.get(k), ad.get(ik)))
        if app.get('valid') is not (im.get('status') == 'ok'):
            why.append('%s: app valid %r, esp-imginfo status %r' % (p.get('name'), app.get('valid'), im.get('status')))
    elif isinstance(app, dict) and app.get('valid'):
        why.append('%s: a valid app at 0x%x where the layout finds no image header' % (p.get('name'), p['offset']))
if apps == 0:
    why.append('no app partition holds an image header of the layout')
# What boots: otadata-set's prediction, or the factory app without otadata.
ota_rc = int(open(base + '.ota.rc').read())
ota = load(base + '.ota.json')
has_otadata = any(p['type'] == 1 and p['subtype'] == 0 for p in parts)
if has_otadata:
    if ota_rc != 0 or not isinstance(ota, dict) or 'boot' not in ota:
        why.append('otadata-set show exit %d: no prediction to compare with' % ota_rc)
        want_boot = '?'
    else:
        want_boot = ota['boot']
else:
    f = [p['name'] for p in parts if p['type'] == 0 and p['subtype'] == 0]
    want_boot = f[0] if f else None
if d.get('boot') != want_boot:
    why.append('boot %r, want %r (%s)' % (d.get('boot'), want_boot,
               'otadata-set show' if has_otadata else 'no otadata: the factory app'))
want_rc = 0 if (offset_ok and want_boot is not None) else 1
if rc != want_rc:
    why.append('exit %d, want %d%s' % (rc, want_rc, '' if offset_ok else ' (bootloader at the wrong offset)'))
for w in why:
    print(w)
PY
}

if ((have_corpus)); then
	shopt -s nullglob
	layouts=("$idir"/expected/*.layout.txt)
	shopt -u nullglob
	explained=0 misplaced=0
	for lay in "${layouts[@]}"; do
		file=${lay##*/}
		file=${file%.layout.txt}
		name=explain:$file
		[[ -f $idir/$file ]] || continue
		selected "$name" || continue
		((explained++))
		fails=()
		newid
		run "$id" "$flashimg" explain --format json "$idir/$file"
		check_run "esp-flashimg explain" "$id"
		cp -- "$id.out" "$id.json"
		echo "$rc" >"$id.rc"
		while read -r off; do
			"$imginfo" --format json --offset "0x$off" "$idir/$file" \
				>"$id.img.$(printf '%x' $((16#$off))).json" 2>/dev/null
		done < <(sed -nE 's/^0x([0-9a-f]+) +image header:.*/\1/p' "$lay")
		{ "$otaset" --flash "$idir/$file" show --format json >"$id.ota.json" 2>/dev/null; echo $? >"$id.ota.rc"; } 2>/dev/null
		while IFS= read -r line; do
			fails+=("$line")
		done < <(explain_check "$name" "$idir/$file" "$lay" "$id")
		# The text form says where the bootloader is when it is misplaced.
		if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if (d.get("bootloader") or {}).get("offset_ok") is False else 1)' "$id.json" 2>/dev/null; then
			((misplaced++))
			run "$id.text" "$flashimg" explain "$idir/$file"
			check_run "esp-flashimg explain (text)" "$id.text"
			((rc == 1)) || fails+=("explain (text) of a misplaced bootloader: exit $rc, want 1")
			# A line about the bootloader names where it is, one where
			# it belongs (expected_offset, or the chip's rule).
			while IFS= read -r line; do
				fails+=("explain (text) of a misplaced bootloader: $line")
			done < <(python3 - "$id.json" "$id.text.out" "$id.text.err" <<'PY'
import json, re, sys
bl = json.load(open(sys.argv[1]))["bootloader"]
lines = [l for f in sys.argv[2:] for l in open(f, errors="replace") if "bootloader" in l.lower()]
for what, off in (("where it is", bl.get("offset")), ("where the ROM loads it", bl.get("expected_offset"))):
    if not isinstance(off, int):
        continue
    pat = re.compile(r"\b0x0*%x\b" % off)
    if not any(pat.search(l) for l in lines):
        print("no bootloader line says %s (0x%x)" % (what, off))
PY
)
		fi
		result "$name" "${fails[@]}"
	done
	if ! ((${#filters[@]})); then
		((explained > 0)) || result explain "no expected/*.layout.txt with its image in the corpus"
		((misplaced > 0)) || result explain:misplaced "no corpus file reported with its bootloader at the wrong offset"
	fi
fi

# --- example: examples/release-ota-user --------------------------------------
ex_out=$tmp/example
example_ok=0
name=example:release-ota-user
if selected example || selected map; then
	fails=()
	run "$tmp/example-run" env BUILD="$build" "$example/run.sh" "$ex_out"
	check_run "examples/release-ota-user/run.sh" "$tmp/example-run"
	if ((rc != 0)); then
		fails+=("run.sh exit $rc: $(cat "$tmp/example-run.out" "$tmp/example-run.err" | tail -n 3 | tr '\n' ' ')")
	elif [[ ! -f $ex_out/factory.bin ]]; then
		fails+=("run.sh wrote no factory.bin")
	else
		example_ok=1
	fi
	# The example's table as gen-partitions lists it, for example and map.
	if ! "$genparts" --format json "$repo/partitions/partitions_ota_user.csv" >"$tmp/ex-table.json" 2>/dev/null; then
		fails+=("gen-partitions --format json partitions/partitions_ota_user.csv failed")
		example_ok=0
	fi
	if ((example_ok)) && selected "$name"; then
		f=$ex_out/factory.bin
		(($(stat -c %s "$f") == 4 * 1024 * 1024)) ||
			fails+=("factory.bin is $(stat -c %s "$f") bytes, want 4 MB (pad_to_size: flash)")
		run "$tmp/ex-verify" "$verify" "$f"
		check_run esp-verify "$tmp/ex-verify"
		((rc == 0)) || fails+=("esp-verify factory.bin exit $rc: $(grep -m2 -E 'FAIL|error' "$tmp/ex-verify.out" "$tmp/ex-verify.err" | tr '\n' ' ')")
		run "$tmp/ex-explain" "$flashimg" explain --format json "$f"
		check_run "esp-flashimg explain" "$tmp/ex-explain"
		((rc == 0)) || fails+=("explain factory.bin exit $rc, want 0")
		{ "$otaset" --flash "$f" show --format json >"$tmp/ex-ota.json" 2>/dev/null; } 2>/dev/null
		for v in 1.0.0 1.1.0; do
			"$imginfo" --format json "$example/build/app-$v.bin" >"$tmp/ex-app-$v.json" 2>/dev/null
		done
		"$imginfo" --format json --offset 0x1000 "$f" >"$tmp/ex-boot.json" 2>/dev/null
		while IFS= read -r line; do
			fails+=("$line")
		done < <(python3 - "$tmp" <<'PY'
import json, os, sys
t = sys.argv[1]
def load(n):
    try:
        with open(os.path.join(t, n)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
d = load('ex-explain.out') or {}
table = load('ex-table.json') or {}
ota = load('ex-ota.json') or {}
want = [(p['name'], p['offset'], p['size']) for p in table.get('partitions', [])]
got = [(p.get('name'), p.get('offset'), p.get('size')) for p in d.get('partitions') or []]
if not want:
    print('gen-partitions listed no partitions')
elif got != want:
    print('explain partitions %r, gen-partitions %r' % (got, want))
bl = d.get('bootloader') or {}
if bl.get('offset') != 0x1000 or bl.get('offset_ok') is not True:
    print('bootloader offset %r offset_ok %r, want 0x1000, true' % (bl.get('offset'), bl.get('offset_ok')))
if d.get('boot') != 'ota_1':
    print('explain boot %r, want ota_1 (release.yaml boot: ota_1)' % d.get('boot'))
if ota.get('boot') != 'ota_1':
    print('otadata-set --flash show: boot %r, want ota_1' % ota.get('boot'))
parts = {p.get('name'): p for p in d.get('partitions') or []}
for slot, v in (('ota_0', '1.0.0'), ('ota_1', '1.1.0')):
    src = (load('ex-app-%s.json' % v) or {}).get('images', [{}])[0].get('app_desc') or {}
    app = (parts.get(slot) or {}).get('app') or {}
    if src.get('version') != v:
        print('esp-imginfo reads version %r in app-%s.bin' % (src.get('version'), v))
    if (app.get('project'), app.get('version'), app.get('valid')) != (src.get('project_name'), v, True):
        print('%s: app %r %r valid %r, want %r %r valid true' % (slot, app.get('project'),
              app.get('version'), app.get('valid'), src.get('project_name'), v))
h = ((load('ex-boot.json') or {}).get('images') or [{}])[0].get('header') or {}
if (h.get('flash_mode_name'), h.get('flash_freq'), h.get('flash_size')) != ('DIO', '40m', '4MB'):
    print('bootloader header %r %r %r, want DIO 40m 4MB (release.yaml flash:)' % (
          h.get('flash_mode_name'), h.get('flash_freq'), h.get('flash_size')))
PY
)
		run "$tmp/ex-again" "$flashimg" build "$example/release.yaml" -o "$tmp/factory-again.bin"
		check_run "esp-flashimg build" "$tmp/ex-again"
		if ((rc != 0)); then
			fails+=("a second build exit $rc: $(head -n1 "$tmp/ex-again.err")")
		elif ! cmp -s "$f" "$tmp/factory-again.bin"; then
			fails+=("a second build differs: $(first_diff "$tmp/factory-again.bin" "$f")")
		fi
	fi
	if selected "$name"; then
		result "$name" "${fails[@]}"
	elif ((!example_ok)); then
		result map "${fails[@]}"
	fi
fi

# --- map: the example's SVG, and rendered by headless Chromium ---------------
# svg_names SVG TABLEJSON: every partition name of the table is in the SVG's
# text; failures on stdout.
svg_names() {
	python3 - "$1" "$2" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError) as e:
    print('%s is not well-formed XML: %s' % (sys.argv[1], e))
    sys.exit(0)
if root.tag != '{http://www.w3.org/2000/svg}svg':
    print('the root element is %s, not an SVG svg' % root.tag)
# The whole map within the 1000x700 window the PNG is taken with: the
# declared size (px), else the viewBox, when the SVG has one.
size = []
for k, i in (('width', 2), ('height', 3)):
    v = root.get(k, '')
    if v.endswith('px'):
        v = v[:-2]
    try:
        size.append(float(v))
    except ValueError:
        vb = (root.get('viewBox') or '').replace(',', ' ').split()
        size.append(float(vb[i]) if len(vb) == 4 else 0.0)
if size[0] > 1000 or size[1] > 700:
    print('the map is %gx%g, larger than the 1000x700 window: part of it would be cut' % tuple(size))
text = ' '.join(''.join(el.itertext()) for el in root.iter()
                if el.tag.rsplit('}', 1)[-1] in ('text', 'tspan', 'title'))
names = [p['name'] for p in json.load(open(sys.argv[2]))['partitions']]
missing = [n for n in names if n not in text]
if missing:
    print('partition names missing from the SVG text: %s' % ' '.join(missing))
PY
}

# png_check PNG W H: a valid 8-bit RGB(A) PNG of W x H pixels, not of one
# colour (at least 1% of the pixels differ from the most common one);
# failures on stdout, the colour count on stderr.
png_check() {
	python3 - "$@" <<'PY'
import struct, sys, zlib
path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def fail(msg):
    print(msg)
    sys.exit(0)
try:
    b = open(path, 'rb').read()
except OSError as e:
    fail('cannot read the PNG: %s' % e)
if b[:8] != b'\x89PNG\r\n\x1a\n':
    fail('not a PNG file (it starts %s)' % b[:8].hex())
pos, ihdr, idat = 8, None, []
while pos + 12 <= len(b):
    n, kind = struct.unpack('>I4s', b[pos:pos + 8])
    data = b[pos + 8:pos + 8 + n]
    if len(data) != n or pos + 12 + n > len(b):
        fail('chunk %r cut short' % kind)
    if zlib.crc32(kind + data) != struct.unpack('>I', b[pos + 8 + n:pos + 12 + n])[0]:
        fail('chunk %r: bad CRC' % kind)
    if kind == b'IHDR':
        ihdr = struct.unpack('>IIBBBBB', data)
    elif kind == b'IDAT':
        idat.append(data)
    elif kind == b'IEND':
        break
    pos += 12 + n
if ihdr is None or not idat:
    fail('no IHDR or IDAT chunk')
w, h, depth, ctype, _, _, interlace = ihdr
if (w, h) != (want_w, want_h):
    fail('%dx%d pixels, want %dx%d' % (w, h, want_w, want_h))
if depth != 8 or ctype not in (2, 6) or interlace:
    fail('bit depth %d, colour type %d, interlace %d: not 8-bit RGB(A)' % (depth, ctype, interlace))
bpp = 3 if ctype == 2 else 4
try:
    raw = zlib.decompress(b''.join(idat))
except zlib.error as e:
    fail('pixel data does not inflate: %s' % e)
stride = w * bpp
if len(raw) != h * (stride + 1):
    fail('%d bytes of pixel data, want %d' % (len(raw), h * (stride + 1)))
# Undo the scanline filters (PNG specification, section 9).
prev = bytearray(stride)
counts = {}
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + c) & 255 for a, c in zip(line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            up, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            p = a + up - c
            pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
    elif f != 0:
        fail('row %d: unknown filter type %d' % (y, f))
    for i in range(0, stride, bpp):
        px = bytes(line[i:i + bpp])
        counts[px] = counts.get(px, 0) + 1
    prev = line
other = w * h - max(counts.values())
sys.stderr.write('%d colours, %.1f%% of the pixels differ from the most common one\n' % (
    len(counts), 100.0 * other / (w * h)))
if other * 100 < w * h:
    fail('blank: %d colour(s), only %d pixels differ from the most common colour' % (len(counts), other))
PY
}

name=map:svg
if selected "$name" && ((example_ok)); then
	fails=()
	svg=$ex_out/map.svg
	if [[ ! -s $svg ]]; then
		fails+=("run.sh wrote no map.svg")
	else
		while IFS= read -r line; do fails+=("dump map: $line"); done < <(svg_names "$svg" "$tmp/ex-table.json")
	fi
	run "$tmp/map-manifest" "$flashimg" map "$example/release.yaml" -o "$tmp/map-manifest.svg"
	check_run "esp-flashimg map release.yaml" "$tmp/map-manifest"
	if ((rc != 0)) || [[ ! -s $tmp/map-manifest.svg ]]; then
		fails+=("map release.yaml exit $rc: $(head -n1 "$tmp/map-manifest.err")")
	else
		while IFS= read -r line; do fails+=("manifest map: $line"); done < <(svg_names "$tmp/map-manifest.svg" "$tmp/ex-table.json")
	fi
	result "$name" "${fails[@]}"
fi

name=map:png
if selected "$name" && ((example_ok)) && [[ -s $ex_out/map.svg ]]; then
	if ! command -v chromium >/dev/null; then
		echo "conformance: chromium not found (scripts/deps.sh browser): the map rendering check is skipped"
		((skipped++))
	else
		fails=()
		# A profile and HOME of its own: the clean environment has no HOME.
		mkdir -p -- "$tmp/chromium"
		run "$tmp/chromium-run" env HOME="$tmp/chromium" timeout 120 chromium --headless \
			--disable-gpu --no-sandbox --hide-scrollbars --user-data-dir="$tmp/chromium" \
			--screenshot="$tmp/map.png" --window-size=1000,700 "file://$ex_out/map.svg"
		if ((rc != 0)) || [[ ! -s $tmp/map.png ]]; then
			fails+=("chromium --screenshot exit $rc: $(grep -v -E 'dbus|^$' "$tmp/chromium-run.err" | tail -n 2 | tr '\n' ' ')")
		else
			while IFS= read -r line; do fails+=("$line"); done < <(png_check "$tmp/map.png" 1000 700 2>"$tmp/png.err")
			echo "conformance: the example's map rendered by chromium: $(cat "$tmp/png.err")"
		fi
		result "$name" "${fails[@]}"
	fi
fi

# --- inplace: write and erase in place, interrupted or failing --------------
# No corpus: a 64 MB ESP32-S3 dump built here from synthesised images, with
# a partition table at fixed offsets and data at the end of the flash.
ip=$tmp/inplace
ip_dir=$ip/d
ip_dump=$ip_dir/dump.bin
ip_part=$((0x10000)) ip_size=$((0x100000))
ip_checks=()
for c in write erase; do
	for s in '' :SIGINT :SIGTERM :SIGKILL :file-size-limit :read-only-dir; do
		selected "inplace:$c$s" && ip_checks+=("inplace:$c$s")
	done
done

# ip_setup: the images, the manifest, pristine.bin (the dump as built) and
# the expected results write.bin and erase.bin (ota_0 replaced, computed
# here); failures on stdout.
ip_setup() {
	local mk=$build/tests/mkimage
	mkdir -p -- "$ip_dir" || return
	if ! "$mk" --chip esp32s3 --boot 1 --seg iram,12K -o "$ip/boot.bin" ||
		! "$mk" --chip esp32s3 --app inplace,1.0.0 --seg dram,2K --seg iram,16K --seg irom,96K -o "$ip/app-1.bin" ||
		! "$mk" --chip esp32s3 --app inplace,2.0.0 --seg dram,2K --seg iram,16K --seg irom,160K -o "$ip/app-2.bin"; then
		echo "mkimage failed"
		return
	fi
	python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes(range(256)) * 4096)' "$ip/tail.bin"
	cat >"$ip/table.csv" <<'CSV'
nvs,      data, nvs,    0x9000,   0x4000,
otadata,  data, ota,    0xd000,   0x2000,
phy_init, data, phy,    0xf000,   0x1000,
ota_0,    app,  ota_0,  0x10000,  0x100000,
ota_1,    app,  ota_1,  0x110000, 0x100000,
storage,  data, spiffs, 0x210000, 0x3df0000,
CSV
	cat >"$ip/release.yaml" <<'YAML'
chip: esp32s3
flash: {size: 64MB}
partition_table: {csv: table.csv}
images:
  bootloader: boot.bin
  ota_0: app-1.bin
  0x3f00000: tail.bin
output: {pad_to_size: flash}
YAML
	run "$ip/build" "$flashimg" build "$ip/release.yaml" -o "$ip/pristine.bin"
	if ((rc != 0)); then
		echo "esp-flashimg build of the 64 MB dump exit $rc: $(head -n 2 "$ip/build.err" | tr '\n' ' ')"
		return
	fi
	python3 - "$ip" "$ip_part" "$ip_size" <<'PY'
import os, sys
d, at, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
old = open(os.path.join(d, 'pristine.bin'), 'rb').read()
if len(old) != 64 << 20:
    print('the dump is %d bytes, want 64 MB' % len(old))
    sys.exit(0)
app = open(os.path.join(d, 'app-2.bin'), 'rb').read()
for name, part in (('write', app + b'\xff' * (size - len(app))), ('erase', b'\xff' * size)):
    new = old[:at] + part + old[at + size:]
    if new == old:
        print('%s would not change the dump' % name)
    open(os.path.join(d, name + '.bin'), 'wb').write(new)
PY
}

# ip_args CMD: sets args to CMD's arguments on the dump (write: app-2.bin).
ip_args() {
	args=("$1" "$ip_dump" --partition ota_0)
	[[ $1 == write ]] && args+=("$ip/app-2.bin")
}

# ip_fresh: the dump as built, mode 0640, no temporary file beside it.
ip_fresh() {
	rm -f -- "$ip_dir"/.dump.bin.*
	cp -- "$ip/pristine.bin" "$ip_dump" && chmod 640 "$ip_dump"
}

# ip_leftover: the temporary files left beside the dump, on stdout.
ip_leftover() {
	local f
	for f in "$ip_dir"/.dump.bin.*; do
		[[ -e $f ]] && echo "${f##*/}"
	done
}

# ip_state CMD: "old" when the dump is byte-identical to the one built,
# "new" when to CMD's complete result, else "neither".
ip_state() {
	if cmp -s -- "$ip_dump" "$ip/pristine.bin"; then
		echo old
	elif cmp -s -- "$ip_dump" "$ip/$1.bin"; then
		echo new
	else
		echo neither
	fi
}

# ip_sanitizer BASE: a sanitizer report in BASE.err, appended to fails[].
ip_sanitizer() {
	if grep -qE 'runtime error:|ERROR: [A-Za-z]*Sanitizer' "$1.err"; then
		fails+=("sanitizer report: $(grep -m1 -E 'runtime error:|Sanitizer' "$1.err")")
	fi
}

# stop_midwrite PID: polls for the temporary file beside the dump while PID
# runs; once it appears, stops PID (SIGSTOP) and waits until the kernel
# says it is stopped.  Returns 0 when the temporary file is still there:
# PID is stopped before its rename, mid-write.  Returns 1 when PID ended
# or renamed first.
stop_midwrite() {
	local pid=$1 st end=$((SECONDS + 20))
	local -a t
	while :; do
		t=("$ip_dir"/.dump.bin.*)
		[[ -e ${t[0]} ]] && break
		if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= end)); then
			return 1
		fi
	done
	kill -STOP "$pid" 2>/dev/null || return 1
	while :; do
		read -r st <"/proc/$pid/stat" 2>/dev/null || return 1
		st=${st##*) }
		st=${st%% *}
		[[ $st == [Tt] ]] && break
		if [[ $st == [ZX] ]] || ((SECONDS >= end)); then
			return 1
		fi
	done
	t=("$ip_dir"/.dump.bin.*)
	[[ -e ${t[0]} ]]
}

# ip_interrupt CMD SIG: CMD in place, sent SIG mid-write (3 tries to catch
# it there); failures in fails[].
ip_interrupt() {
	local cmd=$1 sig=$2 caught=0 pid state left signo
	signo=$(kill -l "$sig")
	ip_args "$cmd"
	for _ in 1 2 3; do
		ip_fresh || { fails+=("cannot copy the dump"); return; }
		newid
		# A background job of a script starts with SIGINT ignored; the
		# tool gets it as from a terminal.
		(
			trap - INT
			exec "$flashimg" "${args[@]}"
		) </dev/null >"$id.out" 2>"$id.err" &
		pid=$!
		caught=0
		stop_midwrite "$pid" && caught=1
		kill "-$sig" "$pid" 2>/dev/null
		kill -CONT "$pid" 2>/dev/null
		{ wait "$pid"; rc=$?; } 2>/dev/null
		ip_sanitizer "$id"
		state=$(ip_state "$cmd")
		left=$(ip_leftover)
		if ((caught)); then
			((rc == 128 + signo)) ||
				fails+=("exit $rc, want $((128 + signo)) (killed by $sig): $(head -n 2 "$id.err" | tr '\n' ' ')")
			[[ $state == old ]] ||
				fails+=("interrupted mid-write, the dump is $([[ $state == new ]] && echo "the new one" || echo "neither the old nor the new one"), want byte-identical to before")
		else
			((rc == 0 || rc == 128 + signo)) ||
				fails+=("exit $rc, want 0 or $((128 + signo)): $(head -n 2 "$id.err" | tr '\n' ' ')")
			[[ $state != neither ]] ||
				fails+=("the dump is neither the old nor the new one")
		fi
		if [[ -n $left ]]; then
			if [[ $sig == KILL ]]; then
				echo "conformance: inplace:$cmd:SIG$sig left the temporary file $left beside the dump (allowed: nothing can remove it)"
			else
				fails+=("the temporary file $left was left beside the dump")
			fi
		fi
		((caught)) && break
	done
	((caught)) || echo "conformance: inplace:$cmd:SIG$sig: $cmd never stopped before its rename in 3 tries; checked that the dump is the old or the new one, nothing else"
	ip_fresh
}

# with_fsize KB CMD...: runs CMD with a file size limit of KB KiB.
with_fsize() {
	local kb=$1
	shift
	(
		ulimit -f "$kb" || exit 125
		exec "$@"
	)
}

# ip_failed CMD WHY: the last run of CMD (in $id) failed as a write error
# must: exit 2, the dump unchanged, no temporary file; fails[].
ip_failed() {
	local left
	ip_sanitizer "$id"
	((rc == 2)) || fails+=("$2: exit $rc, want 2: $(head -n 2 "$id.err" | tr '\n' ' ')")
	grep -q 'cannot write' "$id.err" || fails+=("$2: no 'cannot write' error: $(head -n 1 "$id.err")")
	[[ $(ip_state "$1") == old ]] || fails+=("$2: the dump changed")
	left=$(ip_leftover)
	[[ -z $left ]] || fails+=("$2: the temporary file $left was left beside the dump")
}

if ((${#ip_checks[@]})); then
	ip_ok=0
	fails=()
	if [[ ! -x $build/tests/mkimage ]]; then
		echo "conformance: $build/tests/mkimage not built (make synth): the in-place checks are skipped"
		((skipped++))
	else
		while IFS= read -r line; do fails+=("$line"); done < <(ip_setup)
		if ((${#fails[@]})); then
			result inplace:setup "${fails[@]}"
		else
			ip_ok=1
		fi
	fi
	# As root the directory's mode does not stop a write: the tool runs
	# without CAP_DAC_OVERRIDE (setpriv), or the check is skipped.
	ip_ro=()
	if ((ip_ok)); then
		if (($(id -u) == 0)); then
			ip_ro=(setpriv --bounding-set=-dac_override --)
			"${ip_ro[@]}" true 2>/dev/null || ip_ro=(none)
		fi
		chmod 555 "$ip_dir"
		if [[ ${ip_ro[0]-} != none ]] &&
			"${ip_ro[@]}" touch -- "$ip_dir/.probe" 2>/dev/null; then
			ip_ro=(none)
		fi
		chmod 755 "$ip_dir"
		rm -f -- "$ip_dir/.probe"
		if [[ ${ip_ro[0]-} == none && " ${ip_checks[*]} " == *:read-only-dir* ]]; then
			echo "conformance: the dump's directory stays writable after chmod 555 (root, and setpriv cannot drop CAP_DAC_OVERRIDE): the read-only directory checks are skipped"
		fi
	fi
fi
for name in "${ip_checks[@]}"; do
	((ip_ok)) || break
	fails=()
	cmd=${name#inplace:}
	how=${cmd#*:}
	cmd=${cmd%%:*}
	[[ $how == "$cmd" ]] && how=''
	ip_args "$cmd"
	case $how in
	'')
		ip_fresh
		newid
		run "$id" "$flashimg" "${args[@]}"
		check_run "esp-flashimg $cmd" "$id"
		((rc == 0)) || fails+=("exit $rc: $(head -n 2 "$id.err" | tr '\n' ' ')")
		state=$(ip_state "$cmd")
		[[ $state == new ]] ||
			fails+=("the dump is $([[ $state == old ]] && echo "unchanged" || echo "neither the old nor the expected one"), want ota_0 $([[ $cmd == write ]] && echo "holding app-2.bin then 0xff" || echo "all 0xff") and the rest as before")
		mode=$(stat -c %a "$ip_dump")
		[[ $mode == 640 ]] || fails+=("the dump's mode is $mode, was 640")
		left=$(ip_leftover)
		[[ -z $left ]] || fails+=("the temporary file $left was left beside the dump")
		;;
	SIG*)
		ip_interrupt "$cmd" "${how#SIG}" ;;
	file-size-limit)
		ip_fresh
		newid
		# 1 MiB: the 64 MB temporary file cannot be written.
		run "$id" with_fsize 1024 "$flashimg" "${args[@]}"
		ip_failed "$cmd" "ulimit -f 1024" ;;
	read-only-dir)
		if [[ ${ip_ro[0]-} == none ]]; then
			((skipped++))
			continue
		fi
		ip_fresh
		newid
		chmod 555 "$ip_dir"
		run "$id" "${ip_ro[@]}" "$flashimg" "${args[@]}"
		chmod 755 "$ip_dir"
		ip_failed "$cmd" "directory mode 555" ;;
	esac
	result "$name" "${fails[@]}"
done

if ((skipped)); then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
((failed == 0))
