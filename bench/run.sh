#!/usr/bin/env bash
# The idemgate benchmark (docs/benchmarks.md): one command, bench/run.sh.
#
# Starts on loopback, every process by this script and stopped by pid on exit: a fast
# upstream (nginx, return 201), redis-server (no persistence), idemgate (Release build,
# Redis store), Peer A (nginx reverse proxy) and Peer B (Node.js @node-idempotency proxy);
# for the idemgate_cluster cases also a Redis Cluster of 3 primaries (no replicas) and a
# second idemgate in `store.redis.mode: cluster` on it; for the idemgate_base cases another
# idemgate binary (IDEMGATE_BASE_BIN), for the idemgate_sealed ones idemgate with
# `store.encryption` and a keyed scope secret, both on the same upstream and Redis.
# Runs wrk against each for passthrough, new-key and replay loads at 64 and 1 connections,
# RUNS rounds, unpinned and pinned (servers on CPU 0, wrk on CPU 1), checks upstream hits
# and Redis commands per request, measures idemgate's RSS across 1M requests, and prints
# the report (also written to $IDEMGATE_BENCH_DIR/results/<time>/report.md).
#   bench/run.sh --profile   perf profiles of idemgate under each load ($WORK/profile/<time>)
#   bench/run.sh --serve [unpinned|pinned]   start the servers only, print ports, wait
#
# Environment (defaults in brackets):
#   IDEMGATE_BENCH_DIR [/tmp/idemgate-bench]  work dir: npm install, configs, results
#   IDEMGATE_BIN [build with cmake into IDEMGATE_BENCH_BUILD]  a prebuilt idemgate
#   IDEMGATE_BENCH_BUILD [<repo>/build-bench]  Release build dir
#   IDEMGATE_BASE_BIN [none]  a second idemgate (e.g. the previous commit's, or a build with
#     -DIDEMGATE_ALLOCATOR=system) run as target idemgate_base in the same rounds; the
#     report prints idemgate ÷ idemgate_base for every load
#   BENCH_RUNS [3]  BENCH_DURATION [5s]  BENCH_DURATION_C1 [3s]
#   BENCH_MODES ["unpinned pinned"]  BENCH_RSS_REQUESTS [1000000, 0 = skip]
#   BENCH_THREADS_UNPINNED [0]  BENCH_THREADS_PINNED [1]  idemgate `threads`
#   BENCH_CONNS ["64 1"]  BENCH_CASES [all, e.g. "idemgate:new_key peer_b:new_key"]
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_SRC")
# shellcheck source=lib.sh
source "$BENCH_SRC/lib.sh"

WORK=${IDEMGATE_BENCH_DIR:-/tmp/idemgate-bench}
BUILD=${IDEMGATE_BENCH_BUILD:-$ROOT/build-bench}
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-5s}
DURATION_C1=${BENCH_DURATION_C1:-3s}
MODES=${BENCH_MODES:-unpinned pinned}
RSS_REQUESTS=${BENCH_RSS_REQUESTS:-1000000}
BODY_FILE=$BENCH_SRC/wrk/body.json
# Which targets run each load; Peer A runs the keyed loads too (it ignores the key), so that
# every idemgate ÷ Peer A ratio compares the same requests.
# idemgate_cluster: the same gateway on a 3-primary Redis Cluster, next to the standalone
# figures of the same round. idemgate_sealed: the same gateway with records sealed and keyed
# fingerprints (encryption on ÷ off). idemgate_base: the IDEMGATE_BASE_BIN binary, next to
# each idemgate load (new ÷ base), by default only when that variable is set.
DEFAULT_CASES="direct:passthrough idemgate:get idemgate:passthrough peer_a:get
       peer_a:passthrough idemgate:new_key idemgate_cluster:new_key idemgate_sealed:new_key
       peer_a:new_key peer_b:new_key idemgate:replay idemgate_cluster:replay
       idemgate_sealed:replay peer_a:replay peer_b:replay"
if [ -n "${IDEMGATE_BASE_BIN:-}" ]; then
  DEFAULT_CASES="$DEFAULT_CASES idemgate_base:get idemgate_base:passthrough
       idemgate_base:new_key idemgate_base:replay"
fi
CASES=${BENCH_CASES:-$DEFAULT_CASES}
CONNS=${BENCH_CONNS:-64 1}

check_tools() {
  local t
  for t in nginx wrk redis-server redis-cli node npm taskset python3 curl cmake; do
    command -v "$t" >/dev/null || die "$t is required (docs/benchmarks.md lists the packages)"
  done
  [ "$(nproc)" -ge 2 ] || die "the pinned mode needs 2 CPUs"
}

build_idemgate() {
  if [ -n "${IDEMGATE_BIN:-}" ]; then IDEMGATE=$IDEMGATE_BIN; return; fi
  log "building idemgate (Release) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DIDEMGATE_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 --target idemgate >/dev/null
  IDEMGATE=$BUILD/idemgate
}

# The idemgate_base binary, required when a case names it.
base_binary() {
  if [[ $CASES != *idemgate_base:* ]]; then return; fi
  [ -n "${IDEMGATE_BASE_BIN:-}" ] || die "the idemgate_base cases need IDEMGATE_BASE_BIN"
  [ -x "$IDEMGATE_BASE_BIN" ] || die "IDEMGATE_BASE_BIN=$IDEMGATE_BASE_BIN is not executable"
}

# Peer B's npm packages go to $WORK/peer-b (outside the source tree), pinned by the lock.
install_peer_b() {
  local dir=$WORK/peer-b
  mkdir -p "$dir"
  cp "$BENCH_SRC/peer-b/package.json" "$BENCH_SRC/peer-b/package-lock.json" \
     "$BENCH_SRC/peer-b/server.mjs" "$dir/"
  if ! cmp -s "$dir/package-lock.json" "$dir/.installed-lock" 2>/dev/null; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$dir/package-lock.json" "$dir/.installed-lock"
  fi
}

# start_servers MODE: the whole set, pinned to CPU 0 in mode "pinned".
start_servers() {
  local mode=$1 pin=() threads=${BENCH_THREADS_UNPINNED:-0}
  if [ "$mode" = pinned ]; then pin=(taskset -c 0); threads=${BENCH_THREADS_PINNED:-1}; fi
  local d=$OUT/$mode
  mkdir -p "$d/upstream" "$d/peer-a" "$d/redis"
  read -r UPSTREAM_PORT STATUS_PORT PEER_A_PORT IDEMGATE_PORT ADMIN_PORT PEER_B_PORT \
    REDIS_PORT <<<"$(free_ports 7)"
  render "$BENCH_SRC/conf/upstream-nginx.conf.in" "$d/upstream/nginx.conf" PREFIX="$d/upstream" \
    UPSTREAM_PORT="$UPSTREAM_PORT" STATUS_PORT="$STATUS_PORT"
  render "$BENCH_SRC/conf/peer-a-nginx.conf.in" "$d/peer-a/nginx.conf" PREFIX="$d/peer-a" \
    LISTEN_PORT="$PEER_A_PORT" UPSTREAM_PORT="$UPSTREAM_PORT"
  render "$BENCH_SRC/conf/idemgate.yaml.in" "$d/idemgate.yaml" LISTEN_PORT="$IDEMGATE_PORT" \
    THREADS="$threads" UPSTREAM_PORT="$UPSTREAM_PORT" REDIS_PORT="$REDIS_PORT" \
    ADMIN_PORT="$ADMIN_PORT"
  spawn redis "$d/redis.log" "${pin[@]}" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
    --save '' --appendonly no --dir "$d/redis"
  wait_port "$REDIS_PORT" "$LAST_PID" redis-server
  REDIS_PID=$LAST_PID
  spawn upstream "$d/upstream.log" "${pin[@]}" nginx -p "$d/upstream" \
    -c "$d/upstream/nginx.conf" -e "$d/upstream/error.log" -g 'daemon off;'
  wait_port "$UPSTREAM_PORT" "$LAST_PID" "upstream nginx"
  UPSTREAM_WORKER_PID=$(child_pid "$LAST_PID")
  spawn peer_a "$d/peer-a.log" "${pin[@]}" nginx -p "$d/peer-a" \
    -c "$d/peer-a/nginx.conf" -e "$d/peer-a/error.log" -g 'daemon off;'
  wait_port "$PEER_A_PORT" "$LAST_PID" "Peer A nginx"
  PEER_A_WORKER_PID=$(child_pid "$LAST_PID")
  spawn idemgate "$d/idemgate.log" "${pin[@]}" "$IDEMGATE" --config "$d/idemgate.yaml"
  IDEMGATE_PID=$LAST_PID
  wait_port "$IDEMGATE_PORT" "$LAST_PID" idemgate
  if [[ $CASES == *idemgate_base:* ]]; then
    start_variant idemgate_base "$mode" "$threads" "$IDEMGATE_BASE_BIN"
  fi
  if [[ $CASES == *idemgate_sealed:* ]]; then
    # A fresh key per run (the records are flushed before each case anyway); a 32-byte
    # scope secret, as an operator would set it.
    "$IDEMGATE" keys generate >"$d/sealed.keys"
    chmod 600 "$d/sealed.keys"
    start_variant idemgate_sealed "$mode" "$threads" "$IDEMGATE" \
      IDEMGATE_STORE_ENCRYPTION_KEYS_FILE="$d/sealed.keys" \
      IDEMGATE_IDEMPOTENCY_SCOPE_SECRET="bench-scope-secret-0123456789abcd"
  fi
  if [[ $CASES == *idemgate_cluster:* ]]; then start_cluster "$mode" "$threads"; fi
  spawn peer_b "$d/peer-b.log" env PEER_B_LISTEN="127.0.0.1:$PEER_B_PORT" \
    PEER_B_UPSTREAM="http://127.0.0.1:$UPSTREAM_PORT" \
    PEER_B_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "${pin[@]}" node "$WORK/peer-b/server.mjs"
  PEER_B_PID=$LAST_PID
  wait_port "$PEER_B_PORT" "$LAST_PID" "Peer B"
  log "$mode: upstream :$UPSTREAM_PORT, Peer A :$PEER_A_PORT, idemgate :$IDEMGATE_PORT" \
    "(threads $threads), Peer B :$PEER_B_PORT, redis :$REDIS_PORT"
}

# start_variant NAME MODE THREADS BINARY [VAR=VALUE...]: one more idemgate with the
# benchmark's configuration on the same upstream and Redis, on its own ports, with VARs in its
# environment (IDEMGATE_<KEY_PATH> overrides); pinned like the rest in mode "pinned".
# Recorded in GATEWAY_PORT/GATEWAY_ADMIN_PORT/GATEWAY_PID under NAME.
start_variant() {
  local name=$1 mode=$2 threads=$3 bin=$4 pin=() port admin; shift 4
  if [ "$mode" = pinned ]; then pin=(taskset -c 0); fi
  local d=$OUT/$mode/$name
  mkdir -p "$d"
  read -r port admin <<<"$(free_ports 2)"
  render "$BENCH_SRC/conf/idemgate.yaml.in" "$d/idemgate.yaml" LISTEN_PORT="$port" \
    THREADS="$threads" UPSTREAM_PORT="$UPSTREAM_PORT" REDIS_PORT="$REDIS_PORT" \
    ADMIN_PORT="$admin"
  # env execs the server (after taskset), so the recorded pid is idemgate's.
  spawn "$name" "$d/idemgate.log" env "$@" "${pin[@]}" "$bin" --config "$d/idemgate.yaml"
  wait_port "$port" "$LAST_PID" "$name"
  GATEWAY_PORT[$name]=$port
  GATEWAY_ADMIN_PORT[$name]=$admin
  GATEWAY_PID[$name]=$LAST_PID
  # The variables' names only: the values may be secrets.
  local names=("${@%%=*}")
  log "$mode: $name :$port ($bin${names[*]:+, with ${names[*]}})"
}

# start_cluster MODE THREADS: three cluster-enabled redis-servers (the cluster bus on ports
# chosen here: port + 10000 may be out of range or taken), slots split by redis-cli, and an
# idemgate in cluster mode on them, all pinned like the rest in mode "pinned".
start_cluster() {
  local mode=$1 threads=$2 pin=() i nodes=() ports bus
  if [ "$mode" = pinned ]; then pin=(taskset -c 0); fi
  local d=$OUT/$mode/cluster
  read -r -a ports <<<"$(free_ports 8)"
  CLUSTER_PORTS=("${ports[@]:0:3}")
  bus=("${ports[@]:3:3}")
  CLUSTER_IDEMGATE_PORT=${ports[6]}
  CLUSTER_ADMIN_PORT=${ports[7]}
  CLUSTER_PIDS=()
  for i in 0 1 2; do
    mkdir -p "$d/$i"
    spawn "redis-cluster-$i" "$d/$i.log" "${pin[@]}" redis-server --bind 127.0.0.1 \
      --port "${CLUSTER_PORTS[i]}" --cluster-enabled yes --cluster-port "${bus[i]}" \
      --cluster-config-file nodes.conf --save '' --appendonly no --dir "$d/$i"
    wait_port "${CLUSTER_PORTS[i]}" "$LAST_PID" "redis-server (cluster node $i)"
    CLUSTER_PIDS+=("$LAST_PID")
    nodes+=("127.0.0.1:${CLUSTER_PORTS[i]}")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
    >"$d/create.log" 2>&1 || die "redis-cli --cluster create failed (see $d/create.log)"
  for i in $(seq 1 100); do
    if ! redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | grep -q 'cluster_state:ok' ||
       ! redis-cli -p "${CLUSTER_PORTS[2]}" cluster info | grep -q 'cluster_state:ok'; then
      [ "$i" -lt 100 ] || die "the Redis Cluster is not ok after 10 s"
      sleep 0.1
      continue
    fi
    break
  done
  render "$BENCH_SRC/conf/idemgate-cluster.yaml.in" "$d/idemgate.yaml" \
    LISTEN_PORT="$CLUSTER_IDEMGATE_PORT" THREADS="$threads" UPSTREAM_PORT="$UPSTREAM_PORT" \
    CLUSTER_NODES="$(IFS=,; echo "${nodes[*]}")" ADMIN_PORT="$CLUSTER_ADMIN_PORT"
  spawn idemgate_cluster "$d/idemgate.log" "${pin[@]}" "$IDEMGATE" --config "$d/idemgate.yaml"
  CLUSTER_IDEMGATE_PID=$LAST_PID
  wait_port "$CLUSTER_IDEMGATE_PORT" "$LAST_PID" "idemgate (cluster mode)"
  log "$mode: redis cluster :${CLUSTER_PORTS[*]}, idemgate (cluster) :$CLUSTER_IDEMGATE_PORT"
}

target_port() {
  case $1 in
    direct) echo "$UPSTREAM_PORT" ;; idemgate) echo "$IDEMGATE_PORT" ;;
    idemgate_cluster) echo "$CLUSTER_IDEMGATE_PORT" ;;
    idemgate_base | idemgate_sealed) echo "${GATEWAY_PORT[$1]}" ;;
    peer_a) echo "$PEER_A_PORT" ;; peer_b) echo "$PEER_B_PORT" ;;
  esac
}

# flush_redis: every record of the previous case gone (standalone and cluster nodes).
flush_redis() {
  local p
  for p in "$REDIS_PORT" "${CLUSTER_PORTS[@]}"; do redis-cli -p "$p" flushall >/dev/null; done
}

# wrk_load PIN_MODE CONNS DURATION SCRIPT URL ARGS...: wrk's output on stdout.
wrk_load() {
  local mode=$1 conns=$2 duration=$3 script=$4 url=$5; shift 5
  local pin=() threads=2
  if [ "$mode" = pinned ]; then pin=(taskset -c 1); threads=1; fi
  [ "$conns" -ge 2 ] || threads=1
  "${pin[@]}" wrk -t"$threads" -c"$conns" -d"$duration" --timeout 5s \
    -s "$BENCH_SRC/wrk/$script.lua" "$url" -- "$@"
}

# seed_replay URL KEY: the first request of a replay key, so that the run only replays.
seed_replay() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$1" -H 'Authorization: Bearer bench' \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $2" --data-binary "@$BODY_FILE")
  [ "$code" = 201 ] || die "seeding replay key $2 at $1 answered $code"
}

# run_case MODE ROUND CONNS TARGET LOAD: one measured wrk run, recorded in results.jsonl.
run_case() {
  local mode=$1 round=$2 conns=$3 target=$4 load=$5
  local url
  url="http://127.0.0.1:$(target_port "$target")/v1/events"
  local nonce="$mode-$round-$conns-$target-$RANDOM$RANDOM" tmp=$OUT/$mode/case
  local duration=$DURATION
  [ "$conns" -ge 2 ] || duration=$DURATION_C1
  rm -rf "$tmp" && mkdir -p "$tmp"
  flush_redis
  if [ "$load" = replay ]; then seed_replay "$url" "rp-$nonce"; fi
  snapshot "$tmp/before"
  wrk_load "$mode" "$conns" "$duration" "$load" "$url" "$nonce" >"$tmp/wrk.txt" 2>&1
  snapshot "$tmp/after"
  python3 "$BENCH_SRC/report.py" record --out "$OUT/results.jsonl" --mode "$mode" \
    --round "$round" --conns "$conns" --target "$target" --load "$load" --dir "$tmp"
}

warm_up() {
  local mode=$1 item
  log "$mode: warm-up"
  local items="idemgate:new_key peer_a:new_key peer_b:new_key idemgate:passthrough"
  if [ -n "${CLUSTER_IDEMGATE_PID:-}" ]; then items="$items idemgate_cluster:new_key"; fi
  for item in "${!GATEWAY_PID[@]}"; do items="$items $item:new_key"; done
  for item in $items; do
    wrk_load "$mode" 64 2s "${item#*:}" "http://127.0.0.1:$(target_port "${item%%:*}")/v1/events" \
      "warm-$RANDOM" >/dev/null 2>&1
  done
}

run_mode() {
  local mode=$1 round conns item
  start_servers "$mode"
  warm_up "$mode"
  if [ "$mode" = unpinned ]; then
    local extra_targets=()
    if [ -n "${CLUSTER_IDEMGATE_PID:-}" ]; then
      extra_targets=(--target "idemgate_cluster=http://127.0.0.1:$CLUSTER_IDEMGATE_PORT/v1/events"
        --redis-ports "idemgate_cluster=$(IFS=,; echo "${CLUSTER_PORTS[*]}")")
    fi
    local name
    for name in "${!GATEWAY_PID[@]}"; do
      extra_targets+=(--target "$name=http://127.0.0.1:${GATEWAY_PORT[$name]}/v1/events")
    done
    python3 "$BENCH_SRC/redis_check.py" --redis-port "$REDIS_PORT" --body "$BODY_FILE" \
      --target "idemgate=http://127.0.0.1:$IDEMGATE_PORT/v1/events" \
      --target "peer_b=http://127.0.0.1:$PEER_B_PORT/v1/events" "${extra_targets[@]}" \
      >"$OUT/redis_check.json"
  fi
  for round in $(seq 1 "$RUNS"); do
    for conns in $CONNS; do
      for item in $CASES; do
        log "$mode round $round/$RUNS: ${item%%:*} ${item#*:} c$conns"
        run_case "$mode" "$round" "$conns" "${item%%:*}" "${item#*:}"
      done
    done
  done
  if [ "$mode" = unpinned ] && [ "$RSS_REQUESTS" -gt 0 ]; then rss_run; fi
  stop_servers
}

upstream_requests() {
  curl -sf "http://127.0.0.1:$STATUS_PORT/status" | awk 'NR == 3 { print $3 }'
}

# rss_run: idemgate's RSS while RSS_REQUESTS new-key requests (counted at the upstream) go
# through it at 64 connections; wrk is stopped (SIGINT, by pid) once the count is reached.
rss_run() {
  local url="http://127.0.0.1:$IDEMGATE_PORT/v1/events" base n rss wrk_pid
  flush_redis
  log "RSS run: $RSS_REQUESTS new-key requests through idemgate"
  base=$(upstream_requests)
  echo "0 $(rss_kib "$IDEMGATE_PID")" >"$OUT/rss_samples.txt"
  wrk -t2 -c64 -d900s --timeout 5s -s "$BENCH_SRC/wrk/new_key.lua" "$url" -- "rss-$RANDOM" \
    >"$OUT/rss_wrk.txt" 2>&1 &
  wrk_pid=$!
  SERVER_PIDS+=("$wrk_pid")
  SERVER_NAMES+=(wrk)
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 0.25
    n=$(($(upstream_requests) - base))
    rss=$(rss_kib "$IDEMGATE_PID")
    echo "$n $rss" >>"$OUT/rss_samples.txt"
    if [ "$n" -ge "$RSS_REQUESTS" ]; then kill -INT "$wrk_pid"; break; fi
  done
  wait "$wrk_pid" || true
  # Reaped: its pid may be reused, so stop_servers must not signal it.
  unset 'SERVER_PIDS[-1]' 'SERVER_NAMES[-1]'
  python3 "$BENCH_SRC/report.py" rss --out "$OUT/rss.json" --samples "$OUT/rss_samples.txt" \
    --wrk "$OUT/rss_wrk.txt" --hwm "$(awk '/^VmHWM:/ { print $2 }' "/proc/$IDEMGATE_PID/status")"
}

versions() {
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "idemgate: $("$IDEMGATE" --version 2>&1 | head -n1)" \
      "(git $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
    if [ -n "${IDEMGATE_BASE_BIN:-}" ]; then
      echo "idemgate_base: $("$IDEMGATE_BASE_BIN" --version 2>&1 | head -n1) ($IDEMGATE_BASE_BIN)"
    fi
    echo "nginx: $(nginx -v 2>&1)"
    echo "redis: $(redis-server --version)"
    echo "wrk: $(wrk -v 2>&1 | head -n1)"
    echo "node: $(node -v)"
    (cd "$WORK/peer-b" && npm ls --depth=0 2>/dev/null | tail -n +2 | grep . | sed 's/^[^@a-z]*/npm: /')
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs"
    echo "kernel: $(uname -r)"
    echo "settings: BENCH_RUNS=$RUNS BENCH_DURATION=$DURATION BENCH_DURATION_C1=$DURATION_C1" \
      "BENCH_MODES=\"$MODES\" threads unpinned=${BENCH_THREADS_UNPINNED:-0}" \
      "pinned=${BENCH_THREADS_PINNED:-1}"
  } >"$OUT/versions.txt"
}

# prepare OUT_DIR: what every entry point does before starting servers: the output folder,
# stopping every server on exit (and on Ctrl-C), the tools, idemgate and Peer B.
prepare() {
  OUT=$1
  mkdir -p "$OUT"
  trap stop_servers EXIT
  trap 'exit 130' INT TERM
  check_tools
  build_idemgate
  base_binary
  install_peer_b
}

# bench/run.sh --profile: idemgate under each load at 64 connections, sampled by perf
# (cpu-clock, DWARF call graphs); flat and inclusive reports in $WORK/profile/<time>.
profile() {
  command -v perf >/dev/null || die "perf is required for --profile"
  prepare "$WORK/profile/$(date -u +%Y%m%dT%H%M%SZ)"
  start_servers unpinned
  warm_up unpinned
  local load url="http://127.0.0.1:$IDEMGATE_PORT/v1/events" wrk_pid
  for load in new_key replay passthrough; do
    log "profiling idemgate under $load"
    if [ "$load" = replay ]; then seed_replay "$url" "rp-prof"; fi
    wrk -t2 -c64 -d9s --timeout 5s -s "$BENCH_SRC/wrk/$load.lua" "$url" -- prof >"$OUT/$load.wrk.txt" 2>&1 &
    wrk_pid=$!
    sleep 2
    perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$IDEMGATE_PID" \
      -o "$OUT/$load.perf.data" -- sleep 5 >/dev/null 2>&1
    wait "$wrk_pid" || true
    perf report -i "$OUT/$load.perf.data" --no-children --sort dso,sym -g none \
      --percent-limit 0.4 2>/dev/null | cut -c1-180 >"$OUT/$load.flat.txt"
    perf report -i "$OUT/$load.perf.data" --children --sort sym -g none \
      --percent-limit 2 2>/dev/null | cut -c1-180 >"$OUT/$load.inclusive.txt"
  done
  log "profiles in $OUT"
}

# bench/run.sh --serve [MODE]: only start the servers (for profiling by hand), print their
# ports and wait until interrupted; everything is stopped by pid on exit.
serve() {
  local mode=${1:-unpinned}
  prepare "$WORK/serve"
  start_servers "$mode"
  cat <<EOF
upstream  http://127.0.0.1:$UPSTREAM_PORT/  (stub_status http://127.0.0.1:$STATUS_PORT/status)
Peer A    http://127.0.0.1:$PEER_A_PORT/
idemgate  http://127.0.0.1:$IDEMGATE_PORT/  pid $IDEMGATE_PID, admin http://127.0.0.1:$ADMIN_PORT/metrics
Peer B    http://127.0.0.1:$PEER_B_PORT/  pid $PEER_B_PID
redis     127.0.0.1:$REDIS_PORT
$(for name in "${!GATEWAY_PID[@]}"; do
  echo "$name http://127.0.0.1:${GATEWAY_PORT[$name]}/  pid ${GATEWAY_PID[$name]}, admin http://127.0.0.1:${GATEWAY_ADMIN_PORT[$name]}/metrics"
done)
${CLUSTER_IDEMGATE_PID:+idemgate (cluster mode) http://127.0.0.1:$CLUSTER_IDEMGATE_PORT/  pid $CLUSTER_IDEMGATE_PID, admin http://127.0.0.1:$CLUSTER_ADMIN_PORT/metrics
redis cluster 127.0.0.1:${CLUSTER_PORTS[*]}
}wrk scripts: $BENCH_SRC/wrk; Ctrl-C stops everything.
EOF
  while true; do sleep 1; done
}

main() {
  if [ "${1:-}" = --serve ]; then serve "${2:-}"; return; fi
  if [ "${1:-}" = --profile ]; then profile; return; fi
  prepare "$WORK/results/$(date -u +%Y%m%dT%H%M%SZ)"
  versions
  local mode
  for mode in $MODES; do run_mode "$mode"; done
  python3 "$BENCH_SRC/report.py" summarize --dir "$OUT" | tee "$OUT/report.md"
  log "results in $OUT"
}

main "$@"
