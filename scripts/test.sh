#!/usr/bin/env bash
# The whole test suite: install what is missing, build with warnings as errors, run every
# test (unit, store conformance against a real redis-server the tests start on a free
# loopback port, integration through the real gateway binary), then the same again under
# ASan + UBSan. Set IDEMGATE_SKIP_SANITIZE=1 to skip the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v redis-server >/dev/null || { echo "redis-server is required" >&2; exit 1; }
jobs=$(nproc)

run_suite() { # build-dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DIDEMGATE_WERROR=ON "$@"
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j"$jobs")
}

run_suite build -DCMAKE_BUILD_TYPE=Release
# What cannot run here is still checked: container/Kubernetes files and the benchmark code.
scripts/check-manifests.sh build/idemgate
bench/check.sh
if [ "${IDEMGATE_SKIP_SANITIZE:-0}" != 1 ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DIDEMGATE_SANITIZE=ON
fi
