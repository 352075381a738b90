#!/usr/bin/env bash
# Redis CPU per request, two idemgate binaries A/B (docs/benchmarks.md "One-command claim").
#
#   bench/redis_cpu_ab.sh BIN_A BIN_B
#
# One upstream nginx and one redis-server (no persistence) for the whole run; each round
# starts each binary in turn (A, B, alternating, so a noisy minute hits both) with the
# credential bound off (store.max_records_per_credential: 0) and on, and runs wrk -t2 -c64
# for BENCH_DURATION on a new-key load, then on a replay load. Around each wrk run it reads
# Redis's INFO (used_cpu_sys + used_cpu_user, commandstats) and the gateway's CPU ticks; the
# per-request figures of every run go to $OUT/ab.jsonl, and the medians over rounds to stdout.
# Environment: BENCH_RUNS [3], BENCH_DURATION [4s], IDEMGATE_BENCH_DIR [/tmp/idemgate-bench].
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$BENCH_SRC/lib.sh"

[ $# -eq 2 ] || die "usage: $0 BIN_A BIN_B"
BIN_A=$1
BIN_B=$2
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-4s}
WORK=${IDEMGATE_BENCH_DIR:-/tmp/idemgate-bench}
OUT=$WORK/ab/$(date -u +%Y%m%dT%H%M%SZ)
BODY_FILE=$BENCH_SRC/wrk/body.json
mkdir -p "$OUT/upstream" "$OUT/redis"
IDEMGATE_PID=
# The gateway under test is not in lib.sh's list: it is started and stopped here, per run.
cleanup() {
  if [ -n "$IDEMGATE_PID" ]; then kill -TERM "$IDEMGATE_PID" 2>/dev/null || true; fi
  stop_servers
}
trap cleanup EXIT

read -r UPSTREAM_PORT STATUS_PORT IDEMGATE_PORT ADMIN_PORT REDIS_PORT <<<"$(free_ports 5)"
render "$BENCH_SRC/conf/upstream-nginx.conf.in" "$OUT/upstream/nginx.conf" \
  PREFIX="$OUT/upstream" UPSTREAM_PORT="$UPSTREAM_PORT" STATUS_PORT="$STATUS_PORT"
spawn redis "$OUT/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
  --appendonly no --dir "$OUT/redis"
wait_port "$REDIS_PORT" "$LAST_PID" redis-server
spawn upstream "$OUT/upstream.log" nginx -p "$OUT/upstream" -c "$OUT/upstream/nginx.conf" \
  -e "$OUT/upstream/error.log" -g 'daemon off;'
wait_port "$UPSTREAM_PORT" "$LAST_PID" "upstream nginx"

# redis_counters: "cpu_seconds commands exec_usec" of the Redis server. commands: calls of
# every command but INFO and FLUSHALL, inside scripts included. exec_usec: the time Redis
# spent executing EVALSHA and SET (commandstats usec), without its event loop and system
# calls, so less sensitive to the machine's load: exact for the hash layout (only EVALSHA is
# sent, nothing inside is a SET), an upper bound for the string layout (the SET inside the
# complete script is counted in both).
redis_counters() {
  redis-cli -p "$REDIS_PORT" info all | tr -d '\r' | awk -F'[:=,]' '
    /^used_cpu_sys:/ || /^used_cpu_user:/ { cpu += $2 }
    /^cmdstat_/ && $1 != "cmdstat_info" && $1 != "cmdstat_flushall" { calls += $3 }
    $1 == "cmdstat_evalsha" || $1 == "cmdstat_set" { usec += $5 }
    END { printf "%.6f %d %d\n", cpu, calls, usec }'
}

# measure LABEL BOUND LOAD: one wrk run against the running gateway, one JSON line.
measure() {
  local label=$1 bound=$2 load=$3 nonce="$1-$2-$3-$RANDOM$RANDOM"
  local url="http://127.0.0.1:$IDEMGATE_PORT/v1/events" before after g0 g1 requests
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  if [ "$load" = replay ]; then
    curl -sf -o /dev/null -X POST "$url" -H 'Authorization: Bearer bench' \
      -H 'Content-Type: application/json' -H "Idempotency-Key: rp-$nonce" \
      --data-binary "@$BODY_FILE" || die "seeding the replay key failed"
  fi
  before=$(redis_counters)
  g0=$(cpu_ticks "$IDEMGATE_PID")
  wrk -t2 -c64 -d"$DURATION" --timeout 5s -s "$BENCH_SRC/wrk/$load.lua" "$url" -- "$nonce" \
    >"$OUT/wrk.txt" 2>&1
  g1=$(cpu_ticks "$IDEMGATE_PID")
  after=$(redis_counters)
  requests=$(awk '/requests in/ { print $1 }' "$OUT/wrk.txt")
  local non2xx
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$OUT/wrk.txt")
  python3 - "$label" "$bound" "$load" "$requests" "${non2xx:-0}" "$before" "$after" "$g0" "$g1" \
    "$(getconf CLK_TCK)" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY' | tee -a "$OUT/ab.jsonl"
import json, sys
label, bound, load, req, non2xx, before, after, g0, g1, tck, load1 = sys.argv[1:]
req = int(req)
c0, n0, u0 = before.split(); c1, n1, u1 = after.split()
print(json.dumps({
    "bin": label, "bound": bound, "load": load, "requests": req, "non2xx": int(non2xx),
    "redis_cpu_us": round((float(c1) - float(c0)) * 1e6 / req, 2),
    "redis_cmds": round((int(n1) - int(n0)) / req, 3),
    "redis_exec_us": round((int(u1) - int(u0)) / req, 2),
    "gateway_cpu_us": round((int(g1) - int(g0)) / int(tck) * 1e6 / req, 2),
    "loadavg": float(load1)}))
PY
}

# run_binary LABEL BIN BOUND: start the gateway, warm it up, new key then replay, stop it.
run_binary() {
  local label=$1 bin=$2 bound=$3 cfg=$OUT/idemgate-$1-$3.yaml
  render "$BENCH_SRC/conf/idemgate.yaml.in" "$cfg" LISTEN_PORT="$IDEMGATE_PORT" THREADS=0 \
    UPSTREAM_PORT="$UPSTREAM_PORT" REDIS_PORT="$REDIS_PORT" ADMIN_PORT="$ADMIN_PORT"
  sed -i "s/^  max_records_per_credential: .*/  max_records_per_credential: $bound/" "$cfg"
  grep -q "max_records_per_credential: $bound\$" "$cfg" || die "bound not set in $cfg"
  "$bin" --config "$cfg" >>"$OUT/idemgate-$label.log" 2>&1 &
  IDEMGATE_PID=$!
  wait_port "$IDEMGATE_PORT" "$IDEMGATE_PID" "idemgate $label"
  wrk -t2 -c64 -d1s -s "$BENCH_SRC/wrk/new_key.lua" "http://127.0.0.1:$IDEMGATE_PORT/v1/events" \
    -- "warm-$RANDOM" >/dev/null 2>&1
  measure "$label" "$bound" new_key
  measure "$label" "$bound" replay
  kill -TERM "$IDEMGATE_PID"
  wait "$IDEMGATE_PID" 2>/dev/null || true
  IDEMGATE_PID=
}

log "A=$BIN_A B=$BIN_B, $RUNS rounds of $DURATION, results in $OUT"
for round in $(seq 1 "$RUNS"); do
  # A first in odd rounds, B first in even ones.
  order="A B"
  [ $((round % 2)) -eq 1 ] || order="B A"
  for bound in 0 100000000; do
    for label in $order; do
      bin=$BIN_A
      [ "$label" = A ] || bin=$BIN_B
      log "round $round/$RUNS: $label bound=$bound"
      run_binary "$label" "$bin" "$bound"
    done
  done
done

python3 - "$OUT/ab.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("| load | bound | bin | runs | Redis CPU µs/req (median) | EVALSHA+SET exec µs/req | Redis cmds/req | gateway CPU µs/req | loadavg |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
for load in ("new_key", "replay"):
    for bound in ("0", "100000000"):
        med = {}
        for b in ("A", "B"):
            rs = [r for r in rows if r["load"] == load and r["bound"] == bound and r["bin"] == b]
            if not rs:
                continue
            m = {k: statistics.median(r[k] for r in rs)
                 for k in ("redis_cpu_us", "redis_exec_us", "redis_cmds", "gateway_cpu_us",
                           "loadavg")}
            med[b] = m
            print(f"| {load} | {'off' if bound == '0' else 'on'} | {b} | {len(rs)} | "
                  f"{m['redis_cpu_us']:.1f} | {m['redis_exec_us']:.1f} | {m['redis_cmds']:.2f} | "
                  f"{m['gateway_cpu_us']:.1f} | "
                  f"{m['loadavg']:.1f} |")
        if "A" in med and "B" in med:
            print(f"| {load} | {'off' if bound == '0' else 'on'} | B÷A | | "
                  f"{med['B']['redis_cpu_us'] / med['A']['redis_cpu_us']:.2f} | "
                  f"{med['B']['redis_exec_us'] / med['A']['redis_exec_us']:.2f} | | "
                  f"{med['B']['gateway_cpu_us'] / med['A']['gateway_cpu_us']:.2f} | |")
PY
