#!/bin/bash
# tools/ci/e2e.sh - builds and tests the nested workspaces under e2e/, which use rules_btf
# as another module would (bazel_dep + local_path_override). Each has its own output base,
# so a first run builds the Go toolchain's standard library again (minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
for ws in e2e/*/; do
  echo "== $ws" >&2
  (cd "$ws" && "$root/tools/ci/bazel" test //...)
done
