#!/bin/bash
# bazel.sh - vmlinux's BTF through Bazel (N CU-range BtfConvert actions + one BtfMerge)
# against pahole -j2 on the same vmlinux, interleaved; wall clock only. The issue's
# targets: cold build / pahole -j2 <= 1.0; rebuild after one shard's input changed /
# pahole -j2 <= 0.2.
#
#   1. Cold: //bench/vmlinux:vmlinux_<mode>_<N> (bench/vmlinux/BUILD.bazel: the vmlinux
#      split into N CU ranges, one BtfConvert action each, then BtfMerge against the same
#      ELF). The tool (//tools/btf) is built first and stays built; before each timed
#      build the target's shards and merged BTF are deleted from bazel-bin, so Bazel runs
#      all N + 1 actions again and nothing else.
#   2. One shard's input changed: //bench/vmlinux-parts:parts_<mode>. The N shards of
#      //bench/vmlinux all read the one vmlinux file, so no change reruns just one of
#      them. bench/vmlinux-parts instead holds P part files, each vmlinux's debug
#      sections with .debug_info cut down to one CU range (written here with objcopy,
#      removed at exit), converted one action each and merged against vmlinux, as a
#      kernel build's object files would be. Before each timed rebuild one part (the
#      middle one) is swapped for a variant without its last compilation unit (and
#      back, alternately): Bazel reruns that part's BtfConvert and the BtfMerge. The
#      merged BTF of the unchanged parts is checked to equal //bench/vmlinux's first.
#
# The peer is pahole 1.32 -j2 in the sid chroot (mode 132) or the host's pahole 1.24
# -j2 (mode 124), writing raw BTF, as in bench/encode.sh. Bazel runs as
# tools/ci/bazel (installed by tools/ci/setup-bazel.sh if missing); /usr/bin/time sees
# only the Bazel client, so the tables have wall time only, plus what Bazel reports:
# bazel_elapsed_s (the server's "Elapsed time"), critical_path_s, and processes (actions
# run, internal ones included: N + 2 when cold, 3 for the rebuild; more means the
# sources changed during the timed build, e.g. another user of the same tree).
#
# Usage: bench/bazel.sh [--runs N] [--mode 132|124] [--shards 7|64|1] [--parts P] [--keep]
#   --runs    interleaved runs per side and table (default 5)
#   --mode    flags (default 132)
#   --shards  N of //bench/vmlinux:vmlinux_<mode>_<N> (default 7; bench/vmlinux has 1, 7, 64)
#   --parts   number of part files for the rebuild (default 7)
#   --keep    leave the part files (and their Bazel outputs) in place
# RULES_BTF_DATA overrides the data directory (default /var/cache/rules_btf/kernel).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

runs=5 mode=132 nshards=7 nparts=7 keep=false
usage() { echo "usage: bench/bazel.sh [--runs N] [--mode 132|124] [--shards N] [--parts P] [--keep]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift ;;
    --mode) [ $# -ge 2 ] || usage; mode=$2; shift ;;
    --shards) [ $# -ge 2 ] || usage; nshards=$2; shift ;;
    --parts) [ $# -ge 2 ] || usage; nparts=$2; shift ;;
    --keep) keep=true ;;
    *) usage ;;
  esac
  shift
done
bench_check_runs "$runs"
case $nshards in 1 | 7 | 64) ;; *) bench_die "--shards: //bench/vmlinux has 1, 7 or 64" ;; esac
case $nparts in '' | *[!0-9]* | 0 | 1) bench_die "--parts wants 2 to 99" ;; esac
[ "$nparts" -le 99 ] || bench_die "--parts wants 2 to 99"

bench_init
cd "$BENCH_ROOT"
W=$BENCH_WORK
vmlinux=$BENCH_DATA/vmlinux
[ -f "$vmlinux" ] || bench_die "no $vmlinux"
bazel=(tools/ci/bazel)
if ! "${bazel[@]}" info >/dev/null 2>&1; then
  bench_log "no Bazel: running tools/ci/setup-bazel.sh"
  tools/ci/setup-bazel.sh >/dev/null 2>&1 || bench_die "tools/ci/setup-bazel.sh failed"
fi
bench_pkg objcopy binutils

case $mode in
  132)
    bench_chroot
    bench_share "$vmlinux"
    peer=("${BENCH_PAHOLE_NEW[@]}" -j2 "${BENCH_PAHOLE_132[@]}"
      --btf_encode_detached="$BENCH_SHARED/peer.btf" "$BENCH_SHARED/vmlinux")
    peername="pahole $("${BENCH_PAHOLE_NEW[@]}" --version) -j2"
    ;;
  124)
    bench_pkg pahole dwarves
    peer=(pahole -j2 "${BENCH_PAHOLE_124[@]}" --btf_encode_detached="$W/peer.btf" "$vmlinux")
    peername="pahole $(pahole --version) -j2"
    ;;
  *) usage ;;
esac

# Bazel may not see files outside the workspace: the vmlinux is hard-linked into both
# packages (as bench/fidelity.sh does for bench/vmlinux).
ln -f "$vmlinux" bench/vmlinux/vmlinux 2>/dev/null || cp "$vmlinux" bench/vmlinux/vmlinux
P=bench/vmlinux-parts
rm -f "$P"/part-*.o
ln -f "$vmlinux" "$P/vmlinux" 2>/dev/null || cp "$vmlinux" "$P/vmlinux"
$keep || bench_on_exit bash -c 'rm -f "$1"/part-*.o "$1/vmlinux"; rm -rf bazel-bin/"$1"' _ "$P"

# ---------------------------------------------------------------- the part files
# .debug_info is a sequence of units, each starting with its length (4 bytes, or
# 0xffffffff and 8 bytes for 64-bit DWARF); every reference our decoder follows is
# unit-relative or into another section (kept whole), so a run of whole units is valid
# .debug_info on its own. The parts are balanced by size of .debug_info.
bench_log "writing $nparts part files"
objcopy --dump-section .debug_info="$W/info" "$vmlinux" /dev/null
objcopy --only-keep-debug -R '.rela*' -R .debug_line -R .debug_frame -R .debug_aranges \
  "$vmlinux" "$W/debug" 2>/dev/null
size=$(stat -c %s "$W/info")
order=LE; [ "$(od -An -tu1 -j5 -N1 "$vmlinux" | tr -d ' ')" = 2 ] && order=BE
# The offsets of the units, and the section's end (perl: od per unit is far too slow).
mapfile -t starts < <(perl -e '
  open(F, "<", $ARGV[0]) or die "$ARGV[0]: $!\n"; binmode F;
  my ($size, $off, $t) = (-s F, 0, $ARGV[1] eq "BE" ? "N" : "V");
  while ($off < $size) {
    print "$off\n"; seek(F, $off, 0);
    read(F, my $h, 12) == 12 or die "truncated unit at $off\n";
    my $l = unpack($t, $h);
    if ($l == 0xffffffff) {
      my ($x, $y) = unpack("$t$t", substr($h, 4, 8));
      $off += 12 + ($t eq "V" ? $x + $y * 2**32 : $y + $x * 2**32);
    } else { $off += 4 + $l }
  }
  print "$off\n"' "$W/info" "$order")
[ "${starts[-1]}" = "$size" ] || bench_die "the units of .debug_info do not end at its end"
nunits=$((${#starts[@]} - 1))
[ "$nunits" -ge "$nparts" ] || bench_die "$nunits units, fewer than $nparts parts"
# part i holds the units whose start lies in [i*size/P, (i+1)*size/P), at least one each.
bounds=(0) u=0
for ((i = 1; i < nparts; i++)); do
  lim=$((size * i / nparts))
  while [ "$u" -lt "$nunits" ] && [ "${starts[$u]}" -lt "$lim" ]; do u=$((u + 1)); done
  [ "$u" -gt "${bounds[-1]}" ] || u=$((bounds[-1] + 1))
  bounds+=("$u")
done
bounds+=("$nunits")
# part FIRST END OUT: an ELF with the units [FIRST, END) as its .debug_info.
part() {
  local from=${starts[$1]} to=${starts[$2]}
  dd if="$W/info" of="$W/slice" iflag=skip_bytes,count_bytes skip="$from" count=$((to - from)) bs=4M status=none
  objcopy --update-section .debug_info="$W/slice" "$W/debug" "$3"
}
for ((i = 0; i < nparts; i++)); do
  part "${bounds[$i]}" "${bounds[$((i + 1))]}" "$P/$(printf 'part-%02d.o' $((i + 1)))"
done
k=$((nparts / 2 + 1))
changed=$P/$(printf 'part-%02d.o' "$k")
cp "$changed" "$W/part.a"
part "${bounds[$((k - 1))]}" $((bounds[k] - 1)) "$W/part.b"
rm -f "$W/info" "$W/debug" "$W/slice"
bench_log "$nunits units in $nparts parts of $(du -sm "$P"/part-*.o | awk '{ s += $1 } END { print s }') MB; part $k changes"

# ---------------------------------------------------------------- Bazel
cat >"$W/build.sh" <<'EOF'
#!/bin/bash
# build.sh TARGET: bazel build, then Bazel's own figures as bench-metric lines.
log=$(tools/ci/bazel build --color=no --curses=no "$@" 2>&1) || { echo "$log"; exit 1; }
echo "$log"
echo "$log" | sed -n 's/.*Elapsed time: \([0-9.]*\)s, Critical Path: \([0-9.]*\)s.*/bench-metric bazel_elapsed_s \1\nbench-metric critical_path_s \2/p'
echo "$log" | sed -n 's/^INFO: \([0-9]*\) process\(es\)\{0,1\}[:.].*/bench-metric processes \1/p'
if echo "$log" | grep -q 'Another command'; then echo "bazel.sh: this build waited for another Bazel command" >&2; fi
EOF
chmod +x "$W/build.sh"

cold=//bench/vmlinux:vmlinux_${mode}_${nshards}
parts=//bench/vmlinux-parts:parts_${mode}
coldout=bazel-bin/bench/vmlinux/vmlinux_${mode}_${nshards}
partsout=bazel-bin/bench/vmlinux-parts/parts_${mode}
bench_log "building //tools/btf, $cold and $parts (not timed)"
"${bazel[@]}" build --color=no --curses=no //tools/btf "$cold" "$parts" >"$W/log.setup" 2>&1 ||
  { tail -30 "$W/log.setup" >&2; bench_die "bazel build failed"; }
cmp -s "$partsout.btf" "$coldout.btf" ||
  bench_die "$parts and $cold differ: the part files are not vmlinux's units"

BENCH_WALL_ONLY=1
# Each timed build starts from a built tool and, for the rebuild, built parts: if the
# sources changed since the last build (someone editing the tree), the tool and every
# shard are rebuilt here, untimed. `processes` in the tables shows what the timed build
# ran: N + 2 for the cold build, 3 for the rebuild (one convert, the merge, one internal).
settle() {
  "${bazel[@]}" build --color=no --curses=no //tools/btf "$@" >"$W/log.settle" 2>&1 ||
    { tail -30 "$W/log.settle" >&2; return 1; }
}
make_cold() { settle && rm -rf "${coldout}_shards" "$coldout.btf"; }
ours=("$W/build.sh" "$cold")
bench_log "cold: $runs runs"
bench_ab "$runs" peer ours make_cold
bench_table "Bazel, vmlinux in $nshards CU-range shards + merge, cold (tool built), $mode mode: $cold vs $peername" \
  "${peer[*]}" "bazel build $cold after deleting its outputs"

flip=0
change_part() { # swap the changed part's two variants
  settle "$parts" || return 1
  if [ $flip = 0 ]; then ln -f "$W/part.b" "$changed"; flip=1; else ln -f "$W/part.a" "$changed"; flip=0; fi
}
ours=("$W/build.sh" "$parts")
bench_log "one part changed: $runs runs"
bench_ab "$runs" peer ours change_part
ln -f "$W/part.a" "$changed"
bench_table "Bazel, $nparts parts + merge, part $k changed, $mode mode: $parts vs $peername" \
  "${peer[*]}" "bazel build $parts after swapping $changed"
