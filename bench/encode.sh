#!/bin/bash
# encode.sh - vmlinux to BTF in one process: `btf encode -j J` against pahole -jJ with the
# same features, interleaved, medians of wall, CPU and peak RSS.
#
#   1.32 mode: btf encode --compat 1.32 vs pahole 1.32 (Debian sid, in the chroot of
#              tools/ci/setup-bazel.sh), both with Linux 6.12's --btf_features
#   1.24 mode: btf encode --compat 1.24 vs the host's pahole 1.24 (Debian 12's dwarves),
#              both with Linux 6.1's --btf_gen_floats --lang_exclude=rust
#
# Both write raw BTF to a file (pahole --btf_encode_detached, btf encode -o); neither
# touches the ELF. The issue's targets read: wall(ours -j2) / wall(pahole 1.32 -j2) <= 0.5,
# peak RSS(ours -j2) / peak RSS(pahole -j2) <= 1.0; bench/encode-cpu.sh (this script with
# -j 1) gives CPU-seconds against single-threaded pahole.
#
# Usage: bench/encode.sh [--runs N] [--modes 132,124] [-j J]
#   --runs   interleaved runs per side (default 5)
#   --modes  which peers (default both; 132 needs the sid chroot)
#   -j       workers of both sides (default 2); 1 runs pahole without -j (single thread)
# RULES_BTF_DATA overrides the data directory (default /var/cache/rules_btf/kernel).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=5 modes="132 124" jobs=2
usage() { echo "usage: bench/encode.sh [--runs N] [--modes 132,124] [-j J]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
    --modes) [ $# -ge 2 ] || usage; modes=${2//,/ }; shift ;;
    -j) [ $# -ge 2 ] || usage; jobs=$2; shift ;;
    *) usage ;;
  esac
  shift
done
bench_check_runs "$runs"
case $jobs in '' | *[!0-9]* | 0) usage ;; esac

bench_init
bench_btf
vmlinux=$BENCH_DATA/vmlinux
[ -f "$vmlinux" ] || bench_die "no $vmlinux"
# pahole takes -jN attached (an optional argument); without -j it is single-threaded.
pj=(); [ "$jobs" -gt 1 ] && pj=("-j$jobs")
cat "$vmlinux" >/dev/null # into the page cache before the first timed run

for mode in $modes; do
  case $mode in
    132)
      bench_chroot
      bench_share "$vmlinux"
      peer=("${BENCH_PAHOLE_NEW[@]}" "${pj[@]}" "${BENCH_PAHOLE_132[@]}"
        --btf_encode_detached="$BENCH_SHARED/peer.btf" "$BENCH_SHARED/vmlinux")
      ours=("$BENCH_BTF" encode -j "$jobs" "${BENCH_OURS_132[@]}" -o "$BENCH_WORK/ours.btf" "$vmlinux")
      peername="pahole $("${BENCH_PAHOLE_NEW[@]}" --version)"
      ;;
    124)
      bench_pkg pahole dwarves
      peer=(pahole "${pj[@]}" "${BENCH_PAHOLE_124[@]}" --btf_encode_detached="$BENCH_WORK/peer.btf" "$vmlinux")
      ours=("$BENCH_BTF" encode -j "$jobs" "${BENCH_OURS_124[@]}" -o "$BENCH_WORK/ours.btf" "$vmlinux")
      peername="pahole $(pahole --version)"
      ;;
    *) usage ;;
  esac
  bench_log "mode $mode: $runs runs of $peername and btf encode, -j $jobs"
  bench_ab "$runs" peer ours
  bench_table "vmlinux, $mode mode: btf encode -j $jobs vs $peername ${pj[*]:-(single thread)}" "${peer[*]}" "${ours[*]}"
done
