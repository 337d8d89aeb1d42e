#!/bin/sh
# Installs the Debian packages the build needs, but only those missing.
# Usage: scripts/deps.sh [build|test|fuzz|lint|bench|browser]...  (default: build)
# Run as root, or with sudo available.  Does nothing when all are present.
set -eu

want="${*:-build}"
pkgs=""
need() { # need PACKAGE TEST-COMMAND...
	pkg=$1; shift
	if ! "$@" >/dev/null 2>&1; then pkgs="$pkgs $pkg"; fi
}

for w in $want; do
	case $w in
	build)
		need make command -v make
		need gcc command -v cc
		need pkg-config command -v pkg-config
		need libssl-dev pkg-config --exists libcrypto
		need libyaml-dev pkg-config --exists yaml-0.1
		need zlib1g-dev pkg-config --exists zlib
		;;
	test)
		need libcriterion-dev pkg-config --exists criterion
		need python3 command -v python3
		need python3-yaml python3 -c 'import yaml'
		need binutils command -v readelf
		need openssl command -v openssl
		;;
	fuzz)
		need clang command -v clang
		need libclang-rt-14-dev sh -c 'ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'
		;;
	lint)
		need mandoc command -v mandoc
		;;
	bench)
		need hyperfine command -v hyperfine
		need openssl command -v openssl
		need time test -x /usr/bin/time
		;;
	browser)
		# Headless Chromium renders esp-flashimg's SVG map to PNG in
		# tests/conformance/flashimg.sh.
		need chromium command -v chromium
		;;
	*) echo "deps.sh: unknown group '$w'" >&2; exit 2 ;;
	esac
done

[ -z "$pkgs" ] && exit 0
echo "deps.sh: installing missing Debian packages:$pkgs" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then sudo=sudo; else
		echo "deps.sh: need root or sudo to install:$pkgs" >&2; exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $pkgs >&2
