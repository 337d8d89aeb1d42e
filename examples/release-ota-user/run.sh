#!/bin/bash
# examples/release-ota-user/run.sh - builds the primary example's factory
# image from release.yaml and checks it: synthesises the bootloader and the
# two apps into build/ beside the manifest (tests/synth's mkimage stands in
# for an ESP-IDF build), then runs
#
#   esp-flashimg build release.yaml -o OUTDIR/factory.bin   (+ summary, argfile)
#   esp-flashimg explain OUTDIR/factory.bin                 (what boots, and why)
#   esp-verify OUTDIR/factory.bin                           (as the device would)
#   esp-flashimg map OUTDIR/factory.bin -o OUTDIR/map.svg   (the layout as a picture)
#
# printing each command before its output, as `make demo` does.
#
# Usage: examples/release-ota-user/run.sh [OUTDIR]
#   OUTDIR  where factory.bin, summary.json, flash_args and map.svg go
#           (default: $BUILD/demo/release-ota-user)
# Environment: BUILD (default build; relative to the repository root): the
#   tools are $BUILD/bin/*, the synthesiser $BUILD/tests/mkimage (make synth).
# Exit status: 0 when every step succeeded, else the failing step's status.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-}
if [[ -n $out ]]; then
	mkdir -p -- "$out"
	out=$(cd -- "$out" && pwd)
fi
# Commands are shown relative to the repository root, where this runs.
cd -- "$here/../.."
[[ $out == "$PWD"/* ]] && out=${out#"$PWD"/}
build=${BUILD:-build}
out=${out:-$build/demo/release-ota-user}
ex=examples/release-ota-user
mkdir -p -- "$out" "$ex/build"

for t in "$build/bin/esp-flashimg" "$build/bin/esp-verify" "$build/tests/mkimage"; do
	if [[ ! -x $t ]]; then
		echo "run.sh: $t not built (make all synth)" >&2
		exit 2
	fi
done

# show TOOL ARGS...: prints "$ TOOL ARGS" and runs $build/bin/TOOL; a
# failure stops the script (set -e).
show() {
	local name=$1
	shift
	echo "\$ $name $*"
	"$build/bin/$name" "$@"
}

# The inputs: a bootloader and two releases of the app, all for the ESP32,
# each written to a temporary name and renamed so that two runs at once
# never read a half-written input.
for img in "bootloader.bin --chip esp32 --boot 1 --seg iram,12K" \
	"app-1.0.0.bin --chip esp32 --app ota-demo,1.0.0 --seg dram,2K --seg iram,16K --seg irom,96K" \
	"app-1.1.0.bin --chip esp32 --app ota-demo,1.1.0 --seg dram,2K --seg iram,16K --seg irom,128K"; do
	read -r -a a <<<"$img"
	dest=$ex/build/${a[0]}
	echo "\$ mkimage ${a[*]:1} -o $dest"
	"$build/tests/mkimage" "${a[@]:1}" -o "$dest.$$.tmp"
	mv -f -- "$dest.$$.tmp" "$dest"
done
echo

show esp-flashimg build "$ex/release.yaml" -o "$out/factory.bin" \
	--summary "$out/summary.json" --argfile "$out/flash_args"
echo
show esp-flashimg explain "$out/factory.bin"
echo
show esp-verify "$out/factory.bin"
echo
show esp-flashimg map "$out/factory.bin" -o "$out/map.svg"
