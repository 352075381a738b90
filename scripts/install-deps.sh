#!/usr/bin/env bash
# Installs what building, testing and benchmarking idemgate needs (Debian 12, as root or sudo).
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  libboost1.81-dev libboost-url1.81-dev libhiredis-dev libssl-dev nlohmann-json3-dev
  libspdlog-dev libyaml-cpp-dev prometheus-cpp-dev libgtest-dev libgmock-dev libjemalloc-dev
  redis-server redis-tools wrk nginx curl ca-certificates openssl procps python3-yaml clang-format clang-tidy
  prometheus
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the reference webhook signer. A machine may already have a Node.js that
# bundles its own npm (NodeSource's package conflicts with Debian's npm): use that one,
# and take Debian's only when a command is missing.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
# The packaged redis-server and nginx start as services on install; the tests and the
# benchmark start their own on free loopback ports, so these are not needed.
# prometheus (its promtool checks the rules; tests/prometheus starts its own server on a free
# loopback port) is enabled and started by its package on 0.0.0.0:9090, idemgate's default
# admin port: stop and disable that service where this script just installed it (a machine's
# own Prometheus, installed before, is left alone).
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
  if [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/prometheus ]; then
    $sudo /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    $sudo update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
fi
