#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, then two builds with warnings
# as errors.
#  1. Release (what ships): the gateway, and the integration tests that drive it over
#     loopback (a real redis-server and an upstream stub, started by the tests); the fuzz
#     corpora replay against the optimised code.
#  2. ASan + UBSan (Debug): the gateway, the unit and store tests and the fuzz corpora (all
#     in-process code, run sanitized), then the integration tests of build 1 again, against
#     the sanitized gateway.
# Every test runs at least once, the integration tests against both binaries; building each
# test only once keeps CI within its time. IDEMGATE_SKIP_SANITIZE=1 skips build 2, and then
# builds and runs every test in Release instead.
set -euo pipefail
phase() { echo "[test.sh $(date -u +%T)] $*"; } # timestamps in the CI log
cd "$(dirname "$0")/.."
scripts/install-deps.sh
command -v redis-server >/dev/null || { echo "redis-server is required" >&2; exit 1; }
command -v promtool >/dev/null || { echo "prometheus (promtool) is required" >&2; exit 1; }
jobs=$(nproc)
root=$PWD
sanitize=$([ "${IDEMGATE_SKIP_SANITIZE:-0}" = 1 ] && echo 0 || echo 1)

run_ctest() { # build-dir, ctest args...
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure --timeout 300 -j"$jobs" "$@")
}

phase "format check"
# Every C++ file is clang-formatted (.clang-format, clang-format 14): a file that is not fails
# CI here, in seconds, before anything is built.
find src include tests bench -name '*.cpp' -o -name '*.hpp' | sort | xargs clang-format --dry-run --Werror
phase "Release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DIDEMGATE_WERROR=ON
if [ "$sanitize" = 1 ]; then
  cmake --build build -j"$jobs" --target idemgate demo-upstream integration_tests cluster_tests \
    sentinel_tests prometheus_tests fuzz_replay
  # clang-tidy (scripts/tidy.sh) runs niced beside the integration tests, which mostly wait
  # on sockets and timers: its ~9 CPU-minutes then cost the run little wall time.
  phase "integration, cluster tests and fuzz corpora, Release gateway (+ clang-tidy beside them)"
  nice -n 15 scripts/tidy.sh build > build/tidy.out 2>&1 &
  tidy_pid=$!
  # The fuzz corpora (label fuzz, also unit; seconds) replay in both builds: the parsers
  # ship optimised, and the sanitized build does not show what -O2 makes of them.
  # cluster and sentinel: the gateway on a real Redis Cluster (tests/cluster, one CTest case)
  # and on a real Sentinel set (tests/sentinel). prometheus: the rules and the dashboard
  # (promtool, and a real Prometheus scraping real gateways: tests/prometheus), here only.
  run_ctest build -L 'integration|cluster|sentinel|fuzz|prometheus'
  phase "waiting for clang-tidy"
  if ! wait "$tidy_pid"; then cat build/tidy.out >&2; exit 1; fi
  tail -1 build/tidy.out
else
  cmake --build build -j"$jobs"
  run_ctest build
  scripts/tidy.sh build
fi
phase "manifest and benchmark checks"
# What cannot run here is still checked: container/Kubernetes files and the benchmark code.
scripts/check-manifests.py build/idemgate
bench/check.sh
[ "$sanitize" = 1 ] || exit 0

# Reports go to files, so that one from a gateway child process cannot go unnoticed.
reports=$root/build-asan/sanitizer-reports
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan"
phase "ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIDEMGATE_SANITIZE=ON \
  -DIDEMGATE_WERROR=ON -DIDEMGATE_INTEGRATION_TESTS=OFF
# Every test ctest finds here must be built here: unit_tests is every unit and store
# executable and, with them, each fuzz target's corpus replay (tests/fuzz).
cmake --build build-asan -j"$jobs" --target idemgate unit_tests
status=0
phase "unit and store tests, sanitized"
run_ctest build-asan || status=1
phase "integration tests, sanitized gateway"
IDEMGATE_TEST_BINARY=$root/build-asan/idemgate run_ctest build -L 'integration|cluster|sentinel' || status=1
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:" >&2
  cat "$reports"/* >&2
  status=1
fi
phase "done, status $status"
exit "$status"
