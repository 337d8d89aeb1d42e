#!/bin/sh
# Checks that libespimg.map lists exactly the functions the public headers
# declare with ESPIMG_API, and that the shared library exports nothing else.
# Usage: scripts/check-exports.sh [path/to/libespimg.so]
set -eu
cd "$(dirname "$0")/.."
declared=$(sed -n 's/.*ESPIMG_API[^(]*[ *]\(espimg_[a-z0-9_]*\)(.*/\1/p' include/espimg/*.h | sort -u)
mapped=$(sed -n 's/^[[:space:]]*\(espimg_[a-z0-9_]*\);.*/\1/p' libespimg.map | sort -u)
status=0
if [ "$declared" != "$mapped" ]; then
	echo "check-exports: libespimg.map differs from the ESPIMG_API declarations:" >&2
	printf '%s\n' "$declared" > /tmp/espimg-declared.$$
	printf '%s\n' "$mapped" > /tmp/espimg-mapped.$$
	diff /tmp/espimg-declared.$$ /tmp/espimg-mapped.$$ | sed 's/^/  /' >&2 || true
	rm -f /tmp/espimg-declared.$$ /tmp/espimg-mapped.$$
	status=1
fi
if [ $# -ge 1 ]; then
	exported=$(nm -D --defined-only "$1" | awk '$2 == "T" { print $3 }' | sed 's/@.*//' | sort -u)
	if [ "$exported" != "$declared" ]; then
		echo "check-exports: $1 exports other symbols than the headers declare" >&2
		status=1
	fi
fi
[ $status = 0 ] && echo "check-exports: $(printf '%s\n' "$declared" | wc -l) symbols, map and headers agree"
exit $status
