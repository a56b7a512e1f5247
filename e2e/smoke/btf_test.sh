#!/bin/sh
# btf_test.sh BTF_TOOL PROG_BTF - the merged BTF has the program's types and functions.
set -eu
stat=${TEST_TMPDIR:-.}/stat.txt
"$1" stat "$2" > "$stat" || { echo "FAIL: btf stat $2" >&2; exit 1; }
cat "$stat"
for kind in STRUCT FUNC; do
	n=$(awk -v k="$kind" '$1 == k { print $2 }' "$stat")
	[ "${n:-0}" -ge 2 ] || { echo "FAIL: want at least 2 $kind (point, shape; main, shape_area), have ${n:-0}" >&2; exit 1; }
done
echo PASS
