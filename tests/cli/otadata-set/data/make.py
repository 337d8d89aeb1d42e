#!/usr/bin/env python3
"""Writes the otadata-set CLI fixtures in this directory.

Every blob is built here from the record layout (seq, 20 label bytes,
state, CRC of the seq bytes as zlib.crc32(seq, 0xFFFFFFFF); records at 0x0
and 0x1000, everything else 0xFF), independently of otadata-set.  The
binary tables come from gen-partitions:

    gen-partitions partitions/partitions_ota_user.csv data/ota2.bin
    gen-partitions -o 0x1000 data/small.csv data/small.bin

Run from the repository root: python3 tests/cli/otadata-set/data/make.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
NEW, PENDING, VALID, INVALID, ABORTED, UNDEF = 0, 1, 2, 3, 4, 0xFFFFFFFF


def record(seq, state, label=b"\xff" * 20, crc=None):
    s = struct.pack("<I", seq)
    if crc is None:
        crc = zlib.crc32(s, 0xFFFFFFFF)
    return s + label + struct.pack("<II", state, crc)


def blob(e0=None, e1=None, size=0x2000):
    b = bytearray(b"\xff" * size)
    if e0:
        b[0:32] = e0
    if e1:
        b[0x1000:0x1020] = e1
    return b


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(bytes(data))


write("blank.bin", blob())
# ota_0 selected: what the bootloader leaves after booting blank otadata.
write("ota0.bin", blob(record(1, VALID)))
# ota_1 selected after one update (app without rollback).
write("ota1.bin", blob(record(1, VALID), record(2, UNDEF)))
# ota_1 just installed with rollback, booted once: PENDING_VERIFY.
write("pending.bin", blob(record(1, VALID), record(2, PENDING)))
# ota_1 installed with rollback, not booted yet.
write("new.bin", blob(record(1, VALID), record(2, NEW)))
# Only ota_1 is recorded and waits for confirmation: nothing to roll back to.
write("pending-only.bin", blob(None, record(2, PENDING)))
# Damage: entry 0 has a label and a CRC computed as plain CRC-32 (a common
# re-implementation mistake), entry 1 an unknown state and bytes after it.
e0 = record(3, VALID, label=b"release-2026.11\0\0\0\0\0",
            crc=zlib.crc32(struct.pack("<I", 3)))
c = blob(e0, record(2, 7))
c[0x1100:0x1104] = b"junk"
write("corrupt.bin", c)
# Cut short inside entry 1.
write("short.bin", blob(record(1, VALID), record(2, UNDEF))[:0x1010])
# Near the top of the seq range (2 slots): entry 1 is active for ota_1.
write("wrap.bin", blob(record(0xFFFFFFFD, UNDEF), record(0xFFFFFFFE, UNDEF)))
# 4 slots, seq 0xFFFFFFFE (ota_1): no seq for ota_0 is ever found.
write("hang4.bin", blob(record(0xFFFFFFFE, UNDEF)))

# A 16 KiB flash image: the table of small.csv at 0x1000 (gen-partitions
# -o 0x1000), otadata at 0x2000 selecting ota_0; the apps lie beyond the
# image, which otadata-set does not need.
with open(os.path.join(HERE, "small.bin"), "rb") as f:
    table = f.read()
img = bytearray(b"\xff" * 0x4000)
img[0x1000:0x1000 + len(table)] = table
img[0x2000:0x4000] = blob(record(1, VALID))
write("flash.bin", img)
