#!/bin/bash
# scaling.sh - how the cost of our BTF grows with the input, on vmlinux: the table in the
# README's "Scaling" section.
#
#   1. `btf shard --cus i/N` of one CU range (the middle one) for N = 64, 8, 2, 1: the work
#      of one BtfConvert action, against the size of its input;
#   2. `btf merge --elf` of all N shards for N = 1, 2, 8, 64: the BtfMerge action, whose
#      input is always the whole kernel's types;
#   3. `btf encode -j 1` and `-j 2` of the whole vmlinux (both stages in one process).
#
# Each line is the median of --runs runs (default 3): wall seconds, CPU seconds
# (user+sys) and peak RSS. The machine is shared: compare lines of one run, not across
# runs. --compat 1.24|1.32 selects the mode (default 1.32, Linux 6.12's features).
#
# Usage: bench/scaling.sh [--runs N] [--compat 1.24|1.32]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
runs=3 compat=1.32
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --compat) compat=$2; shift ;;
    *) echo "usage: bench/scaling.sh [--runs N] [--compat 1.24|1.32]" >&2; exit 2 ;;
  esac
  shift
done
bench_init
bench_btf
if [ "$compat" = 1.24 ]; then flags=("${BENCH_OURS_124[@]}"); else flags=("${BENCH_OURS_132[@]}"); fi
vmlinux=$BENCH_DATA/vmlinux
w=$BENCH_WORK

# measure LABEL CMD...: runs CMD $runs times; prints "LABEL | wall | cpu | rss".
measure() {
  local label=$1; shift
  local walls=() cpus=() rsss=() i out
  for i in $(seq 1 "$runs"); do
    out=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -1)
    read -r e u s m <<<"$out"
    walls+=("$e"); cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u + s}')"); rsss+=("$((m / 1024))")
  done
  printf '%-44s | %8s | %8s | %8s\n' "$label" "$(median "${walls[@]}")" "$(median "${cpus[@]}")" "$(median "${rsss[@]}")"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

info_mb=$(( $(readelf -S -W "$vmlinux" | awk '$2==".debug_info"{print "0x"$6}') / 1048576 ))
echo "== scaling on vmlinux ($info_mb MB .debug_info), mode $compat, median of $runs runs"
printf '%-44s | %8s | %8s | %8s\n' "step (input)" "wall s" "CPU s" "RSS MB"
for n in 64 8 2 1; do
  i=$(( n / 2 + 1 )); [ "$n" = 1 ] && i=1
  measure "shard --cus $i/$n (1/$n of .debug_info)" \
    "$BENCH_BTF" shard --cus "$i/$n" "${flags[@]}" -o "$w/probe.shard" "$vmlinux"
done
for n in 1 2 8 64; do
  shards=()
  for i in $(seq 1 "$n"); do
    "$BENCH_BTF" shard --cus "$i/$n" "${flags[@]}" -o "$w/s$n.$i" "$vmlinux"
    shards+=("$w/s$n.$i")
  done
  measure "merge --elf of $n shards" "$BENCH_BTF" merge --elf "$vmlinux" "${flags[@]}" -o "$w/m.btf" "${shards[@]}"
  rm -f "${shards[@]}"
done
for j in 1 2; do
  measure "encode -j $j (whole vmlinux)" "$BENCH_BTF" encode -j "$j" "${flags[@]}" -o "$w/e.btf" "$vmlinux"
done
