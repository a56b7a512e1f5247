#!/bin/sh
# example_test.sh BTF_TOOL MERGED_BTF PROGRAM [BTF_FLAG...]
#
# 1. The BTF merged from per-object shards equals `btf encode` of the whole linked program
#    with the same flags (same types, whatever the IDs): sharding changes nothing.
# 2. The merged BTF has what the example's sources exercise.
set -eu
tool=$1
merged=$2
program=$3
shift 3
tmp=${TEST_TMPDIR:-$(mktemp -d)}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

"$tool" encode -o "$tmp/whole.btf" "$@" "$program" || fail "btf encode $program"
if ! "$tool" diff "$merged" "$tmp/whole.btf" >"$tmp/diff.txt" 2>&1; then
	cat "$tmp/diff.txt" >&2
	fail "sharded BTF ($merged) differs from btf encode of $program"
fi

"$tool" stat "$merged" >"$tmp/stat.txt" || fail "btf stat $merged"
cat "$tmp/stat.txt"
count() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/stat.txt"; }
atleast() {
	n=$(count "$1")
	[ "${n:-0}" -ge "$2" ] || fail "want at least $2 $1 ($3), have ${n:-0}"
}
atleast STRUCT 8 "flags packet inner buffer table wire cacheline opaque, and anonymous ones"
atleast UNION 3 "the anonymous unions of packet and opaque"
atleast ENUM 1 "enum color"
atleast ENUM64 1 "enum big, enum signed_big"
atleast FUNC 10 "the program's functions"
atleast FUNC_PROTO 4 "cmp_fn, handler_fn, lookup_fn and the functions'"
atleast TYPEDEF 5 "the u32_t -> id_t2 -> cid_t chain and the function pointer types"
atleast FLOAT 2 "float and double members"
atleast VAR 2 "percpu_counter and percpu_line"
atleast DATASEC 1 ".data..percpu"
fwd=$(count FWD)
[ "${fwd:-0}" -eq 0 ] || fail "want no FWD (struct opaque is defined in b.c), have $fwd"
echo "PASS"
