#!/usr/bin/env bash
# A lab of real HTTP servers at real network distances, for `./drill --topology` (docs/drill.md,
# "Against real endpoints: `--topology`"). Linux, as root; needs ip (iproute2), iptables, nginx,
# gcc, libnetfilter-queue-dev and curl (Debian: apt-get install -y nginx-light iptables
# libnetfilter-queue-dev gcc curl).
#
#   examples/drill/topology-lab/lab.sh up       # build the zones, write $LAB_DIR/topology.txt
#   examples/drill/topology-lab/lab.sh check    # round trips: curl (and ping, if any) per zone
#   examples/drill/topology-lab/lab.sh down     # tear everything down (safe to run twice)
#   examples/drill/topology-lab/lab.sh measure  # up, check, then the drill with and without two
#                                               # busy loops, against all five zones and against
#                                               # us-east-1 alone; down (also on failure or Ctrl-C)
#
# One network namespace per zone (tlab-e1a ... tlab-w2b), joined to the host by a veth pair
# (10.213.N.1 on the host, 10.213.N.2 in the zone), one nginx in each on port 8080 answering
# every GET with a small JSON body (`/health` too). `up` writes two topology files: topology.txt
# (all five zones) and topology-east.txt (us-east-1 only: every server 2 ms away).
#
# The distance is a real packet delay: every packet in and out of the zone's veth waits half the
# round trip (1 ms in us-east-1, 17.5 ms in us-west-2). This kernel has no netem
# (CONFIG_NET_SCH_NETEM is not set, nor fq), so the delay is an iptables NFQUEUE rule in the zone
# plus nfq-delay.c, a small program that accepts each queued packet at arrival + delay. The servers and the delayers run SCHED_FIFO (LAB_RT=0 turns
# that off): they stand for other machines, which busy loops on the client's host do not slow.
#
# Environment: LAB_DIR (default /tmp/topology-lab): state, logs, topology file, drill output.
# DRILL_JAR (default examples/drill/target/failover-drill.jar): the drill `measure` runs.
# DRILL_ARGS: extra drill options for `measure` (e.g. "--duration 35s").
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
LAB_DIR="${LAB_DIR:-/tmp/topology-lab}"
LAB_RT="${LAB_RT:-1}"
DRILL_JAR="${DRILL_JAR:-$ROOT/examples/drill/target/failover-drill.jar}"
PORT=8080

# name region zone round-trip-us subnet-index
ZONES="
e1a us-east-1 us-east-1a 2000 1
e1b us-east-1 us-east-1b 2000 2
e1c us-east-1 us-east-1c 2000 3
w2a us-west-2 us-west-2a 35000 4
w2b us-west-2 us-west-2b 35000 5
"

log() { echo "lab: $*" >&2; }

not_up() { # refuse before any trap is set, so that a second 'up' does not tear down the first
  if [[ -e "$LAB_DIR/up" ]]; then
    log "already up in $LAB_DIR (run '$0 down' first)"
    exit 1
  fi
}

up() {
  mkdir -p "$LAB_DIR"
  touch "$LAB_DIR/up"
  gcc -O2 -Wall -o "$LAB_DIR/nfq-delay" "$HERE/nfq-delay.c" -lnetfilter_queue
  : >"$LAB_DIR/topology.txt"
  echo "# region,zone,url   (written by examples/drill/topology-lab/lab.sh)" >>"$LAB_DIR/topology.txt"
  while read -r name region zone rtt idx; do
    [[ -z "$name" ]] && continue
    local ns="tlab-$name" host="tlab-$name" peer="tlabp-$name"
    local hip="10.213.$idx.1" zip="10.213.$idx.2" dir="$LAB_DIR/$name"
    mkdir -p "$dir/logs"
    ip netns add "$ns"
    ip link add "$host" type veth peer name "$peer" netns "$ns"
    ip addr add "$hip/30" dev "$host"
    ip link set "$host" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$zip/30" dev "$peer"
    ip -n "$ns" link set "$peer" up
    # Every packet into and out of the zone waits in queue 0 until nfq-delay lets it go.
    ip netns exec "$ns" iptables -A INPUT -i "$peer" -j NFQUEUE --queue-num 0
    ip netns exec "$ns" iptables -A OUTPUT -o "$peer" -j NFQUEUE --queue-num 0
    ip netns exec "$ns" bash -c 'echo $$ >"$1"; exec "${@:2}"' _ "$dir/delay.pid" \
      $(if [[ "$LAB_RT" == 1 ]]; then echo chrt -f 50; fi) \
      "$LAB_DIR/nfq-delay" 0 $((rtt / 2)) >/dev/null 2>"$dir/delay.log" &
    cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path $dir/tmp;
  default_type application/json;
  server {
    listen $zip:$PORT backlog=4096;
    location = /health { return 200 '{"status":"UP","region":"$region","zone":"$zone"}'; }
    location / { return 200 '{"id":"\$uri","status":"ACTIVE","region":"$region","zone":"$zone","profile":{"login":"user@example.com"}}'; }
  }
}
EOF
    mkdir -p "$dir/tmp"
    ip netns exec "$ns" bash -c 'echo $$ >"$1"; exec "${@:2}"' _ "$dir/nginx.pid.launch" \
      $(if [[ "$LAB_RT" == 1 ]]; then echo chrt -f 40; fi) \
      nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >/dev/null 2>>"$dir/logs/stderr.log" &
    echo "$region,$zone,http://$zip:$PORT" >>"$LAB_DIR/topology.txt"
  done <<<"$ZONES"
  # Wait for every server to answer.
  while read -r name region zone rtt idx; do
    [[ -z "$name" ]] && continue
    local ok=0
    for _ in $(seq 50); do
      if [[ "$(curl -sf --max-time 1 "http://10.213.$idx.2:$PORT/health" || true)" == *"\"zone\":\"$zone\""* ]]; then
        ok=1
        break
      fi
      sleep 0.1
    done
    [[ "$ok" == 1 ]] || { log "$zone (10.213.$idx.2) does not answer"; return 1; }
  done <<<"$ZONES"
  # The same without us-west-2: every server 2 ms away, so both clients' p50 should be near 2 ms.
  grep -v '^us-west-2,' "$LAB_DIR/topology.txt" >"$LAB_DIR/topology-east.txt"
  log "up: $(grep -vc '^#' "$LAB_DIR/topology.txt") endpoints in $LAB_DIR/topology.txt, $(grep -vc '^#' "$LAB_DIR/topology-east.txt") in $LAB_DIR/topology-east.txt"
}

down() {
  [[ -d "$LAB_DIR" ]] || return 0
  while read -r name region zone rtt idx; do
    [[ -z "$name" ]] && continue
    local dir="$LAB_DIR/$name"
    for f in nginx.pid.launch delay.pid; do
      if [[ -s "$dir/$f" ]]; then
        local pid
        pid="$(cat "$dir/$f")"
        # Only a process we started: the pid we recorded, still running our server or delayer.
        if kill -0 "$pid" 2>/dev/null && grep -qxE 'nginx|nfq-delay' "/proc/$pid/comm"; then
          kill -TERM "$pid" 2>/dev/null || true
          for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
          kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$dir/$f"
      fi
    done
    [[ -s "$dir/delay.log" ]] && sed 's/^/lab: '"$zone"' /' "$dir/delay.log" >&2
    ip netns del "tlab-$name" 2>/dev/null || true # takes the zone's end of the veth with it
    ip link del "tlab-$name" 2>/dev/null || true
  done <<<"$ZONES"
  rm -f "$LAB_DIR/up"
  local left
  left="$(ip netns list | grep -c '^tlab-' || true)$(ip -o link | grep -c ' tlab' || true)"
  if [[ "$left" == 00 ]]; then log "down: no tlab namespace or link left"; else log "down: left over: $left"; fi
}

check() {
  [[ -e "$LAB_DIR/up" ]] || { log "not up in $LAB_DIR"; return 1; }
  while read -r name region zone rtt idx; do
    [[ -z "$name" ]] && continue
    # The answer must come from the zone's own server (this machine's network answers anything).
    [[ "$(curl -sf --max-time 2 "http://10.213.$idx.2:$PORT/health" || true)" == *"\"zone\":\"$zone\""* ]] ||
      { log "$zone: no answer from the lab's server at 10.213.$idx.2"; return 1; }
    local url="http://10.213.$idx.2:$PORT/users/1"
    local ping_avg=""
    if command -v ping >/dev/null; then
      ping_avg=" | ping avg $(ping -q -c 10 -i 0.05 "10.213.$idx.2" | sed -n 's#.*= [0-9.]*/\([0-9.]*\)/.*#\1#p') ms"
    fi
    # 21 requests on one keep-alive connection: the first pays the TCP handshake too.
    local times
    times="$(curl -s -o /dev/null -w '%{time_connect} %{time_total}\n' $(for _ in $(seq 21); do echo "$url"; done))"
    local connect first rest
    connect="$(echo "$times" | awk 'NR == 1 { printf "%.2f", $1 * 1000 }')"
    first="$(echo "$times" | awk 'NR == 1 { printf "%.2f", $2 * 1000 }')"
    rest="$(echo "$times" | awk 'NR > 1 { printf "%.3f\n", $2 * 1000 }' | sort -n | awk '
      { t[NR] = $1 } END { printf "min %.2f p50 %.2f max %.2f", t[1], (t[10] + t[11]) / 2, t[NR] }')"
    printf '%-11s target RTT %4.1f ms%s | curl: connect %s ms, first GET %s ms (new connection), next 20 GETs on it: %s ms\n' \
      "$zone" "$(awk -v r="$rtt" 'BEGIN { printf "%.1f", r / 1000 }')" "$ping_avg" "$connect" "$first" "$rest"
  done <<<"$ZONES"
}

busy_pids=()
stop_busy() {
  for p in "${busy_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  busy_pids=()
}

drill_run() { # label topology-file busy-loops
  local label="$1" topology="$2" busy="$3" out="$LAB_DIR/drill-$1"
  echo "== drill $label: $topology, $busy busy loops ==" >&2
  for _ in $(seq "$busy"); do yes >/dev/null & busy_pids+=($!); done
  [[ "$busy" -gt 0 ]] && sleep 5 # let the loops show in the load average
  echo "loadavg before: $(cat /proc/loadavg)" | tee "$out.loadavg"
  (cd "$ROOT" && java -jar "$DRILL_JAR" --topology "$topology" --home us-east-1,us-east-1a \
     --json "$out.json" --report "$out.html" ${DRILL_ARGS:-}) 2>&1 | tee "$out.console.txt"
  echo "loadavg after:  $(cat /proc/loadavg)" | tee -a "$out.loadavg"
  stop_busy
}

measure() {
  not_up
  [[ -f "$DRILL_JAR" ]] || { log "$DRILL_JAR is missing: build it (docs/drill.md)"; return 1; }
  trap 'stop_busy; down' EXIT
  trap 'exit 130' INT TERM
  up
  check | tee "$LAB_DIR/check-before.txt"
  drill_run full-busy "$LAB_DIR/topology.txt" 2
  drill_run full-quiet "$LAB_DIR/topology.txt" 0
  check | tee "$LAB_DIR/check-between.txt"
  drill_run east-busy "$LAB_DIR/topology-east.txt" 2
  drill_run east-quiet "$LAB_DIR/topology-east.txt" 0
  check | tee "$LAB_DIR/check-after.txt"
}

case "${1:-}" in
  up) not_up; trap down EXIT; up; trap - EXIT ;; # a failed 'up' leaves nothing behind
  down) down ;;
  check) check ;;
  measure) measure ;;
  *) echo "usage: $0 up|check|down|measure" >&2; exit 2 ;;
esac
