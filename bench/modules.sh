#!/bin/bash
# modules.sh - every kernel module's split BTF on vmlinux's: total CPU of `btf encode -j 1
# --base` over all modules against pahole's over the same modules, interleaved. The
# issue's target is CPU(ours) / CPU(pahole) <= 0.5 over all 1,121 modules.
#
# One side of one run converts every module of the list, one process per module, one
# module after the other (--parallel P: P at a time), inside a single /usr/bin/time: its
# wall is the whole list's, its CPU the sum over the modules' processes, its peak RSS
# the largest single process's.
#
#   1.24 mode: btf encode --compat 1.24 vs the host's pahole 1.24 (--btf_gen_floats
#              --lang_exclude=rust --btf_base vmlinux.btf)
#   1.32 mode: btf encode --compat 1.32 vs pahole 1.32 in the sid chroot (Linux 6.12's
#              --btf_features); the modules are hard-linked into the chroot
# The base is the vmlinux's embedded BTF (vmlinux.btf), as for the pahole references.
#
# Our side takes one of two forms (--ours; both by default, one table each):
#   process  one `btf encode` process per module, as pahole runs
#   worker   what a Bazel build runs: the same command lines as requests to
#            `btf --persistent_worker` (one worker per --parallel lane), which reads
#            the base once and keeps it; CPU is still every process's total
#
# Usage: bench/modules.sh [--runs N] [--modes 124,132] [--sample N] [--parallel P] [--ours process,worker]
#   --runs      interleaved runs per side (default 5)
#   --modes     which peers (default 124; 132 needs the sid chroot)
#   --sample N  a fixed sample of at least N modules (every k-th in path order, as in
#               bench/fidelity.sh) instead of all
#   --parallel  modules converted at a time by each side (default 1)
#   --ours      our side's forms (default process,worker)
# RULES_BTF_DATA overrides the data directory (default /var/cache/rules_btf/kernel).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=5 modes=124 sample=all par=1 forms="process worker"
usage() { echo "usage: bench/modules.sh [--runs N] [--modes 124,132] [--sample N] [--parallel P] [--ours process,worker]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
    --modes) [ $# -ge 2 ] || usage; modes=${2//,/ }; shift ;;
    --sample) [ $# -ge 2 ] || usage; sample=$2; shift ;;
    --parallel) [ $# -ge 2 ] || usage; par=$2; shift ;;
    --ours) [ $# -ge 2 ] || usage; forms=${2//,/ }; shift ;;
    *) usage ;;
  esac
  shift
done
bench_check_runs "$runs"
case $par in '' | *[!0-9]* | 0) usage ;; esac
case $sample in all) ;; '' | *[!0-9]* | 0) usage ;; esac
for f in $forms; do case $f in process | worker) ;; *) usage ;; esac; done

bench_init
bench_btf
base=$BENCH_DATA/vmlinux.btf
[ -f "$base" ] && [ -d "$BENCH_DATA/modules" ] || bench_die "no $base or $BENCH_DATA/modules"

list=$BENCH_WORK/modules.txt
(cd "$BENCH_DATA/modules" && find . -name '*.ko' -printf '%P\n' | LC_ALL=C sort) >"$list"
total=$(wc -l <"$list")
if [ "$sample" != all ]; then
  step=$((total / sample > 0 ? total / sample : 1))
  awk -v s="$step" 'NR % s == 1 || s == 1' "$list" >"$list.sample" && mv "$list.sample" "$list"
fi
n=$(wc -l <"$list")
# Warm the page cache: the first timed side must not pay for reading the modules.
(cd "$BENCH_DATA/modules" && xargs cat <"$list" >/dev/null)

# side NAME MODDIR OUTDIR CMD...: writes $BENCH_WORK/NAME, a script converting the module
# given as its argument (a path relative to MODDIR) with CMD... OUTPUT MODULE, where CMD
# ends with the flag taking the output (pahole's --btf_encode_detached=, our -o). OUTDIR
# (which must exist) is as CMD sees it.
side() {
  local name=$1 moddir=$2 outdir=$3 sep=" "; shift 3
  case ${!#} in *=) sep= ;; esac
  {
    echo '#!/bin/bash'
    echo 'm=$1 o='"$(printf %q "$outdir")"'/${1//\//_}.btf'
    printf '%q ' "${@:1:$#-1}"
    printf '%q%s"$o" %q/"$m" && rm -f "$o"\n' "${!#}" "$sep" "$moddir"
  } >"$BENCH_WORK/$name"
  chmod +x "$BENCH_WORK/$name"
}

# workers SCRIPT ARGS...: writes the requests of --parallel workers, each one every
# P-th module of the list as a JSON WorkRequest running `btf ARGS... -o OUT MODULE`
# (OUT as in side), and SCRIPT, which runs the workers at once and checks that every
# response has exit code 0.
workers() {
  local script=$1 lane; shift
  for ((lane = 0; lane < par; lane++)); do
    DIR=$BENCH_DATA/modules OUT=$BENCH_WORK/ours ARGS=$(printf '%s\n' "$@") \
      awk -f "$(dirname "$0")/requests.awk" -v p="$par" -v lane="$lane" "$list" >"$BENCH_WORK/requests.$lane"
  done
  {
    echo '#!/bin/bash'
    echo "pids=(); for ((l = 0; l < $par; l++)); do"
    printf '  %q --persistent_worker <%q/requests.$l >%q/responses.$l & pids+=($!)\n' "$BENCH_BTF" "$BENCH_WORK" "$BENCH_WORK"
    echo 'done'
    echo 'for p in "${pids[@]}"; do wait "$p" || exit 1; done'
    printf 'n=$(cat %q/requests.* | wc -l)\n' "$BENCH_WORK"
    printf 'ok=$(cat %q/responses.* | grep -c %q)\n' "$BENCH_WORK" '"exitCode":0,'
    printf 'fail=$(cat %q/responses.* | grep -v %q | head -3)\n' "$BENCH_WORK" '"exitCode":0,'
    echo '[ "$ok" = "$n" ] || { echo "$((n - ok)) of $n requests failed: $fail" >&2; exit 1; }'
    printf 'rm -f %q/ours/*.btf\n' "$BENCH_WORK"
  } >"$script"
  chmod +x "$script"
}

for mode in $modes; do
  case $mode in
    124)
      bench_pkg pahole dwarves
      mkdir -p "$BENCH_WORK/peer"
      side peer.sh "$BENCH_DATA/modules" "$BENCH_WORK/peer" \
        pahole "${BENCH_PAHOLE_124[@]}" --btf_base "$base" --btf_encode_detached=
      peername="pahole $(pahole --version)"
      oflags=("${BENCH_OURS_124[@]}")
      ;;
    132)
      bench_chroot
      bench_share "$BENCH_DATA/modules" "$base"
      mkdir -p "$BENCH_CHROOT$BENCH_SHARED/out"
      side peer.sh "$BENCH_SHARED/modules" "$BENCH_SHARED/out" \
        "${BENCH_PAHOLE_NEW[@]}" "${BENCH_PAHOLE_132[@]}" --btf_base "$BENCH_SHARED/vmlinux.btf" --btf_encode_detached=
      peername="pahole $("${BENCH_PAHOLE_NEW[@]}" --version)"
      oflags=("${BENCH_OURS_132[@]}")
      ;;
    *) usage ;;
  esac
  mkdir -p "$BENCH_WORK/ours"
  side ours.sh "$BENCH_DATA/modules" "$BENCH_WORK/ours" "$BENCH_BTF" encode -j 1 "${oflags[@]}" --base "$base" -o
  workers "$BENCH_WORK/worker.sh" encode -j 1 "${oflags[@]}" --base "$base"
  peer=(xargs -a "$list" -P "$par" -n 1 "$BENCH_WORK/peer.sh")
  for form in $forms; do
    case $form in
      process)
        ours=(xargs -a "$list" -P "$par" -n 1 "$BENCH_WORK/ours.sh")
        what="btf encode -j 1, one process per module"
        cmd=$(sed -n 3p "$BENCH_WORK/ours.sh")
        ;;
      worker)
        ours=("$BENCH_WORK/worker.sh")
        what="the same as requests to $par btf --persistent_worker"
        cmd="$BENCH_BTF --persistent_worker < requests like $(head -1 "$BENCH_WORK/requests.0")"
        ;;
    esac
    bench_log "mode $mode: $runs runs of $n modules, $peername and $what, $par at a time"
    bench_ab "$runs" peer ours
    bench_table "$n of $total modules, $mode mode: $what vs $peername --btf_base ($par at a time)" \
      "$(sed -n 3p "$BENCH_WORK/peer.sh")" "$cmd"
  done
done
