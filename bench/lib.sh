# Helpers for bench/run.sh (sourced, not run): processes started and stopped by pid, free
# loopback ports, config templates, and the counters read before and after every load run.

# Every server this script started, stopped by pid (never by name) in stop_servers.
declare -a SERVER_PIDS=()
declare -a SERVER_NAMES=()
# The Redis Cluster of the cluster cases (bench/run.sh start_cluster): ports and pids.
declare -a CLUSTER_PORTS=()
declare -a CLUSTER_PIDS=()
# The other gateways on the standalone Redis (bench/run.sh start_variant), by target name
# (idemgate_base, idemgate_sealed): listening port, admin port, pid.
declare -A GATEWAY_PORT=()
declare -A GATEWAY_ADMIN_PORT=()
declare -A GATEWAY_PID=()

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

# free_ports N: N distinct free TCP ports on 127.0.0.1 (held open together while chosen).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# spawn NAME LOGFILE CMD...: starts CMD in the background and records its pid. CMD must
# exec the server itself (taskset and env do), so that the recorded pid is the server's.
spawn() {
  local name=$1 logfile=$2; shift 2
  "$@" >"$logfile" 2>&1 &
  SERVER_PIDS+=("$!")
  SERVER_NAMES+=("$name")
  LAST_PID=$!
}

# wait_port PORT PID NAME: until 127.0.0.1:PORT accepts (10 s at most) and PID still runs.
wait_port() {
  local port=$1 pid=$2 name=$3 i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited during start-up"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name did not listen on 127.0.0.1:$port within 10 s"
}

# stop_servers: SIGTERM to every recorded pid, newest first; SIGKILL after 5 s.
stop_servers() {
  local i pid
  for ((i = ${#SERVER_PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${SERVER_PIDS[i]}" 2>/dev/null || true
  done
  for ((i = ${#SERVER_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${SERVER_PIDS[i]}
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "${SERVER_NAMES[i]} (pid $pid) ignored SIGTERM, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
  SERVER_NAMES=()
  CLUSTER_PORTS=()
  CLUSTER_PIDS=()
  CLUSTER_IDEMGATE_PID=
  GATEWAY_PORT=()
  GATEWAY_ADMIN_PORT=()
  GATEWAY_PID=()
}

# render TEMPLATE OUTPUT NAME=VALUE...: copies TEMPLATE with every @NAME@ replaced.
render() {
  local template=$1 output=$2; shift 2
  local args=() kv
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$template" >"$output"
  if grep -q '@[A-Z_]*@' "$output"; then die "unfilled placeholder in $output"; fi
}

# rss_kib PID: resident set size of PID in KiB (VmRSS).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# cpu_ticks PID: user + system CPU time of PID (all its threads) in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# child_pid PID: the first child of PID (an nginx master's worker).
child_pid() { ps -o pid= --ppid "$1" | head -n1 | tr -d ' '; }

# snapshot DIR: the counters bench/report.py turns into per-request figures: upstream
# stub_status, Redis INFO (commandstats, clients, stats), gateway outcomes, RSS. With the
# cluster cases, also each cluster node's INFO (redis_info_cluster.N), the cluster-mode
# gateway's outcomes (idemgate_cluster_metrics), its RSS and CPU, and the nodes' CPU summed;
# with the idemgate_base / idemgate_sealed cases, their outcomes (NAME_metrics), RSS and CPU.
snapshot() {
  local dir=$1 i name
  mkdir -p "$dir"
  curl -sf "http://127.0.0.1:$STATUS_PORT/status" >"$dir/nginx_status"
  redis-cli -p "$REDIS_PORT" info all >"$dir/redis_info"
  curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | grep '^idemgate_requests_total' \
    >"$dir/idemgate_metrics" || true
  for i in "${!CLUSTER_PORTS[@]}"; do
    redis-cli -p "${CLUSTER_PORTS[i]}" info all >"$dir/redis_info_cluster.$i"
  done
  if [ -n "${CLUSTER_IDEMGATE_PID:-}" ]; then
    curl -sf "http://127.0.0.1:$CLUSTER_ADMIN_PORT/metrics" | grep '^idemgate_requests_total' \
      >"$dir/idemgate_cluster_metrics" || true
  fi
  for name in "${!GATEWAY_PID[@]}"; do
    curl -sf "http://127.0.0.1:${GATEWAY_ADMIN_PORT[$name]}/metrics" |
      grep '^idemgate_requests_total' >"$dir/${name}_metrics" || true
  done
  {
    echo "idemgate $(rss_kib "$IDEMGATE_PID")"
    echo "peer_b $(rss_kib "$PEER_B_PID")"
    echo "peer_a $(rss_kib "$PEER_A_WORKER_PID")"
    if [ -n "${CLUSTER_IDEMGATE_PID:-}" ]; then
      echo "idemgate_cluster $(rss_kib "$CLUSTER_IDEMGATE_PID")"
    fi
    for name in "${!GATEWAY_PID[@]}"; do echo "$name $(rss_kib "${GATEWAY_PID[$name]}")"; done
  } >"$dir/rss"
  cut -d' ' -f1 /proc/loadavg >"$dir/loadavg"
  # CPU time is far less sensitive than req/s to the other tenants of a shared machine.
  {
    echo "ticks_per_second $(getconf CLK_TCK)"
    echo "idemgate $(cpu_ticks "$IDEMGATE_PID")"
    echo "peer_a $(cpu_ticks "$PEER_A_WORKER_PID")"
    echo "peer_b $(cpu_ticks "$PEER_B_PID")"
    echo "direct $(cpu_ticks "$UPSTREAM_WORKER_PID")"
    echo "redis $(cpu_ticks "$REDIS_PID")"
    if [ -n "${CLUSTER_IDEMGATE_PID:-}" ]; then
      echo "idemgate_cluster $(cpu_ticks "$CLUSTER_IDEMGATE_PID")"
      local ticks=0 pid
      for pid in "${CLUSTER_PIDS[@]}"; do ticks=$((ticks + $(cpu_ticks "$pid"))); done
      echo "redis_cluster $ticks"
    fi
    for name in "${!GATEWAY_PID[@]}"; do echo "$name $(cpu_ticks "${GATEWAY_PID[$name]}")"; done
  } >"$dir/cpu"
}
