#!/usr/bin/env bash
# tests/conformance/elf.sh - esp-imginfo --elf and --extract-segments against
# the reference corpus (acceptance item 6 of issue 3).
#
# For every top-level image of $CORPUS/images that esptool 5.3.1 accepts
# (expected/<name>.image_info_v5.rc is 0) and does not read as ESP8266, runs
#
#   $BUILD/bin/esp-imginfo -q --elf OUT FILE
#   $BUILD/bin/esp-imginfo -q --extract-segments DIR FILE
#
# and checks, against the segments read from FILE by this script:
#
#   both runs     exit 0, or 1 for an image with a reported error (a bad
#                 checksum or digest: the segments are still all there); no
#                 crash, no sanitizer report; an "error:" line on stderr when
#                 the exit is 1;
#   --elf         `readelf -a OUT` exits 0, prints nothing on stderr and no
#                 "Warning" line; ELF32 little-endian ET_EXEC, e_machine Xtensa
#                 or RISC-V by the chip, e_flags as ESP-IDF's toolchains write
#                 them (0x300; RISC-V 0x1, 0x3 on the cores with an FPU: P4,
#                 H4, S31), e_entry = the header's entry point; one PT_LOAD per
#                 segment with a non-zero load address, in ascending p_vaddr
#                 order, p_vaddr = p_paddr = load address, p_filesz = p_memsz
#                 = length, p_offset congruent to p_vaddr modulo p_align, and
#                 its bytes equal to the segment's; one uniquely named
#                 SHT_PROGBITS section per PT_LOAD at the same address;
#   --extract-segments  one file seg<i>_<addr as 8 hex digits>.bin per segment
#                 (padding segments included) holding exactly its bytes, so the
#                 files concatenated in index order equal the segment data
#                 concatenated; segments.json (schema espimg.segments/1) lists
#                 them all.
#
# Usage: tests/conformance/elf.sh [--keep] [SUBSTRING...]
#   SUBSTRING  only run the images whose name contains one of them
#   --keep     keep the temporary directory (its path is printed on stderr)
# Environment: BUILD (default build; relative to the repository root),
#   CORPUS (default: <repo>/../shared/corpus).
# Output: one "FAIL <name>: <what differs>" line per failing image, then
#   "N passed, N failed[, N skipped]".  Without the corpus, or before
#   esp-imginfo has --elf, one "conformance: ..., skipped" line first.
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
for t in readelf python3; do
	if ! command -v "$t" >/dev/null; then
		echo "conformance: $t not found (scripts/deps.sh test)" >&2
		exit 2
	fi
done

# --- The images -----------------------------------------------------------------
images=()
shopt -s nullglob
for f in "$idir"/*.bin; do
	name=${f##*/}
	rcf=$idir/expected/$name.image_info_v5.rc
	[[ -f $rcf && $(<"$rcf") == 0 ]] || continue
	grep -q '^Detected image type: ESP8266' "$idir/expected/$name.image_info_v5.txt" 2>/dev/null &&
		continue
	if ((${#filters[@]})); then
		hit=0
		for s in "${filters[@]}"; do [[ $name == *"$s"* ]] && hit=1; done
		((hit)) || continue
	fi
	images+=("$name")
done
shopt -u nullglob

if [[ ! -x $tool ]] || ! "$tool" --help 2>&1 | grep -q -- '--elf'; then
	echo "conformance: $tool not built or without --elf yet, skipped"
	echo "0 passed, 0 failed, ${#images[@]} skipped"
	exit 0
fi

espimg_tmpdir espimg-conf-elf

# --- Run the tool and readelf ---------------------------------------------------
# Writes one tab-separated line per image for the checker below:
#   name elf_rc elf_stderr elf readelf_rc readelf_out readelf_err ext_rc ext_stderr ext_dir
cases=$tmp/cases.tsv
: >"$cases"
for ((i = 0; i < ${#images[@]}; i++)); do
	name=${images[i]}
	printf -v id 'i%03d' "$i"
	elf=$tmp/$id.elf dir=$tmp/$id.seg
	# (the braces catch bash's own "Segmentation fault" notice)
	{ "$tool" -q --elf "$elf" "$idir/$name" </dev/null >/dev/null 2>"$tmp/$id.elf.err"; erc=$?; } 2>/dev/null
	rrc=-
	if [[ -f $elf ]]; then
		readelf -a "$elf" >"$tmp/$id.readelf" 2>"$tmp/$id.readelf.err"
		rrc=$?
		readelf -W -h -l -S "$elf" >"$tmp/$id.readelfw" 2>/dev/null
	fi
	mkdir -- "$dir" || exit 2
	{ "$tool" -q --extract-segments "$dir" "$idir/$name" </dev/null >/dev/null 2>"$tmp/$id.ext.err"; xrc=$?; } 2>/dev/null
	printf '%s\t%s\t%s\n' "$name" "$id" "$erc $rrc $xrc" >>"$cases"
done

# --- Check ----------------------------------------------------------------------
python3 - "$idir" "$tmp" "$cases" <<'PY'
import json, os, re, struct, sys

idir, tmp, cases = sys.argv[1:4]

# Chip ids (esptool 5.3.1 targets/*.py IMAGE_CHIP_ID) of the Xtensa chips,
# and of the RISC-V chips whose ESP-IDF ABI is ilp32f (SOC_CPU_HAS_FPU).
XTENSA = {0, 2, 9}
RISCV_FPU = {18, 28, 32}
KNOWN = {0, 2, 5, 9, 12, 13, 16, 18, 20, 23, 25, 28, 31, 32}
SAN = re.compile(r'runtime error:|ERROR: [A-Za-z]*Sanitizer|SUMMARY: [A-Za-z]*Sanitizer')
ERR = re.compile(r'^esp-imginfo: .*error: ', re.M)


def segments(path):
    """(entry, chip id, [(index, addr, data)]) of the image at offset 0."""
    with open(path, 'rb') as f:
        b = f.read()
    count = b[1]
    entry = struct.unpack_from('<I', b, 4)[0]
    chip = struct.unpack_from('<H', b, 12)[0]
    if chip not in KNOWN:
        chip &= 0xff
    segs, pos = [], 24
    for i in range(count):
        addr, length = struct.unpack_from('<II', b, pos)
        data = b[pos + 8:pos + 8 + length]
        if len(data) != length:
            raise ValueError('segment %d past the end' % i)
        segs.append((i, addr, data))
        pos += 8 + length
    return entry, chip, segs


def read_text(path):
    try:
        with open(path, 'r', errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def check_run(what, rc, err, fails):
    if rc >= 128:
        fails.append('%s: crashed (exit %d, signal %d)' % (what, rc, rc - 128))
    elif rc not in (0, 1):
        first = err.strip().splitlines()[:1]
        fails.append('%s: exit %d%s' % (what, rc, ' (%s)' % first[0][:200] if first else ''))
    elif rc == 1 and not ERR.search(err):
        fails.append('%s: exit 1 without an error line on stderr' % what)
    m = SAN.search(err)
    if m:
        fails.append('%s: sanitizer report' % what)


def check_elf(elfp, entry, chip, segs, out, outw, rerr, rrc, fails):
    if rrc != 0:
        fails.append('readelf -a exit %d' % rrc)
    if rerr.strip():
        fails.append('readelf -a stderr: %s' % rerr.strip().splitlines()[0][:200])
    for line in out.splitlines():
        if 'warning' in line.lower():
            fails.append('readelf -a: %s' % line.strip()[:200])
            break
    with open(elfp, 'rb') as f:
        elf = f.read()
    if elf[:7] != b'\x7fELF\x01\x01\x01':
        fails.append('not an ELF32 little-endian file')
        return
    # The header as readelf decodes it.
    h = dict(re.findall(r'^\s+([A-Za-z /]+):\s+(.*)$', outw, re.M))
    want_machine = 'Tensilica Xtensa Processor' if chip in XTENSA else 'RISC-V'
    if chip in XTENSA:
        want_flags = 0x300
    else:
        want_flags = 0x3 if chip in RISCV_FPU else 0x1
    if h.get('Type', '').split()[:1] != ['EXEC']:
        fails.append('type %r, want EXEC' % h.get('Type'))
    if h.get('Machine') != want_machine:
        fails.append('machine %r, want %r' % (h.get('Machine'), want_machine))
    flags = h.get('Flags', '').split(',')[0]
    if not flags.startswith('0x') or int(flags, 16) != want_flags:
        fails.append('flags %r, want 0x%x' % (h.get('Flags'), want_flags))
    ep = h.get('Entry point address', '')
    if not ep.startswith('0x') or int(ep, 16) != entry:
        fails.append('entry %r, want 0x%x' % (ep, entry))

    # Program headers (readelf -lW rows).
    loads = []
    for m in re.finditer(r'^\s+(\S+)\s+(0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+) '
                         r'(0x[0-9a-f]+) (0x[0-9a-f]+) (.{3}) (0x[0-9a-f]+)$', outw, re.M):
        if m.group(1) != 'LOAD':
            fails.append('program header of type %s' % m.group(1))
            continue
        off, va, pa, fs, ms, al = (int(m.group(k), 16) for k in (2, 3, 4, 5, 6, 8))
        loads.append((va, pa, off, fs, ms, al))
    want = [s for s in segs if s[1] != 0]
    if len(loads) != len(want):
        fails.append('%d PT_LOAD, want %d (segments with a non-zero address)'
                     % (len(loads), len(want)))
    if [l[0] for l in loads] != sorted(l[0] for l in loads):
        fails.append('PT_LOAD not in ascending p_vaddr order')
    used = [False] * len(loads)
    for i, addr, data in want:
        hit = None
        for k, (va, pa, off, fs, ms, al) in enumerate(loads):
            if used[k] or va != addr or pa != addr or fs != len(data) or ms != len(data):
                continue
            if elf[off:off + fs] == data:
                hit = k
                break
        if hit is None:
            fails.append('segment %d (0x%08x, %d bytes): no PT_LOAD with its address, '
                         'length and bytes' % (i, addr, len(data)))
        else:
            used[hit] = True
    for va, pa, off, fs, ms, al in loads:
        if al and off % al != va % al:
            fails.append('PT_LOAD 0x%08x: offset 0x%x not congruent to the address '
                         'modulo %d' % (va, off, al))

    # Sections (readelf -SW rows): one PROGBITS section per PT_LOAD.
    secs = re.findall(r'^\s+\[\s*\d+\]\s+(\S+)\s+PROGBITS\s+([0-9a-f]{8}) ([0-9a-f]{6,}) '
                      r'([0-9a-f]{6,})', outw, re.M)
    names = [s[0] for s in secs]
    if len(set(names)) != len(names):
        fails.append('section names not unique: %s' % ' '.join(names))
    if sorted((int(a, 16), int(sz, 16)) for _, a, _, sz in secs) != \
            sorted((l[0], l[3]) for l in loads):
        fails.append('PROGBITS sections do not match the PT_LOADs')


def check_extract(d, segs, fails):
    try:
        files = os.listdir(d)
    except OSError as e:
        fails.append('extract: %s' % e)
        return
    got = {}
    for fn in files:
        m = re.fullmatch(r'seg(\d+)_([0-9a-f]{8})\.bin', fn)
        if m:
            got[int(m.group(1))] = (fn, int(m.group(2), 16))
        elif fn != 'segments.json':
            fails.append('extract: unexpected file %s' % fn)
    if sorted(got) != [s[0] for s in segs]:
        fails.append('extract: segment files %s, want indices 0..%d'
                     % (sorted(got), len(segs) - 1))
        return
    cat = b''
    for i, addr, data in segs:
        fn, a = got[i]
        if a != addr:
            fails.append('extract: %s named for address 0x%08x, want 0x%08x' % (fn, a, addr))
        with open(os.path.join(d, fn), 'rb') as f:
            cat += f.read()
    if cat != b''.join(s[2] for s in segs):
        fails.append('extract: the files concatenated differ from the segment data')
    try:
        with open(os.path.join(d, 'segments.json')) as f:
            doc = json.load(f)
        if doc.get('schema') != 'espimg.segments/1':
            fails.append('extract: segments.json schema %r' % doc.get('schema'))
        rows = doc.get('segments', [])
        if [(r.get('index'), r.get('load_addr'), r.get('length'),
                 os.path.basename(str(r.get('file'))))
                for r in rows] != [(i, a, len(data), got[i][0]) for i, a, data in segs]:
            fails.append('extract: segments.json rows differ from the segments')
    except (OSError, ValueError, AttributeError) as e:
        fails.append('extract: segments.json: %s' % e)


passed = failed = 0
with open(cases) as f:
    for line in f:
        name, id_, rcs = line.rstrip('\n').split('\t')
        erc, rrc, xrc = rcs.split()
        fails = []
        entry, chip, segs = segments(os.path.join(idir, name))
        elfp = os.path.join(tmp, id_ + '.elf')
        check_run('--elf', int(erc), read_text(os.path.join(tmp, id_ + '.elf.err')), fails)
        if not os.path.exists(elfp):
            fails.append('--elf wrote no file')
        else:
            check_elf(elfp, entry, chip, segs, read_text(os.path.join(tmp, id_ + '.readelf')),
                      read_text(os.path.join(tmp, id_ + '.readelfw')),
                      read_text(os.path.join(tmp, id_ + '.readelf.err')),
                      int(rrc), fails)
        check_run('--extract-segments', int(xrc),
                  read_text(os.path.join(tmp, id_ + '.ext.err')), fails)
        check_extract(os.path.join(tmp, id_ + '.seg'), segs, fails)
        if fails:
            failed += 1
            print('FAIL %s: %s' % (name, '; '.join(fails[:6])
                                   + ('; ...' if len(fails) > 6 else '')))
        else:
            passed += 1
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
PY
