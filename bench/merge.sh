#!/bin/bash
# merge.sh - `btf merge` of vmlinux's CU-range shards against libbpf's btf__dedup of the
# same types appended; the issue's target is ours / libbpf <= 2.
#
# Setup (not timed): `btf shard --cus i/N` makes the N shards; `btf merge --elf vmlinux`
# of them gives the reference output; bench/libbpf-dedup/combine writes the types that
# merge deduplicates (the shards' types in link order plus the FUNCs, VARs and DATASECs
# chosen from vmlinux's symbol table, not deduplicated) as raw BTF and checks that our
# dedup of them is, byte for byte, the reference output; bench/libbpf-dedup/dedup.c is
# compiled against Debian's libbpf-dev (libbpf 1.1).
#
# Two tables, each with its own interleaved runs:
#
#   1. Whole process, what one merge action costs:
#        peer: dedup.c on the combined BTF: read it, btf__add_btf into an empty BTF,
#              btf__dedup, write raw BTF
#        ours: btf merge --elf vmlinux -o OUT SHARD...: read the shards and vmlinux's
#              symbol table, combine (FUNC/VAR selection), dedup, write raw BTF
#      Ours does more (reading vmlinux, choosing FUNCs and VARs): that is the work a
#      merge has to do, and the issue's ratio is this one.
#   2. Dedup alone, in process, on identical input: libbpf's btf__dedup (dedup.c's
#      dedup_s) against dedup.DedupTable (combine --time's dedup_s), wall clock; dedup_cpu_s
#      is the CPU of the process meanwhile (Go's garbage collector included).
#
# The default mode is 124: Debian 12's libbpf-dev is libbpf 1.1, the dedup pahole 1.24
# uses and our 1.24 mode reproduces, so both sides run the same algorithm. In 132 mode
# ours reproduces libbpf 1.7.0's dedup (pahole 1.32's; dedup.Options.Libbpf170), which
# differs in details (typedefs in the struct pass, a deeper identical-types fallback).
#
# Usage: bench/merge.sh [--runs N] [--mode 124|132] [--shards N]
#   --runs    interleaved runs per side and table (default 5)
#   --mode    flags of the shards and the merge (default 124)
#   --shards  number of CU-range shards (default 7, as //bench/vmlinux:vmlinux_124_7)
# RULES_BTF_DATA overrides the data directory (default /var/cache/rules_btf/kernel).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=5 mode=124 nshards=7
usage() { echo "usage: bench/merge.sh [--runs N] [--mode 124|132] [--shards N]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
    --mode) [ $# -ge 2 ] || usage; mode=$2; shift ;;
    --shards) [ $# -ge 2 ] || usage; nshards=$2; shift ;;
    *) usage ;;
  esac
  shift
done
bench_check_runs "$runs"
case $nshards in '' | *[!0-9]* | 0) usage ;; esac
case $mode in
  124) flags=("${BENCH_OURS_124[@]}") compat=1.24 ;;
  132) flags=("${BENCH_OURS_132[@]}") compat=1.32 ;;
  *) usage ;;
esac

bench_init
bench_btf
bench_pkg /usr/include/bpf/btf.h libbpf-dev
bench_pkg cc gcc
bench_pkg pkg-config pkg-config
vmlinux=$BENCH_DATA/vmlinux
[ -f "$vmlinux" ] || bench_die "no $vmlinux"
W=$BENCH_WORK

bench_log "compiling dedup.c and combine"
cc -O2 -o "$W/dedup" "$BENCH_ROOT/bench/libbpf-dedup/dedup.c" $(pkg-config --cflags --libs libbpf) ||
  bench_die "cannot compile dedup.c against libbpf-dev"
(cd "$BENCH_ROOT" && go build -o "$W/combine" ./bench/libbpf-dedup/combine) || bench_die "go build combine failed"

bench_log "$nshards shards of vmlinux ($mode mode)"
shards=()
for i in $(seq 1 "$nshards"); do
  "$BENCH_BTF" shard --cus "$i/$nshards" "${flags[@]}" -o "$W/s.$i" "$vmlinux" || bench_die "btf shard --cus $i/$nshards failed"
  shards+=("$W/s.$i")
done
"$BENCH_BTF" merge "${flags[@]}" --elf "$vmlinux" -o "$W/merged.btf" "${shards[@]}" || bench_die "btf merge failed"
"$W/combine" --compat "$compat" --elf "$vmlinux" -o "$W/combined.btf" --check "$W/merged.btf" "${shards[@]}" ||
  bench_die "combine: the combined BTF is not what btf merge deduplicates"
read -r _ nin nout < <("$W/dedup" -o "$W/libbpf.btf" "$W/combined.btf" | grep '^types')
bench_log "combined BTF: $nin types; libbpf $(dpkg-query -W -f '${Version}' libbpf1 2>/dev/null) dedups them to $nout, btf merge to $("$BENCH_BTF" stat "$W/merged.btf" | awk '$1 == "total" { print $2 }')"

peer=("$W/dedup" -o "$W/peer.btf" "$W/combined.btf")
ours=("$BENCH_BTF" merge "${flags[@]}" --elf "$vmlinux" -o "$W/ours.btf" "${shards[@]}")
bench_log "whole process: $runs runs"
bench_ab "$runs" peer ours
bench_table "merge of $nshards vmlinux shards, $mode mode, whole process: btf merge vs libbpf read + btf__add_btf + btf__dedup + write" \
  "dedup.c on the combined BTF ($nin types)" "btf merge --elf vmlinux of the $nshards shards"

ours=("$W/combine" --compat "$compat" --elf "$vmlinux" --time "${shards[@]}")
bench_log "dedup alone: $runs runs"
bench_ab "$runs" peer ours
bench_table "dedup of the same $nin types, $mode mode: dedup.DedupTable vs libbpf btf__dedup (in process: dedup_s, dedup_cpu_s)" \
  "dedup.c: btf__dedup" "combine --time: dedup.DedupTable"
