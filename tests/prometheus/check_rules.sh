#!/bin/sh
# CTest prometheus.rules (label prometheus): the rules file is valid for Prometheus
# (`promtool check rules`) and every alert fires when it should and stays quiet when it should
# not (`promtool test rules`, docker/prometheus/idemgate-rules.test.yaml). promtool comes with
# Debian's prometheus package (scripts/install-deps.sh).
set -eu
cd "$(dirname "$0")/../../docker/prometheus"
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: scripts/install-deps.sh installs Debian's prometheus package" >&2
  exit 1
fi
promtool check rules idemgate-rules.yaml
promtool test rules idemgate-rules.test.yaml
