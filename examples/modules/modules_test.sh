#!/bin/sh
# modules_test.sh BTF_TOOL BASE MOD_B_SHARDED OUTPUT... -- MODULE.ko...
#
# OUTPUTs are what btf_modules wrote: <module>.btf (split BTF) and <module>.ko (the module
# with .BTF). For each input MODULE.ko:
#  1. its split BTF parses on the base and has the module's own types, fewer than the
#     module's standalone BTF has (the types it shares with the base are not repeated);
#  2. the .ko copy has a .BTF section with the same BTF;
#  3. the split BTF is byte for byte what a one-shot `btf encode --base` writes (the
#     action may have run in a persistent worker that kept the base);
# and the BTF of mod_b merged from its objects' shards equals the whole-module one.
set -eu
tool=$1
base=$2
sharded_b=$3
shift 3
tmp=${TEST_TMPDIR:-$(mktemp -d)}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

outputs=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	outputs="$outputs $1"
	shift
done
[ $# -gt 0 ] || fail "no -- before the modules"
shift
[ $# -gt 0 ] || fail "no modules"

# output NAME EXT: the output of btf_modules for module NAME with extension EXT.
output() {
	for o in $outputs; do
		case $o in */"$1.$2") echo "$o" && return ;; esac
	done
	fail "no $1.$2 among the outputs:$outputs"
}

# total FILE [--base BASE]: the number of types btf stat counts.
total() {
	"$tool" stat "$@" >"$tmp/stat.txt" || fail "btf stat $*"
	awk '$1 == "total" { print $2 }' "$tmp/stat.txt"
}

# has KIND MIN: the last stat has at least MIN types of KIND.
has() {
	n=$(awk -v k="$1" '$1 == k { print $2 }' "$tmp/stat.txt")
	[ "${n:-0}" -ge "$2" ] || fail "$mod: want at least $2 $1, have ${n:-0}"
}

for ko in "$@"; do
	mod=$(basename "$ko" .ko)
	btf=$(output "$mod" btf)
	elf=$(output "$mod" ko)

	split=$(total --base "$base" "$btf")
	echo "== $mod: $split types on the base"
	cat "$tmp/stat.txt"
	has STRUCT 1
	has FUNC 1
	"$tool" encode -o "$tmp/$mod.standalone.btf" --btf_gen_floats "$ko" || fail "btf encode $ko"
	alone=$(total "$tmp/$mod.standalone.btf")
	"$tool" encode -o "$tmp/$mod.oneshot.btf" --base "$base" --btf_gen_floats "$ko" || fail "btf encode --base $ko"
	cmp -s "$btf" "$tmp/$mod.oneshot.btf" || fail "$btf differs from a one-shot btf encode --base"
	[ "$split" -lt "$alone" ] || fail "$mod: split BTF has $split types, standalone $alone: nothing taken from the base"

	# `btf stat` of an ELF reads its .BTF section; there is none without one.
	if "$tool" stat --base "$base" "$ko" >/dev/null 2>&1; then
		fail "$ko (the input) already has .BTF"
	fi
	"$tool" diff --base "$base" "$btf" "$elf" >"$tmp/diff.txt" 2>&1 || {
		cat "$tmp/diff.txt" >&2
		fail "$elf: its .BTF differs from $btf"
	}
done

"$tool" diff --base "$base" "$(output mod_b btf)" "$sharded_b" >"$tmp/diff.txt" 2>&1 || {
	cat "$tmp/diff.txt" >&2
	fail "mod_b from shards ($sharded_b) differs from mod_b encoded whole"
}
echo "PASS"
