#!/usr/bin/env bash
# tests/conformance/otadata.sh - otadata-set against the ESP-IDF oracle
# vectors of $CORPUS/otadata (issue 4; columns in ../shared/docs/otadata.md §0).
#
# Every vector runs with its table (partitions.csv; `show` also with
# partitions.bin, which must give the same document), its ESP-IDF version
# (--idf-version; master = the default), its config (rb0: nothing, rb1:
# --rollback, arb: --rollback --anti-rollback) and its env (bad= -> --bad,
# secver= -> --secure-version, efuse= -> --efuse-secure-version, running= ->
# --running):
#
#   boot                 `boot -o OUT input.bin`: exit 0, OUT == output.bin,
#                        JSON "boot" == the boot column (null for
#                        reset_no_bootable_app);
#   set_boot, mark_valid, mark_invalid
#                        rc ESP_OK[+restart]: exit 0, OUT == output.bin, JSON
#                        "boot" == boot, and `boot -o OUT2 OUT` gives
#                        after_boot.bin with the same "boot";
#                        rc an error, or HANG: exit 1, an error line on
#                        stderr naming the esp_err, no OUT written;
#   get_boot, get_state, next_update, last_invalid
#                        `show` (with --running for next_update):
#                        "app_boot_partition", "partitions"[ARG]."state"
#                        (null for ESP_ERR_NOT_FOUND), "next_update",
#                        "last_invalid" equal the result;
#   always               `show input.bin` exits 0 (the same document from
#                        partitions.bin), and agrees with the boot column
#                        for op=boot; `show output.bin`: "app_boot_partition"
#                        == the app_view column; no crash (exit >= 3 or a
#                        signal), no sanitizer report.
#
# DOCUMENTED DIFFERENCES below: the vectors where the device returns ESP_OK
# but does not do what was asked (otadata-set refuses them), and the vectors
# of operations that are not otadata-set commands (skipped, with the reason).
#
# Usage: tests/conformance/otadata.sh [--keep] [SUBSTRING...]
#   SUBSTRING  only the vectors whose id contains one of them
#   --keep     keep the temporary directory (its path is printed on stderr)
# Environment: BUILD (default build; relative to the repository root),
#   CORPUS (default: <repo>/../shared/corpus).
# Output: one "FAIL <id>: <what differs>" line per failing vector, then
#   "N passed, N failed[, N skipped]".  Without the corpus one
#   "conformance: ..., skipped" line first.
# Exit status: 0 when nothing failed, 1 when something failed, 2 when the
#   runner itself could not run.
set -u
set -o pipefail

. "${BASH_SOURCE[0]%/*}/../lib.sh"
espimg_clean_env -- "$@"

espimg_locate otadata-set
odir=$corpus/otadata

espimg_runner_args "$@"

if [[ ! -f $odir/vectors.tsv ]]; then
	echo "conformance: corpus not found at $odir, skipped"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
if [[ ! -x $tool ]]; then
	echo "conformance: $tool not found or not executable (run make)" >&2
	exit 2
fi
if ! command -v python3 >/dev/null; then
	echo "conformance: python3 not found" >&2
	exit 2
fi

espimg_tmpdir espimg-conf

# The runner proper: Python, for the JSON.
python3 - "$tool" "$odir" "$tmp" "${filters[@]}" <<'PY'
import json, os, re, subprocess, sys

tool, odir, tmp = sys.argv[1:4]
filters = sys.argv[4:]

# --- DOCUMENTED DIFFERENCES -------------------------------------------------
# The device returns ESP_OK (or hangs) but does not select what was asked;
# otadata-set refuses: exit 1, an error line naming the code, nothing
# written.  Keyed by vector id; value: (diagnostic code, reason).  Those
# that return on the device are run again with --unsafe device, which must
# write what the device writes (output.bin, then after_boot.bin).
REFUSED = {
    "c19_set_test_partition": ("otadata.not_bootable",
        "the test app cannot be selected through otadata; the device "
        "silently selects ota_0 instead"),
    "c20_seq0_3slots_set_ota2": ("otadata.seq_wrong_slot",
        "from seq 0 the device's search answers 0, which selects ota_0"),
    "d02_wrap_seqFFFFFFFE_set_invalid": ("otadata.seq_unusable",
        "the device writes seq 0xffffffff (empty): ota_1 keeps booting"),
    "d03_wrap_4slots_hang": ("otadata.seq_hang",
        "the device's search never returns"),
    "d04_wrap_4slots_to_ota2": ("otadata.seq_unusable",
        "the device writes seq 0xffffffff (empty): ota_1 keeps booting"),
    "d05_wrap_3slots_wraps": ("otadata.seq_unusable",
        "with 3 slots the 32-bit search also ends on 0xffffffff"),
}
# Operations that are not otadata-set commands.
SKIPPED_OPS = {
    "invalidate_inactive": "esp_ota_begin's erase of the inactive record "
        "(v5.5) is not an otadata-set command (otadata-set(1), VERSIONS)",
    "otatool_read": "otatool.py's text is not reproduced; `show` prints "
        "more (otadata-set(1), COMPATIBILITY)",
    "otatool_switch": "otatool.py keeps the old state word; otadata-set "
        "writes what esp_ota_set_boot_partition writes",
}

SAN = re.compile(r"runtime error:|ERROR: [A-Za-z]*Sanitizer|"
                 r"SUMMARY: [A-Za-z]*Sanitizer")
ERR = re.compile(r"^otadata-set: (.*: )?error: .", re.M)
VERSIONS = {"master": None, "v5.5.5": "5.5.5", "v4.4.8": "4.4.8",
            "v3.3.6": "3.3.6", "v3.2": "3.2"}

passed = failed = skipped = 0
seen_refused = set()


class Fail(Exception):
    pass


def run(args):
    p = subprocess.run([tool] + args, stdin=subprocess.DEVNULL,
                       capture_output=True)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode < 0 or p.returncode > 3:
        raise Fail("crashed (exit %d) on %s: %s" %
                   (p.returncode, " ".join(args), err.strip()[:300]))
    if SAN.search(err):
        raise Fail("sanitizer report on %s: %s" %
                   (" ".join(args), err.strip()[:300]))
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


def doc(args):
    rc, out, err = run(args + ["--format", "json"])
    if rc != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(args), rc, err.strip()[:300]))
    try:
        return json.loads(out)
    except ValueError as e:
        raise Fail("%s: stdout is not JSON (%s)" % (" ".join(args), e))


def strip_table(d):
    """The document without what names the table file (and CSV lines)."""
    d = dict(d)
    d.pop("table", None)
    d["diagnostics"] = [(x.get("severity"), x.get("code"))
                        for x in d.get("diagnostics", [])]
    return d


def same_file(a, b):
    with open(a, "rb") as f, open(b, "rb") as g:
        return f.read() == g.read()


def first_diff(a, b):
    x, y = open(a, "rb").read(), open(b, "rb").read()
    for i in range(min(len(x), len(y))):
        if x[i] != y[i]:
            return "first difference at offset 0x%x (ours 0x%02x, device 0x%02x)" % (
                i, x[i], y[i])
    return "lengths %d (ours) and %d (device)" % (len(x), len(y))


def device_options(row):
    opts = []
    if row["config"] in ("rb1", "arb"):
        opts.append("--rollback")
    if row["config"] == "arb":
        opts.append("--anti-rollback")
    v = VERSIONS.get(row["idf_version"], "?")
    if v == "?":
        raise Fail("unknown idf_version %r" % row["idf_version"])
    if v:
        opts += ["--idf-version", v]
    running = None
    if row["env"] != "-":
        for part in row["env"].split(","):
            key, _, val = part.partition("=")
            if key == "bad":
                for name in val.split("+"):
                    opts += ["--bad", name]
            elif key == "secver":
                for item in val.split("+"):
                    name, _, n = item.partition(":")
                    opts += ["--secure-version", "%s=%s" % (name, n)]
            elif key == "efuse":
                opts += ["--efuse-secure-version", val]
            elif key == "running":
                running = val
            else:
                raise Fail("unknown env %r" % part)
    return opts, running


def want_boot(col):
    return None if col in ("-", "reset_no_bootable_app", "NULL") else col


def check_vector(row):
    vid, op, vdir = row["id"], row["op"], os.path.join(odir, "vectors", row["id"])
    csv = os.path.join(vdir, "partitions.csv")
    binp = os.path.join(vdir, "partitions.bin")
    inp = os.path.join(vdir, "input.bin")
    dev, running = device_options(row)
    base = ["--table", csv] + dev
    out = os.path.join(tmp, vid + ".out")
    out2 = os.path.join(tmp, vid + ".after")
    for f in (out, out2):
        if os.path.exists(f):
            os.unlink(f)
    run_opt = ["--running", running] if running else []

    # show on the input, from the CSV and from the binary table.
    d = doc(base + run_opt + ["show", inp])
    d_bin = doc(["--table", binp] + dev + run_opt + ["show", inp])
    if strip_table(d) != strip_table(d_bin):
        raise Fail("show differs between partitions.csv and partitions.bin")
    if "boot" not in d:
        raise Fail("show: no \"boot\" key")

    # The app's view of the device's output.
    if "app_view" in row and os.path.exists(os.path.join(vdir, "output.bin")):
        d_out = doc(base + ["show", os.path.join(vdir, "output.bin")])
        if d_out.get("app_boot_partition") != want_boot(row["app_view"]):
            raise Fail("show output.bin: app_boot_partition %r, device %r" %
                       (d_out.get("app_boot_partition"), row["app_view"]))

    rc = row["rc"]
    if op == "boot":
        if d["boot"] != want_boot(row["boot"]):
            raise Fail("show: boot %r, device loads %r" % (d["boot"], row["boot"]))
        b = doc(base + ["boot", "-o", out, inp])
        if b.get("boot") != want_boot(row["boot"]):
            raise Fail("boot: %r, device loads %r" % (b.get("boot"), row["boot"]))
        if not os.path.exists(out):
            raise Fail("boot -o wrote no file")
        if not same_file(out, os.path.join(vdir, "output.bin")):
            raise Fail("otadata after boot differs from output.bin: " +
                       first_diff(out, os.path.join(vdir, "output.bin")))
        return

    if op in ("set_boot", "mark_valid", "mark_invalid"):
        if op == "set_boot":
            cmd = ["set-boot", "--partition", row["arg"]]
        else:
            cmd = [op.replace("_", "-")] + run_opt
        args = base + cmd + ["-o", out, inp]
        refused = vid in REFUSED
        if refused or not rc.startswith("ESP_OK"):
            r, so, err = run(args)
            if r != 1:
                raise Fail("%s: exit %d, want 1 (device: %s)" % (" ".join(cmd), r, rc))
            if not ERR.search(err):
                raise Fail("%s: refused without an error line" % " ".join(cmd))
            if refused:
                seen_refused.add(vid)
                code = REFUSED[vid][0]
                if "[%s]" % code not in err:
                    raise Fail("%s: refused, but not with [%s]: %s" %
                               (" ".join(cmd), code, err.strip()[:300]))
            elif rc.startswith("ESP_ERR") or rc == "ESP_FAIL":
                name = rc.split("+")[0]
                if name not in err:
                    raise Fail("%s: the message does not name %s: %s" %
                               (" ".join(cmd), name, err.strip()[:300]))
            if os.path.exists(out):
                raise Fail("%s: refused but wrote OUT" % " ".join(cmd))
            if not (refused and rc.startswith("ESP_OK")):
                return
            cmd = cmd + ["--unsafe", "device"]
            args = base + cmd + ["-o", out, inp]
        res = doc(args)
        if res.get("boot") != want_boot(row["boot"]):
            raise Fail("%s: boot after %r, device %r" %
                       (" ".join(cmd), res.get("boot"), row["boot"]))
        expect = os.path.join(vdir, "output.bin")
        if not os.path.exists(out):
            raise Fail("%s: no OUT written" % " ".join(cmd))
        if not same_file(out, expect):
            raise Fail("%s: output differs from output.bin: %s" %
                       (" ".join(cmd), first_diff(out, expect)))
        b = doc(base + ["boot", "-o", out2, out])
        if b.get("boot") != want_boot(row["boot"]):
            raise Fail("boot after %s: %r, device %r" %
                       (" ".join(cmd), b.get("boot"), row["boot"]))
        after = os.path.join(vdir, "after_boot.bin")
        if not same_file(out2, after):
            raise Fail("boot after %s: differs from after_boot.bin: %s" %
                       (" ".join(cmd), first_diff(out2, after)))
        return

    if op == "get_boot":
        want = rc.split("=", 1)[1]
        if d.get("app_boot_partition") != want_boot(want):
            raise Fail("show: app_boot_partition %r, device %r" %
                       (d.get("app_boot_partition"), want))
        return
    if op == "next_update":
        want = rc.split("=", 1)[1]
        if d.get("next_update") != want_boot(want):
            raise Fail("show: next_update %r, device %r" % (d.get("next_update"), want))
        return
    if op == "last_invalid":
        want = rc.split("=", 1)[1]
        if d.get("last_invalid") != want_boot(want):
            raise Fail("show: last_invalid %r, device %r" % (d.get("last_invalid"), want))
        return
    if op == "get_state":
        want = rc.split("/", 1)[1] if rc.startswith("ESP_OK/") else None
        if rc not in ("ESP_ERR_NOT_FOUND",) and want is None:
            raise Fail("unexpected rc %r" % rc)
        parts = [p for p in d.get("partitions", []) if p.get("name") == row["arg"]]
        if len(parts) != 1:
            raise Fail("show: partition %r listed %d times" % (row["arg"], len(parts)))
        if parts[0].get("state") != want:
            raise Fail("show: state of %s %r, device %r" %
                       (row["arg"], parts[0].get("state"), want))
        return
    raise Fail("unknown op %r" % op)


with open(os.path.join(odir, "vectors.tsv"), encoding="utf-8") as f:
    lines = f.read().splitlines()
header = lines[0].split("\t")
for need in ("id", "idf_version", "config", "op", "arg", "env", "rc", "boot"):
    if need not in header:
        print("conformance: vectors.tsv: no column %r" % need, file=sys.stderr)
        sys.exit(2)
rows = [dict(zip(header, l.split("\t"))) for l in lines[1:] if l.strip()]
for row in rows:
    if filters and not any(s in row["id"] for s in filters):
        continue
    if row["op"] in SKIPPED_OPS:
        skipped += 1
        continue
    try:
        check_vector(row)
        passed += 1
    except Fail as e:
        failed += 1
        print("FAIL %s: %s" % (row["id"], e))
    except OSError as e:
        failed += 1
        print("FAIL %s: %s" % (row["id"], e))
if not filters:
    for vid in sorted(set(REFUSED) - seen_refused):
        print("conformance: note: documented refusal %s was not checked" % vid,
              file=sys.stderr)
if skipped:
    counts = {}
    for r in rows:
        if r["op"] in SKIPPED_OPS and (not filters or
                                       any(s in r["id"] for s in filters)):
            counts[r["op"]] = counts.get(r["op"], 0) + 1
    print("conformance: otadata: %d vectors skipped, not otadata-set "
          "commands: %s (reasons in tests/conformance/otadata.sh)" %
          (skipped, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
if skipped:
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
else:
    print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
exit $?
