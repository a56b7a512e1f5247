#!/bin/bash
# encode-cpu.sh - CPU-seconds of one thread: `btf encode -j 1` against pahole without -j
# (single-threaded), on vmlinux, with the same features; the issue's target is
# CPU(ours) / CPU(pahole) <= 0.5. The table also has wall and peak RSS.
#
# "CPU" is user + system time of the whole process: ours has one encoding worker but the
# Go runtime's garbage collector runs beside it (on the other core here), and that counts.
#
# Usage: bench/encode-cpu.sh [--runs N] [--modes 132,124]   (see bench/encode.sh)
set -euo pipefail
exec "$(dirname "$0")/encode.sh" -j 1 "$@"
