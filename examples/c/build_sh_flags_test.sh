#!/bin/sh
# build_sh_flags_test.sh BUILD_SH COPT... - build.sh compiles with the copts of BUILD.bazel.
set -eu
script=$1
shift
want="COPTS=\"$*\""
if ! grep -qxF "$want" "$script"; then
	echo "FAIL: $script has no line $want; it has:" >&2
	grep -n '^COPTS=' "$script" >&2 || true
	echo "keep examples/c/build.sh and COPTS in examples/c/BUILD.bazel in sync" >&2
	exit 1
fi
echo "PASS: build.sh uses $*"
