#!/bin/sh
# modules_test.sh BTF_TOOL BASE RING_BTF RING_KO - ring's split BTF parses on the base, has
# struct ring and ring_push but not struct shape (the base's), and ring.ko carries it.
set -eu
tool=$1
base=$2
btf=$3
ko=$4
stat=${TEST_TMPDIR:-.}/stat.txt
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
"$tool" stat --base "$base" "$btf" >"$stat" || fail "btf stat --base $base $btf"
cat "$stat"
count() { awk -v k="$1" '$1 == k { print $2 }' "$stat"; }
[ "$(count STRUCT)" = 1 ] || fail "want 1 STRUCT (ring; shape and point are the base's), have $(count STRUCT)"
[ "$(count FUNC)" = 1 ] || fail "want 1 FUNC (ring_push), have $(count FUNC)"
"$tool" diff --base "$base" "$btf" "$ko" || fail "$ko: its .BTF differs from $btf"
echo PASS
