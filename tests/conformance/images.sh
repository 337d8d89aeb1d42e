#!/usr/bin/env bash
# tests/conformance/images.sh - esp-imginfo against esptool 5.3.1 image-info
# over the reference corpus (issue 3).
#
# Cases: every expected/X.image_info_v5.txt of $CORPUS/images (top level,
# gen/, bad/) and every expected/X.image_info_v5.chip_<chip>.txt (run with
# --chip <chip>).  The .txt is esptool's stdout; its first line (the banner)
# is dropped, and in the chip_ files stderr follows a "[stderr]" line.
#
#   esptool exit 0, not ESP8266   `esp-imginfo --format esptool [--chip C] X`
#                 prints the same stdout byte for byte and exits 0, except for
#                 the images listed in REPORTED ERRORS below: those exit 1 and
#                 name exactly the listed error codes on stderr;
#   esptool exit 1/2              we exit 1 with an "offset 0x..: error:" line
#                 on stderr, and stdout is what esptool printed before it
#                 failed;
#   esptool reads ESP8266         (detected, or its fallback for an unknown
#                 chip byte or hash_appended byte): we refuse, exit 1 with an
#                 "offset 0x..: error:" line, and stdout is esptool's up to and
#                 including its "Detected image type: ESP8266" line, where its
#                 ESP8266 parser takes over (--chip esp8266, a chip we do not
#                 have: exit 1 or 2, stdout the start of esptool's);
#   --format json (all cases, batched per --chip value): the values esptool
#                 printed -- chip, entry point, flash parameters, extended
#                 header, segments (address, length as esptool shows it,
#                 header offset, memory types), checksum stored/computed/valid,
#                 SHA-256 computed/valid, app and bootloader description
#                 fields -- equal ours for every image esptool accepts; images
#                 esptool rejects have a status other than "ok";
#   --format yaml and --format text (the same batches, truncations too):
#                 the YAML loads into exactly the JSON's data (types and key
#                 order too); each text block shows the JSON image's values
#                 in the layout of src/lib/image_text.c -- title (file, chip,
#                 kind, size, status), chip line, flash, entry point, pins,
#                 segments (index, load address, length, data offset, memory
#                 types; hex columns of one width), checksum stored/computed/
#                 valid, SHA-256 stored/computed/valid, the app and
#                 bootloader description lines, signatures scheme -- with no
#                 label missing or extra;
#   truncations   three real images cut at every header length 0..24, inside
#                 and after each segment header, inside and at the end of each
#                 segment's data, before, at and after the checksum byte and
#                 inside the digest: exit 0 only when the image is complete,
#                 else exit 1 with an "offset 0x" error line; stdout follows
#                 esptool's behaviour for such cuts (see trunc_model below;
#                 checked against esptool 5.3.1 when written); in JSON the
#                 status agrees;
#   always        no crash (exit >= 3 or a signal), no sanitizer report.
#
# Intel HEX input (gen/merge_c3.hex) is one case: esptool's per-run banners
# are on stdout, its per-run errors on stderr.
#
# Usage: tests/conformance/images.sh [--keep] [SUBSTRING...]
#   SUBSTRING  only the cases whose input path contains one of them
#   --keep     keep the temporary directory (its path is printed on stderr)
# Environment: BUILD (default build; relative to the repository root),
#   CORPUS (default: <repo>/../shared/corpus), JOBS (parallel runs; default:
#   the number of CPUs, at most 8).
# Output: one "FAIL <case>: <what differs>" line per failing check (plus
#   indented diff lines), then "N passed, N failed[, N skipped]".  Without
#   the corpus, or before esp-imginfo has --format esptool, one
#   "conformance: ..., skipped" line first.
# Exit status: 0 when nothing failed, 1 when something failed, 2 when the
#   runner itself could not run.
set -u
set -o pipefail

. "${BASH_SOURCE[0]%/*}/../lib.sh"
espimg_clean_env -- "$@"

# --- Locations ----------------------------------------------------------------
espimg_locate esp-imginfo
idir=$corpus/images

espimg_runner_args "$@"

if [[ ! -d $idir/expected ]]; then
	echo "conformance: corpus not found at $idir, skipped"
	echo "0 passed, 0 failed"
	exit 0
fi
if ! command -v python3 >/dev/null; then
	echo "conformance: python3 not found (scripts/deps.sh test)" >&2
	exit 2
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
	echo "conformance: python3 yaml module not found (scripts/deps.sh test)" >&2
	exit 2
fi
if [[ ! -x $tool ]] || ! "$tool" --help 2>&1 | grep -q 'esptool'; then
	n=$(find "$idir/expected" -name '*.image_info_v5.txt' -o -name '*.image_info_v5.chip_*.txt' | wc -l)
	echo "conformance: $tool not built or without --format esptool yet, skipped"
	echo "0 passed, 0 failed, $n skipped"
	exit 0
fi

espimg_tmpdir espimg-conf-img

# --- REPORTED ERRORS ------------------------------------------------------------
# Images esptool 5.3.1 accepts (exit 0, it only prints "invalid" or a warning)
# in which we report an error, so we exit 1 (contract: any error diagnostic).
# Key: input path relative to the corpus images directory, plus "|CHIP" for a
# --chip case.  Value: the error codes we must print, space-separated, sorted;
# no other error code may appear.  Any accepted image not listed must exit 0.
# (esptool shows the first group as "invalid" and exits 0; the rest are header
# values it prints, or warns about, without complaint.)
sed 's/  */\t/' >"$tmp/reported.tsv" <<'EOF'
# checksum or SHA-256 mismatch, digest cut short
KhiemCE22__Security-on-SoC-ESP32__managed_components_espressif__arduino-esp32_libraries_Update_examples_AWS_S3_OTA_Update_StartCounter.ino.bin image.checksum
bad/bad_checksum.bin image.checksum image.sha256
bad/bad_checksum_sha_fixed.bin image.checksum
bad/bad_sha256.bin image.sha256
bad/flip_mid.bin image.checksum image.sha256
bad/flip_two_same_mask.bin image.sha256
bad/header_patched_no_sha_fix.bin image.sha256
bad/segcount_minus1.bin image.checksum image.sha256
bad/sig_rsa_image_modified.bin image.checksum image.sha256
espressif__esptool__test_images_ram_helloworld_helloworld-esp32_edit.bin image.sha256
bad/trunc_after_checksum.bin image.sha256_truncated
bad/trunc_half_digest.bin image.sha256_truncated
# segment count 0 (the checksum byte then sits at 0x1f, inside the old first
# segment header, so it and the digest mismatch too)
bad/esp32_bootloader_segcount_0.bin image.checksum image.no_segments image.sha256
bad/segcount_0.bin image.checksum image.no_segments image.sha256
# header values: chip id unknown as 16 bits (esptool detects by byte 12),
# entry point 0, undefined flash mode / size / frequency (C6 has no 0xf)
bad/chipid_0x0105.bin image.chip_id
bad/entry_zero.bin image.entry
bad/flash_mode_7.bin image.flash_mode
bad/flash_size_nibble_8.bin image.flash_size
bad/flash_freq_nibble_5.bin image.flash_freq
bad/synthetic_c6_union_drom.bin image.flash_freq
bad/synthetic_c6_union_drom.bin|esp32c6 image.flash_freq
# --chip naming another chip than the header's id (esptool only warns)
bad/chipid_esp32_in_c3.bin|esp32c3 image.chip_mismatch
bad/chipid_s3_in_c3.bin|esp32c3 image.chip_mismatch
bad/chipid_unknown_255.bin|esp32c3 image.chip_mismatch
espressif__esp-serial-flasher__HW_ESP32_C3_hello_world.bin|esp32s3 image.chip_mismatch
espressif__esp-serial-flasher__old_HW_ESP32_H4_hello_world.bin|esp32h2 image.chip_mismatch
EOF

# --- JSON DEVIATIONS --------------------------------------------------------------
# Values where our JSON deliberately differs from what esptool prints
# (../shared/docs/images.md §21).  Key as above, TAB, the field, TAB, why.
cat >"$tmp/json_dev.tsv" <<'EOF'
EOF

# --- Cases and truncations ---------------------------------------------------------
python3 - "$idir" "$tmp" "${filters[@]}" <<'PY' || exit 2
import os, struct, sys

idir, tmp = sys.argv[1:3]
filters = sys.argv[3:]
exp_dir = os.path.join(idir, 'expected')
os.mkdir(os.path.join(tmp, 'trunc'))

cases = []  # (key, input, chip, txt, rc)
for root, dirs, files in os.walk(exp_dir):
    dirs.sort()
    for fn in sorted(files):
        if '.image_info_v5.' not in fn or not fn.endswith('.txt'):
            continue
        base, suffix = fn.split('.image_info_v5.', 1)
        if suffix == 'txt':
            chip = ''
        elif suffix.startswith('chip_'):
            chip = suffix[5:-4]
        else:
            continue
        rel = os.path.relpath(os.path.join(root, base), exp_dir)
        if filters and not any(f in rel for f in filters):
            continue
        txt = os.path.join(root, fn)
        with open(txt[:-4] + '.rc') as f:
            rc = int(f.read().strip())
        key = rel + ('|' + chip if chip else '')
        cases.append((key, os.path.join(idir, rel), chip, txt, rc))

# Truncations: these images, cut where each structure begins and ends.
TRUNC_IMAGES = [
    'espressif__esp-serial-flasher__HW_ESP32_C3_hello_world.bin',  # app, digest, padding segment
    'espressif__esptool__test_images_bootloader_esp32.bin',        # no digest, empty segment
    'gen/sign_v2_rsa_h2_bootloader.bin',                           # digest, SBv2 sector after
]


def cuts(b):
    """Cut lengths of image b, the checksum offset and the complete length."""
    at = set(range(25))
    pos = 24
    for _ in range(b[1]):
        _, length = struct.unpack_from('<II', b, pos)
        at.update({pos + 1, pos + 4, pos + 7, pos + 8})
        if length:
            at.update({pos + 8 + length // 2, pos + 7 + length})
        pos += 8 + length
    ck = pos | 15
    at.update({pos, ck, ck + 1})
    end = ck + 1
    if b[23] == 1:
        at.update({ck + 17, ck + 32, ck + 33})
        end = ck + 33
    if len(b) > end:
        at.add((end + 4095) // 4096 * 4096 + 1)  # inside a signature sector
    return sorted(x for x in at if x < len(b)), ck, end


trunc = []  # (key, path, source image, length, checksum offset, end)
for name in TRUNC_IMAGES:
    if filters and not any(f in name for f in filters):
        continue
    try:
        with open(os.path.join(idir, name), 'rb') as f:
            b = f.read()
    except OSError:
        continue
    lengths, ck, end = cuts(b)
    for n in lengths:
        p = os.path.join(tmp, 'trunc', '%s.%d' % (name.replace('/', '_'), n))
        with open(p, 'wb') as f:
            f.write(b[:n])
        trunc.append(('trunc:%s@%d' % (name, n), p, name, n, ck, end))

with open(os.path.join(tmp, 'cases.tsv'), 'w') as f:
    for c in cases:
        f.write('\t'.join(map(str, c)) + '\n')
with open(os.path.join(tmp, 'trunc.tsv'), 'w') as f:
    for t in trunc:
        f.write('\t'.join(map(str, t)) + '\n')

# The runs: "id<TAB>format<TAB>chip<TAB>file..." (one esptool run per case,
# one JSON, one YAML and one text run per --chip value over every file that
# uses it).
runs = []
batches = {}
for i, (key, inp, chip, txt, rc) in enumerate(cases):
    runs.append(('c%03d' % i, 'esptool', chip, [inp]))
    if chip != 'esp8266':
        batches.setdefault(chip, []).append(inp)
for i, t in enumerate(trunc):
    runs.append(('t%03d' % i, 'esptool', '', [t[1]]))
if trunc:
    batches.setdefault('@trunc', []).extend(t[1] for t in trunc)
for chip, files in sorted(batches.items()):
    # The same files in YAML (y_) and text (x_): checked against the JSON.
    for pre, fmt in (('j_', 'json'), ('y_', 'yaml'), ('x_', 'text')):
        runs.append((pre + (chip.lstrip('@') or 'auto'), fmt,
                     '' if chip.startswith('@') else chip, list(dict.fromkeys(files))))
with open(os.path.join(tmp, 'runs.tsv'), 'w') as f:
    for rid, fmt, chip, files in runs:
        f.write('\t'.join([rid, fmt, chip or '-'] + files) + '\n')
PY

# --- Run the tool -------------------------------------------------------------------
mapfile -t runs <"$tmp/runs.tsv"
jobs=${JOBS:-}
if [[ ! $jobs =~ ^[1-9][0-9]*$ ]]; then
	jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || jobs=1
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || jobs=1
	((jobs > 8)) && jobs=8
fi
((jobs > ${#runs[@]})) && jobs=${#runs[@]}
((jobs < 1)) && jobs=1

run_one() { # run_one LINE
	local id fmt chip args
	IFS=$'\t' read -r -a args <<<"$1"
	id=${args[0]} fmt=${args[1]} chip=${args[2]}
	args=("${args[@]:3}")
	if [[ $chip != - ]]; then
		args=(--chip "$chip" "${args[@]}")
	fi
	# (the braces catch bash's own "Segmentation fault" notice)
	{ "$tool" --format "$fmt" "${args[@]}" </dev/null >"$tmp/$id.out" 2>"$tmp/$id.err"; echo $? >"$tmp/$id.rc"; } 2>/dev/null
}

pids=()
for ((w = 0; w < jobs; w++)); do
	(
		for ((r = w; r < ${#runs[@]}; r += jobs)); do
			run_one "${runs[r]}"
		done
	) &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || { echo "conformance: a worker failed" >&2; exit 2; }
done

# --- Check ----------------------------------------------------------------------------
python3 - "$idir" "$tmp" <<'PY'
import difflib, json, os, re, sys

import yaml

idir, tmp = sys.argv[1:3]

ERR = re.compile(r'^esp-imginfo: .*: offset 0x[0-9a-f]+: error: .* \[([a-z0-9_.]+)\]$', re.M)
ANY_ERR = re.compile(r'^esp-imginfo: (?:.*: )?error: .*?(?: \[([a-z0-9_.]+)\])?$', re.M)
SAN = re.compile(r'runtime error:|ERROR: [A-Za-z]*Sanitizer|SUMMARY: [A-Za-z]*Sanitizer')
# esptool 5.3.1 targets/*.py: IMAGE_CHIP_ID -> CHIP_NAME.
CHIPS = {0: 'ESP32', 2: 'ESP32-S2', 5: 'ESP32-C3', 9: 'ESP32-S3', 12: 'ESP32-C2',
         13: 'ESP32-C6', 16: 'ESP32-H2', 18: 'ESP32-P4', 20: 'ESP32-C61',
         23: 'ESP32-C5', 25: 'ESP32-H21', 28: 'ESP32-H4', 31: 'ESP32-E22',
         32: 'ESP32-S31'}
ESPTOOL_MODES = ['QIO', 'QOUT', 'DIO', 'DOUT']


def read(path, binary=False):
    try:
        with open(path, 'rb') as f:
            b = f.read()
    except OSError:
        return None
    return b if binary else b.decode('utf-8', 'replace')


def table(name):
    rows = {}
    for line in read(os.path.join(tmp, name)).splitlines():
        if line.strip() and not line.startswith('#'):
            k, *rest = line.split('\t')
            rows.setdefault(k, []).append(rest)
    return rows


REPORTED = {k: v[0][0].split() for k, v in table('reported.tsv').items()}
JSON_DEV = {k: {r[0]: r[1] for r in v} for k, v in table('json_dev.tsv').items()}
used_reported, used_dev = set(), set()

passed = failed = 0
out_lines = []


def result(name, fails, detail=''):
    global passed, failed
    if fails:
        failed += 1
        out_lines.append('FAIL %s: %s' % (name, '; '.join(fails[:6]) +
                                         ('; ...' if len(fails) > 6 else '')))
        if detail:
            out_lines.append(detail.rstrip('\n'))
    else:
        passed += 1


def run(rid):
    rc = read(os.path.join(tmp, rid + '.rc'))
    return (int(rc) if rc and rc.strip().lstrip('-').isdigit() else -1,
            read(os.path.join(tmp, rid + '.out'), True) or b'',
            read(os.path.join(tmp, rid + '.err')) or '')


def crash_checks(rc, err, fails):
    if rc < 0 or rc >= 3:
        first = err.strip().splitlines()[:1]
        fails.append('exit %d%s' % (rc, ' (%s)' % first[0][:160] if first else ''))
    m = SAN.search(err)
    if m:
        fails.append('sanitizer report: %s' % err[m.start():].splitlines()[0][:160])


def short_diff(want, got):
    d = difflib.unified_diff(want.decode('utf-8', 'replace').splitlines(),
                             got.decode('utf-8', 'replace').splitlines(),
                             'esptool', 'ours', lineterm='', n=1)
    return ''.join('    %s\n' % l for l in list(d)[2:22])


def expected_stdout(txt):
    """esptool's stdout: the .txt minus the banner, cut at "[stderr]"."""
    b = read(txt, True)
    b = b.split(b'\n', 1)[1] if b'\n' in b else b''
    i = b.find(b'[stderr]\n')
    if i == 0 or (i > 0 and b[i - 1:i] == b'\n'):
        b = b[:i]
    return b


def err_codes(err):
    return sorted(m.group(1) or '?' for m in ANY_ERR.finditer(err))


def esp8266_read(want, chip):
    return chip == 'esp8266' or b'Detected image type: ESP8266\n' in want


# --- esptool format, corpus cases ---------------------------------------------
cases = [l.rstrip('\n').split('\t') for l in open(os.path.join(tmp, 'cases.tsv'))]
for i, (key, inp, chip, txt, ref_rc) in enumerate(cases):
    ref_rc = int(ref_rc)
    rc, out, err = run('c%03d' % i)
    want = expected_stdout(txt)
    fails, detail = [], ''
    crash_checks(rc, err, fails)
    if esp8266_read(want, chip):
        kind = 'esp8266'
    elif ref_rc == 0:
        kind = 'accept'
    else:
        kind = 'reject'
    if kind == 'accept':
        codes = REPORTED.get(key)
        if codes is not None:
            used_reported.add(key)
            if rc != 1:
                fails.append('exit %d, want 1 (we report %s)' % (rc, ' '.join(codes)))
            if err_codes(err) != codes:
                fails.append('error codes %s, want %s' % (' '.join(err_codes(err)) or 'none',
                                                         ' '.join(codes)))
            elif not ERR.search(err):
                fails.append('no "offset 0x..: error:" line on stderr')
        elif rc != 0:
            first = [l for l in err.splitlines() if 'error' in l][:1]
            fails.append('exit %d, esptool 0%s' % (rc, ' (%s)' % first[0][:160] if first else ''))
        if out != want:
            fails.append('stdout differs from esptool')
            detail = short_diff(want, out)
    else:
        if kind == 'esp8266' and chip == 'esp8266':
            if rc not in (1, 2):
                fails.append('exit %d, want 1 or 2 (--chip esp8266)' % rc)
            elif not ANY_ERR.search(err):
                fails.append('no error line on stderr')
        else:
            if rc != 1:
                fails.append('exit %d, want 1 (esptool %s)' % (rc, 'reads ESP8266' if kind == 'esp8266' else 'exit %d' % ref_rc))
            if not ERR.search(err):
                fails.append('no "offset 0x..: error:" line on stderr')
        if kind == 'reject' and out != want:
            fails.append('stdout differs from what esptool printed before failing')
            detail = short_diff(want, out)
        if kind == 'esp8266':
            line = b'Detected image type: ESP8266\n'
            if line in want:  # up to that line, exactly
                head = want[:want.index(line) + len(line)]
                if out != head:
                    fails.append('stdout is not esptool\'s up to its ESP8266 detection')
                    detail = short_diff(head, out)
            elif want[:len(out)] != out or (out and not out.endswith(b'\n')):
                fails.append('stdout is not the start of esptool\'s')
                detail = short_diff(want, out)
    result(key, fails, detail)

for k in sorted(set(REPORTED) - used_reported):
    if any(c[0] == k for c in cases):
        result(k, ['listed in REPORTED ERRORS, but esptool rejects it or reads ESP8266'])

# --- truncations, esptool format -------------------------------------------------------
trunc = [l.rstrip('\n').split('\t') for l in open(os.path.join(tmp, 'trunc.tsv'))]


def trunc_model(b, n, ck, end, full):
    """esptool's exit class and stdout for the first n bytes of image b
    (full: its stdout for the whole file).  A cut inside the first 24 bytes:
    esptool fails on 1..8 bytes before printing, else detects the chip from
    the last byte it got (byte 23 must be 0/1) and byte 12 (0 when absent)
    and fails in the parser; ESP8266 is where we stop.  A cut before the
    checksum byte: the two lines, then a failure.  A cut inside the digest:
    everything, with the digest "invalid"."""
    if n <= 8:
        return 1, b''
    if n < 24:
        name = CHIPS.get(b[12] if n > 12 else 0) if b[n - 1] in (0, 1) else None
        return 1, b'Image size: %d bytes\nDetected image type: %s\n' % (
            n, (name or 'ESP8266').encode())
    if n <= ck:
        return 1, b'Image size: %d bytes\nDetected image type: %s\n' % (n, CHIPS[b[12]].encode())
    lines = full.split(b'\n')
    lines[0] = b'Image size: %d bytes' % n
    if n < end:
        lines = [l.replace(b' (valid)', b' (invalid)') if l.startswith(b'Validation hash: ')
                 else l for l in lines]
        return 1, b'\n'.join(lines)
    return 0, b'\n'.join(lines)


images = {}
for i, (key, path, name, n, ck, end) in enumerate(trunc):
    n, ck, end = int(n), int(ck), int(end)
    if name not in images:
        images[name] = (read(os.path.join(idir, name), True),
                        expected_stdout(os.path.join(idir, 'expected', name + '.image_info_v5.txt')))
    b, full = images[name]
    want_rc, want = trunc_model(b, n, ck, end, full)
    rc, out, err = run('t%03d' % i)
    fails, detail = [], ''
    crash_checks(rc, err, fails)
    if rc != want_rc:
        fails.append('exit %d, want %d' % (rc, want_rc))
    if want_rc and not ERR.search(err):
        fails.append('no "offset 0x..: error:" line on stderr')
    if out != want:
        fails.append('stdout differs from esptool\'s behaviour')
        detail = short_diff(want, out)
    result(key, fails, detail)

# --- JSON ------------------------------------------------------------------------
def scrape(text):
    """The values esptool's image-info text shows, as a dict."""
    v = {'segments': []}
    section = None
    for line in text.split('\n'):
        if re.fullmatch(r'=+', line):
            continue
        m = re.fullmatch(r'(\S+) Image Header', line)
        if m:
            v['chip'] = m.group(1)
            section = 'header'
            continue
        if line in ('Application Information', 'Bootloader Information'):
            section = line.split()[0].lower()
            v[section] = {}
            continue
        if section in ('application', 'bootloader') and ': ' in line:
            k, _, val = line.partition(': ')
            v[section][k] = val
            continue
        m = re.fullmatch(r' *(\d+)  0x([0-9a-f]+)  0x([0-9a-f]{8})  0x([0-9a-f]{8})  (.*)', line)
        if m:
            v['segments'].append((int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16),
                                  int(m.group(4), 16), m.group(5)))
            continue
        pats = [
            (r'Entry point: +0x([0-9a-f]+)', lambda m: ('entry', int(m.group(1), 16))),
            (r'Entry point not set', lambda m: ('entry', 0)),
            (r'Segments: (\d+)', lambda m: ('count', int(m.group(1)))),
            (r'Flash size: (\S+)', lambda m: ('flash_size', m.group(1))),
            (r'Warning: Invalid flash size \(0x([0-9a-f]+)\)', lambda m: ('flash_size_bad', int(m.group(1), 16))),
            (r'Flash freq: (\S+)', lambda m: ('flash_freq', m.group(1))),
            (r'Warning: Invalid flash frequency \(0x([0-9a-f]+)\)', lambda m: ('flash_freq_bad', int(m.group(1), 16))),
            (r'Flash mode: (\S+)', lambda m: ('flash_mode', ESPTOOL_MODES.index(m.group(1)))),
            (r'Warning: Invalid flash mode \((\d+)\)', lambda m: ('flash_mode', int(m.group(1)))),
            (r'WP pin: 0x([0-9a-f]+)( \(disabled\))?', lambda m: ('wp_pin', int(m.group(1), 16))),
            (r'Flash pins drive settings: clk_drv: 0x(\w+), q_drv: 0x(\w+), d_drv: 0x(\w+), '
             r'cs0_drv: 0x(\w+), hd_drv: 0x(\w+), wp_drv: 0x(\w+)',
             lambda m: ('drive', [int(x, 16) for x in m.groups()])),
            (r'Chip ID: (\d+) \((.*)\)', lambda m: ('chip_id', int(m.group(1)))),
            (r'Minimal chip revision: v(\d+)\.(\d+), \(legacy min_rev = (\d+)\)',
             lambda m: ('min_rev', (int(m.group(1)) * 100 + int(m.group(2)), int(m.group(3))))),
            (r'Maximal chip revision: v(\d+)\.(\d+)',
             lambda m: ('max_rev', int(m.group(1)) * 100 + int(m.group(2)))),
            (r'Checksum: 0x([0-9a-f]{2}) \(valid\)',
             lambda m: ('checksum', (int(m.group(1), 16), int(m.group(1), 16), True))),
            (r'Checksum: 0x([0-9a-f]{2}) \(invalid - calculated 0x([0-9a-f]{2})\)',
             lambda m: ('checksum', (int(m.group(1), 16), int(m.group(2), 16), False))),
            (r'Validation hash: ([0-9a-f]{64}) \((valid|invalid)\)',
             lambda m: ('sha256', (m.group(1), m.group(2) == 'valid'))),
        ]
        for p, f in pats:
            m = re.fullmatch(p, line)
            if m:
                k, val = f(m)
                v[k] = val
                break
    return v


def rev(text):
    a, b = text.split('.')
    return int(a) * 100 + int(b)


def compare(key, v, img, chip_forced, want_status, dev, fails):
    """Compares scraped esptool values v with one of our JSON images."""
    def check(field, ours, theirs):
        if ours == theirs:
            return
        if field in dev:
            used_dev.add((key, field))
            return
        fails.append('%s: ours %r, esptool %r' % (field, ours, theirs))

    def get(*path):
        x = img
        for p in path:
            if not isinstance(x, dict):
                return None
            x = x.get(p)
        return x

    check('status', get('status'), want_status)
    check('chip.name', get('chip', 'name'), v.get('chip'))
    check('chip.forced', get('chip', 'forced'), chip_forced)
    check('header.entry_point', get('header', 'entry_point'), v.get('entry'))
    check('header.segment_count', get('header', 'segment_count'), v.get('count'))
    if 'flash_size' in v:
        check('header.flash_size', get('header', 'flash_size'), v['flash_size'])
    else:
        check('header.flash_size', get('header', 'flash_size'), None)
        check('header.flash_size_code', get('header', 'flash_size_code'), v.get('flash_size_bad', 0) >> 4)
    if 'flash_freq' in v:
        check('header.flash_freq', get('header', 'flash_freq'), v['flash_freq'])
    else:
        check('header.flash_freq', get('header', 'flash_freq'), None)
        check('header.flash_freq_code', get('header', 'flash_freq_code'), v.get('flash_freq_bad'))
    check('header.flash_mode', get('header', 'flash_mode'), v.get('flash_mode'))
    check('extended_header.wp_pin', get('extended_header', 'wp_pin'), v.get('wp_pin'))
    check('extended_header.wp_pin_disabled', get('extended_header', 'wp_pin_disabled'),
          v.get('wp_pin') == 0xEE)
    d = get('extended_header', 'drive') or {}
    check('extended_header.drive', [d.get(k) for k in ('clk', 'q', 'd', 'cs0', 'hd', 'wp')],
          v.get('drive'))
    check('extended_header.chip_id', get('extended_header', 'chip_id'), v.get('chip_id'))
    mr = v.get('min_rev', (None, None))
    check('extended_header.min_chip_rev_full', get('extended_header', 'min_chip_rev_full'), mr[0])
    check('extended_header.min_chip_rev_legacy', get('extended_header', 'min_chip_rev_legacy'), mr[1])
    check('extended_header.max_chip_rev_full', get('extended_header', 'max_chip_rev_full'), v.get('max_rev'))

    segs = get('segments') or []
    ours = []
    for s in segs:
        length = s.get('length', 0)
        if s.get('load_addr'):
            length = (length + 3) & ~3  # esptool shows the length padded to 4
        ours.append((s.get('index'), length, s.get('load_addr'), s.get('header_offset'),
                     ', '.join(s.get('memory_types') or [])))
    if ours != v['segments']:
        for a, b in zip(ours + [None] * len(v['segments']), v['segments'] + [None] * len(ours)):
            if a != b:
                check('segments', a, b)
                break

    ck = v.get('checksum')
    if ck:
        check('checksum.stored', get('checksum', 'stored'), ck[0])
        check('checksum.computed', get('checksum', 'computed'), ck[1])
        check('checksum.valid', get('checksum', 'valid'), ck[2])
    sha = v.get('sha256')
    if sha:
        check('sha256.computed', get('sha256', 'computed'), sha[0])
        check('sha256.valid', get('sha256', 'valid'), sha[1])
    else:
        check('sha256', get('sha256'), None)

    app = v.get('application')
    a = get('app_desc')
    if app is None:
        # esptool prints nothing when the magic word is missing; our
        # app_desc is null then too.
        check('app_desc', a is not None, False)
    elif not isinstance(a, dict):
        check('app_desc', a, 'present')
    else:
        date, _, time = app.get('Compile time', '').partition(' ')
        check('app_desc.project_name', a.get('project_name'), app.get('Project name'))
        check('app_desc.version', a.get('version'), app.get('App version'))
        check('app_desc.date time', '%s %s' % (a.get('date'), a.get('time')), app.get('Compile time'))
        check('app_desc.app_elf_sha256', a.get('app_elf_sha256'), app.get('ELF file SHA256'))
        check('app_desc.idf_ver', a.get('idf_ver'), app.get('ESP-IDF'))
        check('app_desc.min_efuse_blk_rev_full', a.get('min_efuse_blk_rev_full'),
              rev(app.get('Minimal eFuse block revision', '0.0')))
        check('app_desc.max_efuse_blk_rev_full', a.get('max_efuse_blk_rev_full'),
              rev(app.get('Maximal eFuse block revision', '0.0')))
        mmu = app.get('MMU page size')
        check('app_desc.mmu_page_size', a.get('mmu_page_size'),
              int(mmu.split()[0]) * 1024 if mmu else None)
        check('app_desc.secure_version', a.get('secure_version'), int(app.get('Secure version', -1)))
    boot = v.get('bootloader')
    bd = get('bootloader_desc')
    if boot is None:
        check('bootloader_desc', bd is not None, False)
    elif not isinstance(bd, dict):
        check('bootloader_desc', bd, 'present')
    else:
        check('bootloader_desc.version', bd.get('version'), int(boot.get('Bootloader version', -1)))
        check('bootloader_desc.idf_ver', bd.get('idf_ver'), boot.get('ESP-IDF'))
        check('bootloader_desc.date_time', bd.get('date_time'), boot.get('Compile time'))
    check('kind', get('kind'), 'app' if app else 'bootloader' if boot else 'unknown')


docs = {}
for fn in sorted(os.listdir(tmp)):
    if fn.startswith('j_') and fn.endswith('.rc'):
        rid = fn[:-3]
        rc, out, err = run(rid)
        fails = []
        crash_checks(rc, err, fails)
        doc = None
        try:
            doc = json.loads(out.decode('utf-8'))
            if doc.get('schema') != 'espimg.image/1':
                fails.append('schema %r' % doc.get('schema'))
        except (ValueError, AttributeError) as e:
            fails.append('output is not JSON: %s' % str(e)[:120])
        if fails:
            result('json run %s' % rid[2:], fails)
        docs[rid[2:]] = doc if isinstance(doc, dict) else {}


def images_for(batch, path):
    return [im for im in docs.get(batch, {}).get('images') or []
            if isinstance(im, dict) and im.get('file') == path]


for key, inp, chip, txt, ref_rc in cases:
    if chip == 'esp8266':
        continue
    ims = images_for(chip or 'auto', inp)
    want = expected_stdout(txt)
    fails = []
    dev = JSON_DEV.get(key, {})
    if not ims:
        fails.append('no image for this file in the JSON output')
    elif int(ref_rc) != 0 or esp8266_read(want, chip):
        if any(im.get('status') == 'ok' for im in ims):
            fails.append('status "ok" but esptool %s' % ('reads ESP8266' if int(ref_rc) == 0 else 'fails'))
    else:
        text = want.decode('utf-8', 'replace')
        parts = re.split(r'\n=+\nProcessing file \d+/\d+, offset: (0x[0-9a-f]+), size: \d+ bytes\n=+\n', text)
        if len(parts) > 1:  # Intel HEX: one section per run
            for addr, sect in zip(parts[1::2], parts[2::2]):
                if ' Image Header\n' not in sect:
                    continue
                im = [x for x in ims if x.get('address') == int(addr, 16)]
                if len(im) != 1:
                    fails.append('run at %s: %d JSON images' % (addr, len(im)))
                    continue
                sub = []
                compare(key, scrape(sect), im[0], False, 'ok', dev, sub)
                fails += ['run at %s: %s' % (addr, f) for f in sub]
        elif len(ims) != 1:
            fails.append('%d JSON images for one file' % len(ims))
        else:
            compare(key, scrape(text), ims[0], bool(chip),
                    'invalid' if key in REPORTED else 'ok', dev, fails)
    result('json:' + key, fails)

for key, path, name, n, ck, end in trunc:
    ims = images_for('trunc', path)
    fails = []
    complete = int(n) >= int(end)
    if len(ims) != 1:
        fails.append('%d JSON images for one file' % len(ims))
    else:
        st = ims[0].get('status')
        if st != ('ok' if complete else 'invalid'):
            fails.append('status %r, want %r' % (st, 'ok' if complete else 'invalid'))
        if not complete and not ims[0].get('errors'):
            fails.append('no errors listed')
    result('json:' + key, fails)

# --- YAML and text against the JSON ----------------------------------------------
# Every image of a JSON batch is also printed as YAML and as text (same files,
# same --chip): the YAML must load into exactly the JSON's data, and the text
# block must show the JSON's values in the layout of src/lib/image_text.c.
# libyaml's loader when PyYAML has it: the same data, a few times faster.
YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def load_yaml(rid):
    rc, out, err = run(rid)
    fails = []
    crash_checks(rc, err, fails)
    doc = None
    try:
        doc = yaml.load(out.decode('utf-8'), Loader=YAML_LOADER)
    except (ValueError, yaml.YAMLError) as e:
        fails.append('output is not YAML: %s' % str(e)[:120])
    if fails:
        result('yaml run %s' % rid[2:], fails)
    return (doc.get('images') if isinstance(doc, dict) else None) or []


def text_blocks(rid):
    """The text output of run rid split into one list of lines per image."""
    rc, out, err = run(rid)
    fails = []
    crash_checks(rc, err, fails)
    text = out.decode('utf-8', 'replace')
    if text and not text.endswith('\n'):
        fails.append('output does not end with a newline')
    if fails:
        result('text run %s' % rid[2:], fails)
    return [b.split('\n') for b in text.rstrip('\n').split('\n\n')] if text else []


UNESC = re.compile(r'\\\\|\\x([0-9a-f]{2})|[^\\]+|\\')


def unescape(s):
    """Text with C strings from the image back to the JSON's rendering: \\xNN
    and \\\\ are bytes, bytes that are not UTF-8 become U+FFFD."""
    b = b''
    for m in UNESC.finditer(s):
        t = m.group(0)
        b += (b'\\' if t == '\\\\' else bytes([int(m.group(1), 16)]) if m.group(1)
              else t.encode('utf-8'))
    return b.decode('utf-8', 'replace')


def rev_text(r):
    return '%d.%d' % (r // 100, r % 100)


def check_text(im, lines, fails):
    """Compares one text block (lines) with one JSON image im."""
    def check(field, ours, want):
        if ours != want:
            fails.append('%s: text %r, JSON %r' % (field, ours, want))

    def g(*path):
        x = im
        for p in path:
            x = x.get(p) if isinstance(x, dict) else None
        return x

    where = im.get('file') or ''
    if im.get('address') is not None:
        where += ' at 0x%x' % im['address']
    elif im.get('offset'):
        where += ' at offset 0x%x' % im['offset']
    title = unescape(lines[0])
    if not isinstance(g('header'), dict):
        check('title', title, '%s: %s: %s' % (
            where, 'ESP8266 image' if im.get('status') == 'unsupported' else 'no image',
            im.get('status')))
        check('lines after the title', lines[1:], [])
        return
    chip = g('chip', 'name')
    kind = {'app': 'app', 'bootloader': 'bootloader'}.get(im.get('kind'), 'image')
    check('title', title, '%s: %s, %s: %s' % (
        where, '%s %s' % (chip, kind) if chip else '%s (unknown chip)' % kind,
        '%d bytes' % im['image_size'] if im.get('image_size') is not None else 'incomplete',
        im.get('status')))
    sect, label = {}, None
    for line in lines[1:]:
        lab = line[2:14].rstrip()
        if not line.startswith('  ') or len(line) <= 14 or ' ' in lab or \
                lab.strip() != lab or line[2 + len(lab):14].strip():
            fails.append('line %r is not "  LABEL       VALUE"' % line)
            continue
        if lab:
            label = lab
            if label in sect:
                fails.append('label %r twice' % label)
            sect[label] = []
        elif label is None:
            fails.append('continuation line %r before any label' % line)
            continue
        sect[label].append(line[14:])
    want_labels = ['chip', 'flash', 'entry', 'pins']
    if g('extended_header', 'reserved_hex') not in (None, '00000000'):
        want_labels.append('reserved')
    want_labels.append('segments')
    if g('checksum') is not None:
        want_labels += ['checksum', 'sha256']
    if g('app_desc') is not None:
        want_labels.append('app')
    if g('bootloader_desc') is not None:
        want_labels.append('bootloader')
    got_labels = list(sect)
    if 'signatures' in got_labels:  # only for a complete image
        want_labels.append('signatures')
    check('labels', got_labels, want_labels)

    one = lambda k: (sect.get(k) or [''])[0]
    m = re.fullmatch(r'(.*) \((?:id (\d+)(?:(, forced)|, from the low byte of (\d+))?'
                     r'|(forced); the header says id (\d+))\), revision (v\S+) \.\. (v\S+) '
                     r'\(legacy min_rev (\d+)\)', one('chip'))
    if not m:
        fails.append('chip line %r' % one('chip'))
    else:
        check('chip.name', m.group(1), chip or 'unknown')
        if chip:
            check('chip.id', int(m.group(2)) if m.group(2) else g('chip', 'id'), g('chip', 'id'))
            check('chip.forced', bool(m.group(3) or m.group(5)), g('chip', 'forced'))
        hid = m.group(4) or m.group(6) or m.group(2)
        check('extended_header.chip_id', int(hid), g('extended_header', 'chip_id'))
        check('extended_header.min_chip_rev', m.group(7), g('extended_header', 'min_chip_rev'))
        check('extended_header.max_chip_rev', m.group(8), g('extended_header', 'max_chip_rev'))
        check('extended_header.min_chip_rev_legacy', int(m.group(9)),
              g('extended_header', 'min_chip_rev_legacy'))
    h = g('header')
    check('flash', one('flash'), '%s, %s, %s' % (
        h.get('flash_mode_name') or 'mode %s (undefined)' % h.get('flash_mode'),
        h.get('flash_freq') or 'freq code %s%s' % (h.get('flash_freq_code'),
                                                   ' (undefined)' if chip else ''),
        h.get('flash_size') or 'size code %s (undefined)' % h.get('flash_size_code')))
    check('header.entry_point', one('entry'), '0x%08x' % h.get('entry_point', -1))
    d = g('extended_header', 'drive') or {}
    wp = g('extended_header', 'wp_pin')
    check('pins', one('pins'), '%s, drive %s' % (
        'WP disabled (0x%02x)' % wp if g('extended_header', 'wp_pin_disabled')
        else 'WP GPIO %s' % wp, ' '.join('%s %s' % (k, d.get(k))
                                          for k in ('clk', 'q', 'd', 'cs0', 'hd', 'wp'))))

    segs = g('segments') or []
    sl = sect.get('segments') or ['']
    if not segs:
        check('segments', sl, ['none'] if g('image_size') is not None or len(sl) == 1 and
              sl[0] == 'none' else ['none read (the header declares %s)' % h.get('segment_count')])
    else:
        rows, widths = [], set()
        if not re.fullmatch(r'# +load addr +length +offset +memory', sl[0]):
            fails.append('segments heading %r' % sl[0])
        for line in sl[1:]:
            m = re.fullmatch(r' *(\d+)  0x([0-9a-f]{8})  0x([0-9a-f]+) +0x([0-9a-f]+) +(\S.*)', line)
            if m:
                rows.append((int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16),
                             int(m.group(4), 16), m.group(5)))
                widths.add((len(m.group(3)), len(m.group(4))))
            elif line != '(the header declares %s, %d read)' % (h.get('segment_count'), len(segs)):
                fails.append('segment line %r' % line)
        want = [(s.get('index'), s.get('load_addr'), s.get('length'), s.get('data_offset'),
                 ' '.join(s.get('memory_types') or []) or '(none)') for s in segs]
        if rows != want:
            for a, b in zip(rows + [None] * len(want), want + [None] * len(rows)):
                if a != b:
                    check('segments', a, b)
                    break
        if len(widths) > 1:
            fails.append('segment hex columns not zero-padded to one width')

    ck = g('checksum')
    if ck is not None:
        check('checksum', sect.get('checksum'), [
            '0x%02x (valid)' % ck['stored'] if ck.get('valid') else
            '0x%02x (invalid; computed 0x%02x)' % (ck['stored'], ck['computed'])])
        sha = g('sha256')
        if sha is None:
            want = ['none (hash_appended %s)' % g('extended_header', 'hash_appended')]
        elif sha.get('valid') and sha.get('stored') == sha.get('computed'):
            want = ['%s (valid)' % sha['computed']]
        else:
            want = ['%s (invalid)' % sha.get('stored'), '%s (computed)' % sha.get('computed')]
        got = sect.get('sha256') or []
        if sha is not None and sha.get('stored') is None and got and \
                re.fullmatch(r'cut short: ([0-9]|[12][0-9]|3[01]) of 32 bytes \(invalid\)', got[0]):
            want[0] = got[0]  # JSON has no stored digest when it is cut short
        check('sha256', got, want)

    q = lambda s: s if s else '""'  # how text shows an empty string
    a = g('app_desc')
    if isinstance(a, dict):
        mmu = a.get('mmu_page_size')
        check('app', [unescape(l) for l in sect.get('app') or []], [
            '%s %s' % (q(a.get('project_name')), q(a.get('version'))),
            'ESP-IDF %s, built %s %s, secure version %s' % (
                q(a.get('idf_ver')), q(a.get('date')), q(a.get('time')), a.get('secure_version')),
            'ELF SHA-256 %s' % a.get('app_elf_sha256'),
            'eFuse block revision %s .. %s, %s' % (
                rev_text(a.get('min_efuse_blk_rev_full', -1)),
                rev_text(a.get('max_efuse_blk_rev_full', -1)),
                'MMU page size not recorded' if mmu is None else
                'MMU page %d KB' % (mmu // 1024) if mmu >= 1024 else
                'MMU page %d bytes' % mmu)])
    bd = g('bootloader_desc')
    if isinstance(bd, dict):
        check('bootloader', [unescape(l) for l in sect.get('bootloader') or []], [
            'version %s' % bd.get('version'),
            'ESP-IDF %s, built %s, secure version %s' % (
                q(bd.get('idf_ver')), q(bd.get('date_time')), bd.get('secure_version'))])
    sg = g('signatures') or {}
    if 'signatures' in sect:
        s0 = sect['signatures'][0]
        if sg.get('scheme') == 'v2':
            check('signatures', s0, 'Secure Boot v2, sector at 0x%x' % sg.get('sector_offset', -1))
            check('signatures.blocks', len([l for l in sect['signatures'] if l.startswith('block ')]),
                  len(sg.get('blocks') or []))
        elif sg.get('scheme') == 'v1':
            check('signatures', s0.startswith('Secure Boot v1 at '), True)
        else:
            check('signatures', sect['signatures'], ['none'])



yaml_images = {b: load_yaml('y_' + b) for b in docs}
text_images = {b: text_blocks('x_' + b) for b in docs}
for b in sorted(docs):
    n = len(docs[b].get('images') or [])
    if len(text_images[b]) != n:
        result('text run %s' % b, ['%d blocks for %d JSON images' % (len(text_images[b]), n)])
        text_images[b] = []


def same(a, b):
    """a == b with the types too (YAML's 1 is not JSON's true or 1.0) and
    the keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def first_diff(a, b, path=''):
    """(path, a's value, b's value) where a and b first differ."""
    if type(a) is type(b) and isinstance(a, dict) and list(a) == list(b):
        for k in a:
            if not same(a[k], b[k]):
                return first_diff(a[k], b[k], '%s.%s' % (path, k))
    if type(a) is type(b) and isinstance(a, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if not same(x, y):
                return first_diff(x, y, '%s[%d]' % (path, i))
    return (path or '.', a, b)


def check_formats(key, batch, path):
    jims = docs.get(batch, {}).get('images') or []
    idx = [i for i, im in enumerate(jims) if isinstance(im, dict) and im.get('file') == path]
    yfails, tfails = [], []
    if not idx:
        yfails.append('no image for this file in the JSON output')
    yims = [im for im in yaml_images.get(batch) or []
            if isinstance(im, dict) and im.get('file') == path]
    want = [jims[i] for i in idx]
    if not same(yims, want):
        where = first_diff(yims, want)
        yfails.append('YAML data differ from the JSON at %s: YAML %r, JSON %r' % where)
    result('yaml:' + key, yfails)
    blocks = text_images.get(batch) or []
    if not idx or not blocks:
        tfails.append('no text block for this file')
    for i in idx if blocks else []:
        sub = []
        check_text(jims[i], blocks[i], sub)
        tfails += ['image %d: %s' % (i, f) if len(idx) > 1 else f for f in sub]
    result('text:' + key, tfails)


for key, inp, chip, txt, ref_rc in cases:
    if chip != 'esp8266':
        check_formats(key, chip or 'auto', inp)
for key, path, name, n, ck, end in trunc:
    check_formats(key, 'trunc', path)

for key, fields in sorted(JSON_DEV.items()):
    for field in sorted(fields):
        if (key, field) not in used_dev and any(c[0] == key for c in cases):
            result('json:' + key, ['JSON DEVIATIONS entry %r is not needed any more' % field])

if out_lines:
    print('\n'.join(out_lines))
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
PY
