#!/usr/bin/env bash
# Quick start: install what is missing, build, then run the demo upstream on 127.0.0.1:9000
# and idemgate on 127.0.0.1:8080 (admin on 127.0.0.1:9090) with config/idemgate.yaml.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DIDEMGATE_TESTS=OFF
cmake --build build -j"$(nproc)" --target idemgate demo-upstream
build/demo-upstream 127.0.0.1 9000 &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
echo "idemgate: http://127.0.0.1:8080 -> demo upstream http://127.0.0.1:9000; metrics on :9090"
build/idemgate --config config/idemgate.yaml
