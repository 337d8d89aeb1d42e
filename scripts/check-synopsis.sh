#!/bin/sh
# Checks that the SYNOPSIS of every man1 page renders to the same text as
# the usage line of its tool's --help (the first line without "usage: ",
# with the lines that continue it up to the first empty line), white space
# aside: same options, same order, same argument names, same brackets.
# Pages whose tool is not built in BUILD_BIN_DIR are skipped.
#
# Usage: scripts/check-synopsis.sh BUILD_BIN_DIR
# Environment: MANDOC (default mandoc).
# Exit status: 0 all checked pages agree, 1 a page differs (a diff is
# printed), 2 usage error or missing mandoc/col.
set -u

prog=check-synopsis
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: scripts/check-synopsis.sh BUILD_BIN_DIR" >&2
	exit 2
fi
bindir=$(cd "$1" && pwd)
cd "$(dirname "$0")/.." || exit 2
mandoc=${MANDOC:-mandoc}
for t in "$mandoc" col diff; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "$prog: $t not found" >&2
		exit 2
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-synopsis.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

# Collapses all white space to single blanks, without leading or trailing
# blanks.
normalise() {
	tr -s ' \t\n' '   ' | sed -e 's/^ //' -e 's/ $//'
}

# The rendered SYNOPSIS section of a page: the lines after the "SYNOPSIS"
# heading up to the next section heading (a line that is not indented).
synopsis() {
	"$mandoc" -Tascii "$1" | col -b | awk '
		/^SYNOPSIS$/ { on = 1; next }
		on && /^[^ \t]/ { exit }
		on { print }'
}

status=0 checked=0
for page in man/man1/*.1; do
	[ -f "$page" ] || continue
	tool=$(basename "$page" .1)
	bin=$bindir/$tool
	if [ ! -x "$bin" ]; then
		echo "$prog: $page: skipped, no $bin"
		continue
	fi
	checked=$((checked + 1))
	synopsis "$page" | normalise > "$tmp/man"
	"$bin" --help 2>/dev/null | awk '
		NR == 1 { sub(/^usage: /, "") }
		/^[ \t]*$/ { exit }
		{ print }' | normalise > "$tmp/help"
	if [ ! -s "$tmp/man" ]; then
		echo "$prog: $page: no SYNOPSIS rendered" >&2
		status=1
		continue
	fi
	if cmp -s "$tmp/man" "$tmp/help"; then
		echo "$prog: $page: SYNOPSIS matches $tool --help"
		continue
	fi
	status=1
	echo "$prog: $page: SYNOPSIS differs from the usage line of $tool --help" >&2
	echo "  man:  $(cat "$tmp/man")" >&2
	echo "  help: $(cat "$tmp/help")" >&2
	# One word per line, so the diff points at the word that differs.
	tr ' ' '\n' < "$tmp/man" > "$tmp/man.words"
	tr ' ' '\n' < "$tmp/help" > "$tmp/help.words"
	diff -u "$tmp/man.words" "$tmp/help.words" |
		sed -e '1s|.*|--- man page SYNOPSIS|' -e "2s|.*|+++ $tool --help|" >&2
done
if [ $checked -eq 0 ]; then
	echo "$prog: no man1 page has its tool in $bindir" >&2
fi
exit $status
