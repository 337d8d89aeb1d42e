#!/bin/bash
# scripts/demo.sh - what `make demo` shows: the primary example's partition
# table (gen-partitions), a synthetic ESP32-C3 app (esp-imginfo), otadata
# that boots ota_1 (otadata-set), the app signed for Secure Boot v2 and
# checked (esp-sign, esp-verify), then the example's factory image
# (examples/release-ota-user/run.sh: esp-flashimg build, explain, esp-verify,
# map).  Each command is printed before its output.
#
# Usage: scripts/demo.sh   (run by `make demo`, after `make all synth`)
# Environment: BUILD (default build): the tools are $BUILD/bin/*, the
#   synthesiser $BUILD/tests/mkimage; everything is written to $BUILD/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
demo=$build/demo
table=partitions/partitions_ota_user.csv
# shellcheck disable=SC2054 # the commas are mkimage's, inside its arguments
image_args=(--chip esp32c3 --app hello_world,v1.0.0 --seg dram,2K --seg iram,16K --seg irom,64K)
mkdir -p -- "$demo"

echo "\$ gen-partitions --flash-size 4MB --format text $table $demo/partitions_ota_user.bin"
"$build/bin/gen-partitions" --flash-size 4MB --format text "$table" "$demo/partitions_ota_user.bin"
echo
echo "wrote $demo/partitions_ota_user.bin ($(wc -c <"$demo/partitions_ota_user.bin") bytes)"
echo

echo "\$ mkimage ${image_args[*]} -o $demo/hello_world.bin"
"$build/tests/mkimage" "${image_args[@]}" -o "$demo/hello_world.bin"
echo "\$ esp-imginfo $demo/hello_world.bin"
"$build/bin/esp-imginfo" "$demo/hello_world.bin"
echo

for cmd in "init" "set-boot --partition ota_1" "show"; do
	read -r -a c <<<"$cmd"
	echo "\$ otadata-set --table $table $cmd $demo/otadata.bin"
	"$build/bin/otadata-set" --table "$table" "${c[@]}" "$demo/otadata.bin"
done
echo

echo "\$ openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out $demo/signing-key.pem"
rm -f -- "$demo/signing-key.pem"
(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 \
	-out "$demo/signing-key.pem" 2>/dev/null)
echo "\$ esp-sign --key $demo/signing-key.pem -o $demo/hello_world-signed.bin $demo/hello_world.bin"
"$build/bin/esp-sign" --key "$demo/signing-key.pem" \
	-o "$demo/hello_world-signed.bin" "$demo/hello_world.bin"
echo "\$ esp-sign --digest $demo/signing-key.pem -o $demo/key-digest.bin"
"$build/bin/esp-sign" --digest "$demo/signing-key.pem" -o "$demo/key-digest.bin"
echo "\$ esp-verify --key-digest $demo/key-digest.bin $demo/hello_world-signed.bin $demo/partitions_ota_user.bin $demo/otadata.bin"
"$build/bin/esp-verify" --key-digest "$demo/key-digest.bin" \
	"$demo/hello_world-signed.bin" \
	"$demo/partitions_ota_user.bin" "$demo/otadata.bin"
echo

# The factory image of the same table: bootloader, two app releases and
# otadata for ota_1 in one 4 MB file, explained, verified and drawn.
BUILD=$build examples/release-ota-user/run.sh "$demo/release-ota-user"
