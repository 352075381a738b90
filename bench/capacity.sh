#!/usr/bin/env bash
# Bytes per stored record, measured (docs/capacity.md "Re-measuring"): one command,
# bench/capacity.sh.
#
# Starts on loopback, every process by this script and stopped by pid on exit: an upstream
# (nginx answering 201 with bodies of exact sizes), redis-server (no persistence,
# noeviction) and idemgate, once per case. For each response body size (200 B, 2 KiB,
# 32 KiB), with the Redis store (store.encryption off and on) and the memory store, it sends
# N new-key requests with one API key and reads:
#   Redis:  MEMORY USAGE (SAMPLES 0) of a sample of record keys, the median; INFO memory
#           used_memory before and after ÷ records (includes the keyspace and expiry
#           dictionaries and the allocator's rounding); MEMORY USAGE of the credential's
#           sorted set (store.max_records_per_credential) ÷ its members.
#   memory: idemgate_store_bytes before and after ÷ records (what store.memory.max_bytes
#           counts), and the gateway's RSS before and after ÷ records.
# A warm-up of CAP_WARMUP requests (same API key) runs before the "before" readings, so the
# script cache, the connections and the credential's set exist already.
# Writes cases.jsonl, capacity.json (machine-readable: every case and the linear fits) and
# report.md to $CAPACITY_DIR/<UTC time>/ and prints the report.
#
# Environment (defaults in brackets):
#   IDEMGATE_BIN [<repo>/build/idemgate]   CAPACITY_DIR [/tmp/idemgate-capacity]
#   CAP_BODIES ["200 2048 32768"]          CAP_REQUESTS ["20000 20000 4000"] (one per body)
#   CAP_SAMPLE [200] keys for MEMORY USAGE  CAP_WARMUP [300]
#   CAP_STORES ["redis:off redis:on memory:off"] (store:encryption)
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_SRC")
# shellcheck source=lib.sh
source "$BENCH_SRC/lib.sh"

IDEMGATE=${IDEMGATE_BIN:-$ROOT/build/idemgate}
WORK=${CAPACITY_DIR:-/tmp/idemgate-capacity}
read -r -a BODIES <<<"${CAP_BODIES:-200 2048 32768}"
read -r -a REQUESTS <<<"${CAP_REQUESTS:-20000 20000 4000}"
read -r -a STORES <<<"${CAP_STORES:-redis:off redis:on memory:off}"
SAMPLE=${CAP_SAMPLE:-200}
WARMUP=${CAP_WARMUP:-300}
PREFIX_KEY="idemgate:"

for t in nginx redis-server redis-cli python3 curl; do
  command -v "$t" >/dev/null || die "$t is required"
done
[ -x "$IDEMGATE" ] || die "no idemgate binary at $IDEMGATE (build it, or set IDEMGATE_BIN)"
[ "${#BODIES[@]}" -eq "${#REQUESTS[@]}" ] || die "CAP_REQUESTS needs one count per CAP_BODIES size"

OUT=$WORK/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT/upstream" "$OUT/redis"
trap stop_servers EXIT
trap 'exit 130' INT TERM

read -r UPSTREAM_PORT REDIS_PORT LISTEN_PORT ADMIN_PORT <<<"$(free_ports 4)"

python3 "$BENCH_SRC/capacity.py" bodies "$OUT/upstream/bodies" "${BODIES[@]}"
render "$BENCH_SRC/conf/capacity-nginx.conf.in" "$OUT/upstream/nginx.conf" \
  PREFIX="$OUT/upstream" UPSTREAM_PORT="$UPSTREAM_PORT"
spawn upstream "$OUT/upstream.log" nginx -p "$OUT/upstream" -c "$OUT/upstream/nginx.conf" \
  -e "$OUT/upstream/error.log" -g 'daemon off;'
wait_port "$UPSTREAM_PORT" "$LAST_PID" "upstream nginx"
# noeviction, as docs/redis.md requires: a run that filled Redis would fail, not shrink.
spawn redis "$OUT/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
  --appendonly no --maxmemory-policy noeviction --dir "$OUT/redis"
wait_port "$REDIS_PORT" "$LAST_PID" redis-server

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
info_field() { rcli info "$1" | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
metric() {
  curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v m="$1" '$1 == m { printf "%d\n", $2 }'
}

"$IDEMGATE" keys generate >"$OUT/keys"
chmod 600 "$OUT/keys"

# start_gateway STORE ENCRYPTION: idemgate on a fresh config; IDEMGATE_PID.
start_gateway() {
  local store=$1 enc=$2 cfg=$OUT/idemgate-$1-$2.yaml
  {
    echo "listen: 127.0.0.1:$LISTEN_PORT"
    echo "threads: 2"
    echo "upstream:"
    echo "  url: http://127.0.0.1:$UPSTREAM_PORT"
    echo "store:"
    echo "  backend: $store"
    # The bound stays on, as by default; one API key sends every request, so the largest
    # bound keeps them from a 429. Its sorted set is measured separately.
    echo "  max_records_per_credential: 100000000"
    echo "  redis:"
    echo "    url: redis://127.0.0.1:$REDIS_PORT/0"
    echo "    key_prefix: \"$PREFIX_KEY\""
    # Bytes are measured, not latency: on a busy machine a 500 ms timeout would fail
    # requests (and leave their claims behind), voiding the run.
    echo "    command_timeout: 10s"
    echo "  memory:"
    echo "    max_records: 10000000"
    echo "    max_bytes: 8GiB"
    if [ "$enc" = on ]; then
      echo "  encryption:"
      echo "    keys_file: $OUT/keys"
    fi
    echo "admin:"
    echo "  listen: 127.0.0.1:$ADMIN_PORT"
    echo "log:"
    echo "  level: warn"
    echo "  access_log: false"
  } >"$cfg"
  spawn idemgate "$OUT/idemgate-$store-$enc.log" "$IDEMGATE" --config "$cfg"
  IDEMGATE_PID=$LAST_PID
  wait_port "$LISTEN_PORT" "$IDEMGATE_PID" idemgate
  wait_port "$ADMIN_PORT" "$IDEMGATE_PID" "idemgate admin"
}

stop_gateway() {
  kill -TERM "$IDEMGATE_PID"
  wait "$IDEMGATE_PID" 2>/dev/null || true
  # Off lib.sh's list (the gateway is always the newest entry), so that stop_servers never
  # signals a pid that may have been reused since.
  unset 'SERVER_PIDS[-1]' 'SERVER_NAMES[-1]'
}

load() { # load PATH COUNT BODY KEYPREFIX
  python3 "$BENCH_SRC/capacity.py" load --port "$LISTEN_PORT" --path "$1" --count "$2" \
    --expect-bytes "$3" --key-prefix "$4" --threads 4
}

run_case() {
  local store=$1 enc=$2 body=$3 count=$4 nonce
  nonce="cap-$store-$enc-$body-$RANDOM$RANDOM"
  log "$store, encryption $enc, body $body B: $count new keys"
  if [ "$store" = redis ]; then rcli flushall >/dev/null; rcli memory purge >/dev/null; fi
  start_gateway "$store" "$enc"
  load "/b$body" "$WARMUP" "$body" "$nonce-warm" >/dev/null
  sleep 1
  local json
  if [ "$store" = redis ]; then
    local um0 keys0 um1 keys1 cred
    um0=$(info_field memory used_memory)
    keys0=$(rcli dbsize)
    load "/b$body" "$count" "$body" "$nonce" >/dev/null
    sleep 2 # the server cron finishes rehashing a grown dictionary
    um1=$(info_field memory used_memory)
    keys1=$(rcli dbsize)
    # awk, not head: head would leave redis-cli a closed pipe (SIGPIPE, and pipefail).
    rcli --scan --pattern "${PREFIX_KEY}{*" | awk -v n="$SAMPLE" 'NR <= n' >"$OUT/sample-keys"
    sed 's/^/MEMORY USAGE /; s/$/ SAMPLES 0/' "$OUT/sample-keys" | rcli >"$OUT/sample-usage"
    local median encoding
    median=$(python3 "$BENCH_SRC/capacity.py" median "$OUT/sample-usage")
    encoding=$(rcli object encoding "$(head -n1 "$OUT/sample-keys")")
    cred=$(rcli --scan --pattern "${PREFIX_KEY}cred:*" | awk 'NR == 1')
    [ -n "$cred" ] || die "no credential set in Redis (is the bound on?)"
    json=$(printf '{"store":"redis","encryption":"%s","body":%d,"records":%d,' \
      "$enc" "$body" "$((keys1 - keys0))")
    json+=$(printf '"used_memory_before":%d,"used_memory_after":%d,"memory_usage_median":%d,' \
      "$um0" "$um1" "$median")
    json+=$(printf '"encoding":"%s","zset_usage":%d,"zset_members":%d,"zset_encoding":"%s"}' \
      "$encoding" "$(rcli memory usage "$cred" samples 0)" "$(rcli zcard "$cred")" \
      "$(rcli object encoding "$cred")")
    rcli hget "$(head -n1 "$OUT/sample-keys")" rs >"$OUT/sample-rs-$enc-$body" || true
  else
    local b0 r0 rss0 b1 r1 rss1
    b0=$(metric idemgate_store_bytes); r0=$(metric idemgate_store_records)
    rss0=$(rss_kib "$IDEMGATE_PID")
    load "/b$body" "$count" "$body" "$nonce" >/dev/null
    sleep 1
    b1=$(metric idemgate_store_bytes); r1=$(metric idemgate_store_records)
    rss1=$(rss_kib "$IDEMGATE_PID")
    json=$(printf '{"store":"memory","encryption":"%s","body":%d,"records":%d,' \
      "$enc" "$body" "$((r1 - r0))")
    json+=$(printf '"store_bytes_before":%d,"store_bytes_after":%d,' "$b0" "$b1")
    json+=$(printf '"rss_kib_before":%d,"rss_kib_after":%d}' "$rss0" "$rss1")
  fi
  stop_gateway
  echo "$json" >>"$OUT/cases.jsonl"
}

: >"$OUT/cases.jsonl"
for sc in "${STORES[@]}"; do
  for i in "${!BODIES[@]}"; do
    run_case "${sc%%:*}" "${sc#*:}" "${BODIES[i]}" "${REQUESTS[i]}"
  done
done

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$OUT/meta.json" <<EOF
import json, sys
json.dump({
    "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
    "commit": "$commit",
    "idemgate": "$("$IDEMGATE" --version)",
    "redis_version": "$(info_field server redis_version)",
    "redis_allocator": "$(info_field memory mem_allocator)",
    "machine": "$(nproc) CPUs, $(uname -sr)",
    "command": "bench/capacity.sh, CAP_BODIES='${BODIES[*]}' CAP_REQUESTS='${REQUESTS[*]}'",
}, open(sys.argv[1], "w"), indent=2)
EOF
python3 "$BENCH_SRC/capacity.py" summarize --dir "$OUT"
log "results in $OUT (capacity.json, report.md)"
