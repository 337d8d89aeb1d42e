#!/bin/sh
# Writes the esp-flashimg CLI fixtures in this directory with our own tools
# (run `make` first); run from the repository root:
#   tests/cli/esp-flashimg/data/make.sh
#
# table.bin    small.csv as gen-partitions writes it (with its MD5 row)
# otadata.bin  otadata for small.csv selecting ota_1 (otadata-set)
set -eu
BUILD=${BUILD:-build}
d=tests/cli/esp-flashimg/data
"$BUILD/bin/gen-partitions" -q "$d/small.csv" "$d/table.bin"
rm -f "$d/otadata.bin"
"$BUILD/bin/otadata-set" -q --table "$d/small.csv" init "$d/otadata.bin"
"$BUILD/bin/otadata-set" -q --table "$d/small.csv" set-boot --partition ota_1 \
	"$d/otadata.bin"
