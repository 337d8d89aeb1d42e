#!/bin/sh
# Writes the esp-verify CLI fixtures in this directory with our own tools
# (run `make` first); run from the repository root:
#   tests/cli/esp-verify/data/make.sh
#
# table.bin           small.csv as gen-partitions writes it (with its MD5
#                     row)
# table-badmd5.bin    the same with one byte of ota_1's name changed, so the
#                     MD5 row no longer matches
# otadata.bin         otadata for small.csv selecting ota_1 (otadata-set)
# otadata-badcrc.bin  the same with the CRC of its active record broken
# rsa3072.digest      the eFuse key digest of tests/keys/rsa3072.pem, the 32
#                     bytes esp-sign --digest writes
set -eu
BUILD=${BUILD:-build}
d=tests/cli/esp-verify/data
"$BUILD/bin/gen-partitions" -q "$d/small.csv" "$d/table.bin"
cp "$d/table.bin" "$d/table-badmd5.bin"
# entry 4 (ota_1): its name starts at 4 * 32 + 12
printf 'X' | dd of="$d/table-badmd5.bin" bs=1 seek=140 conv=notrunc status=none
rm -f "$d/otadata.bin"
"$BUILD/bin/otadata-set" -q --table "$d/small.csv" init "$d/otadata.bin"
"$BUILD/bin/otadata-set" -q --table "$d/small.csv" set-boot --partition ota_1 \
	"$d/otadata.bin"
cp "$d/otadata.bin" "$d/otadata-badcrc.bin"
# set-boot ota_1 from blank writes seq 2 into the record at 0x0; its CRC
# is the word at byte 28 of the 32-byte record
printf '\000' | dd of="$d/otadata-badcrc.bin" bs=1 seek=28 conv=notrunc \
	status=none
"$BUILD/bin/esp-sign" -q --digest tests/keys/rsa3072.pub.pem \
	-o "$d/rsa3072.digest"
