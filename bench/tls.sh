#!/usr/bin/env bash
# TLS benchmark (issue 15): idemgate terminating TLS next to nginx terminating TLS (Peer A,
# bench/conf/peer-a-nginx-tls.conf.in), in the same run, rounds interleaved, with the plain
# HTTP figures of both beside them (what TLS costs each). Same upstream (nginx, 201 + JSON),
# same certificate (ECDSA P-256), one idemgate thread and one nginx worker, wrk over
# keep-alive connections (handshakes are not what is measured; every connection makes one).
#
#   bench/tls.sh                 # ROUNDS=5 DURATION=5s CONNS=64
#   IDEMGATE_BIN=build/idemgate ROUNDS=3 bench/tls.sh
#
# Prints, and writes to $OUT/summary.txt, the median req/s and p99 of each case and the
# same-run ratios. The machine may be shared: the load average is recorded around each run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_SRC=$ROOT/bench
# shellcheck source=bench/lib.sh
source "$BENCH_SRC/lib.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
BUILD=${BUILD:-$ROOT/build}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/idemgate-tls-bench.XXXXXX")}
CASES="nginx_tls:passthrough idemgate_tls:passthrough idemgate_tls:new_key
       nginx_plain:passthrough idemgate_plain:passthrough idemgate_plain:new_key"

trap stop_servers EXIT

for t in nginx wrk redis-server redis-cli openssl python3 curl; do
  command -v "$t" >/dev/null || die "$t is required"
done
if [ -n "${IDEMGATE_BIN:-}" ]; then
  IDEMGATE=$IDEMGATE_BIN
else
  log "building idemgate (Release) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target idemgate >/dev/null
  IDEMGATE=$BUILD/idemgate
fi

# One CA and one server certificate for 127.0.0.1, for both servers.
make_certs() {
  local d=$OUT/pki
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=bench CA" -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/ext" -out "$d/server.crt" 2>/dev/null
  CERT=$d/server.crt
  KEY=$d/server.key
  CA=$d/ca.crt
}

start_servers() {
  mkdir -p "$OUT/upstream" "$OUT/nginx-tls" "$OUT/nginx-plain" "$OUT/redis"
  read -r UPSTREAM_PORT STATUS_PORT NGINX_TLS_PORT NGINX_PLAIN_PORT IDEMGATE_TLS_PORT \
    IDEMGATE_PLAIN_PORT ADMIN_TLS_PORT ADMIN_PLAIN_PORT REDIS_PORT <<<"$(free_ports 9)"
  render "$BENCH_SRC/conf/upstream-nginx.conf.in" "$OUT/upstream/nginx.conf" \
    PREFIX="$OUT/upstream" UPSTREAM_PORT="$UPSTREAM_PORT" STATUS_PORT="$STATUS_PORT"
  render "$BENCH_SRC/conf/peer-a-nginx-tls.conf.in" "$OUT/nginx-tls/nginx.conf" \
    PREFIX="$OUT/nginx-tls" LISTEN_PORT="$NGINX_TLS_PORT" UPSTREAM_PORT="$UPSTREAM_PORT" \
    CERT="$CERT" KEY="$KEY"
  render "$BENCH_SRC/conf/peer-a-nginx.conf.in" "$OUT/nginx-plain/nginx.conf" \
    PREFIX="$OUT/nginx-plain" LISTEN_PORT="$NGINX_PLAIN_PORT" UPSTREAM_PORT="$UPSTREAM_PORT"
  # The benchmark's gateway config (bench/conf/idemgate.yaml.in), one thread like nginx's
  # one worker, and the tls section for the TLS one.
  render "$BENCH_SRC/conf/idemgate.yaml.in" "$OUT/idemgate-plain.yaml" \
    LISTEN_PORT="$IDEMGATE_PLAIN_PORT" THREADS=1 UPSTREAM_PORT="$UPSTREAM_PORT" \
    REDIS_PORT="$REDIS_PORT" ADMIN_PORT="$ADMIN_PLAIN_PORT"
  render "$BENCH_SRC/conf/idemgate.yaml.in" "$OUT/idemgate-tls.yaml" \
    LISTEN_PORT="$IDEMGATE_TLS_PORT" THREADS=1 UPSTREAM_PORT="$UPSTREAM_PORT" \
    REDIS_PORT="$REDIS_PORT" ADMIN_PORT="$ADMIN_TLS_PORT"
  printf 'tls:\n  cert_file: %s\n  key_file: %s\n' "$CERT" "$KEY" >>"$OUT/idemgate-tls.yaml"

  spawn redis "$OUT/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
    --appendonly no --dir "$OUT/redis"
  wait_port "$REDIS_PORT" "$LAST_PID" redis-server
  local n
  for n in upstream nginx-tls nginx-plain; do
    spawn "$n" "$OUT/$n.log" nginx -p "$OUT/$n" -c "$OUT/$n/nginx.conf" -e "$OUT/$n/error.log" \
      -g 'daemon off;'
  done
  wait_port "$UPSTREAM_PORT" "${SERVER_PIDS[1]}" "upstream nginx"
  wait_port "$NGINX_TLS_PORT" "${SERVER_PIDS[2]}" "nginx (TLS)"
  wait_port "$NGINX_PLAIN_PORT" "${SERVER_PIDS[3]}" "nginx (plain)"
  spawn idemgate_tls "$OUT/idemgate-tls.log" "$IDEMGATE" --config "$OUT/idemgate-tls.yaml"
  wait_port "$IDEMGATE_TLS_PORT" "$LAST_PID" "idemgate (TLS)"
  spawn idemgate_plain "$OUT/idemgate-plain.log" "$IDEMGATE" --config "$OUT/idemgate-plain.yaml"
  wait_port "$IDEMGATE_PLAIN_PORT" "$LAST_PID" "idemgate (plain)"
}

url_of() {
  case $1 in
    nginx_tls) echo "https://127.0.0.1:$NGINX_TLS_PORT/v1/events" ;;
    nginx_plain) echo "http://127.0.0.1:$NGINX_PLAIN_PORT/v1/events" ;;
    idemgate_tls) echo "https://127.0.0.1:$IDEMGATE_TLS_PORT/v1/events" ;;
    idemgate_plain) echo "http://127.0.0.1:$IDEMGATE_PLAIN_PORT/v1/events" ;;
  esac
}

# A request through each, checked with curl (the TLS ones verified against the CA).
check_servers() {
  local t code
  for t in nginx_tls idemgate_tls nginx_plain idemgate_plain; do
    code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -X POST "$(url_of "$t")" \
      -H 'Authorization: Bearer bench' -H 'Content-Type: application/json' \
      -H "Idempotency-Key: check-$t" --data-binary "@$BENCH_SRC/wrk/body.json")
    [ "$code" = 201 ] || die "$t answered $code to a check request"
  done
}

run_case() {
  local round=$1 target=$2 load=$3 raw
  local load_before load_after
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  raw=$(wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 5s -s "$BENCH_SRC/wrk/$load.lua" \
    "$(url_of "$target")" -- "tls-$round-$target-$RANDOM$RANDOM" 2>&1)
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  local line
  line=$(grep '^BENCH_RESULT ' <<<"$raw" | sed 's/^BENCH_RESULT //') ||
    die "no result from wrk for $target $load: $raw"
  printf '{"round":%d,"target":"%s","load":"%s","load_before":%s,"load_after":%s,"wrk":%s}\n' \
    "$round" "$target" "$load" "$load_before" "$load_after" "$line" >>"$OUT/results.jsonl"
}

summarise() {
  python3 - "$OUT/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    w = r["wrk"]
    rps = w["requests"] / (w["duration_us"] / 1e6)
    errors = sum(w["errors"].values())
    by.setdefault((r["target"], r["load"]), []).append((rps, w["p99_us"], errors))
med = {k: statistics.median(x[0] for x in v) for k, v in by.items()}
print(f"{'target':16} {'load':12} {'median req/s':>12} {'p99 ms':>8} {'errors':>7} rounds")
for (t, l), v in sorted(by.items()):
    p99 = statistics.median(x[1] for x in v) / 1000
    print(f"{t:16} {l:12} {med[(t, l)]:12.0f} {p99:8.2f} {sum(x[2] for x in v):7d} {len(v)}")
def ratio(a, b, what):
    if a in med and b in med:
        print(f"{what:58} {med[a] / med[b]:.2f}")
print()
ratio(("idemgate_tls", "passthrough"), ("nginx_tls", "passthrough"),
      "passthrough, idemgate TLS / nginx TLS")
ratio(("idemgate_tls", "new_key"), ("nginx_tls", "passthrough"),
      "new key (idemgate TLS) / passthrough (nginx TLS)")
ratio(("idemgate_plain", "passthrough"), ("nginx_plain", "passthrough"),
      "passthrough, idemgate plain / nginx plain")
ratio(("idemgate_tls", "passthrough"), ("idemgate_plain", "passthrough"),
      "what TLS leaves idemgate: passthrough TLS / plain")
ratio(("idemgate_tls", "new_key"), ("idemgate_plain", "new_key"),
      "what TLS leaves idemgate: new key TLS / plain")
ratio(("nginx_tls", "passthrough"), ("nginx_plain", "passthrough"),
      "what TLS leaves nginx: passthrough TLS / plain")
loads = [r["load_before"] for r in rows] + [r["load_after"] for r in rows]
print(f"\nload average (1 min) around the runs: min {min(loads):.2f}, "
      f"median {statistics.median(loads):.2f}, max {max(loads):.2f}")
PY
}

make_certs
start_servers
check_servers
log "warm-up"
for item in $CASES; do
  wrk -t2 -c"$CONNS" -d2s -s "$BENCH_SRC/wrk/${item#*:}.lua" "$(url_of "${item%%:*}")" \
    -- "warm-$RANDOM" >/dev/null 2>&1
done
for round in $(seq 1 "$ROUNDS"); do
  # Interleaved, and the order rotated each round so that no case always runs first.
  read -r -a items <<<"$(echo $CASES)"
  shift_by=$(((round - 1) % ${#items[@]}))
  items=("${items[@]:shift_by}" "${items[@]:0:shift_by}")
  for item in "${items[@]}"; do
    log "round $round/$ROUNDS: ${item%%:*} ${item#*:}"
    run_case "$round" "${item%%:*}" "${item#*:}"
  done
done
{
  echo "TLS benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, rounds $ROUNDS x $DURATION," \
    "$CONNS connections, wrk -t2; $(nginx -v 2>&1); $(openssl version)"
  summarise
} | tee "$OUT/summary.txt"
log "results: $OUT"
