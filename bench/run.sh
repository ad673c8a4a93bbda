#!/usr/bin/env bash
# run.sh -- failoverdns beside NSD, Knot, gdnsd and PowerDNS on this machine, in one run, and
# bench/RESULTS.md written from it (ratios against the peers of the same run).
#
#   bench/run.sh            # full: 20 s dnsperf runs, 2 repeats, -T 1 and 2, 5 failover trials
#   bench/run.sh --quick    # ~10 min: 5 s runs, 1 repeat, -T 1, 3 trials
#   PHASES="qps hc" bench/run.sh --quick     # some phases only
#
# Phases:
#   qps       static zone (bench.test.zone, queries.txt): NSD, Knot, gdnsd, PowerDNS, failoverdns
#   hc        health-checked names (HTTP checks against 127.0.0.2/.3:8080): gdnsd multifo+simplefo,
#             PowerDNS LUA ifurlup, failoverdns failover+multivalue (queries-hc.txt: fo, dyn) and
#             failoverdns weighted+multivalue (queries-wm.txt: w, mv)
#   failover  backend killed -> first changed answer, and back: gdnsd at its minimums (interval
#             2 s, thresholds 1), PowerDNS LUA at 1 s, failoverdns at 1 s and 0.1 s (threshold 1)
#   data      a zone of $BIG_N record sets: import time, resident memory, q/s beside NSD on
#             the same zone, and 1000-change batches: time from acknowledgement to served
#   checks    10,000 HTTP checks at 1 s: schedule lag p50/p99 and DNS q/s while dnsperf loads the
#             server, with the backends on dnsperf's CPU, then with the server capped at 70 % of
#             its CPU (a cpu cgroup, when there is one), then with the backends on the server's CPU
#
# Each server runs alone, pinned to CPU $SERVER_CPU (0), dnsperf and the backends on CPU
# $CLIENT_CPU (1). Server CPU per answered query = utime+stime of the server's process group over
# the run / answers. Loopback only; every load is bounded by dnsperf -l, every wait by a timeout.
# Needs root for apt-get when a peer is missing (Debian 12 packages).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ $QUICK = 1 ]; then
  DURATION=${DURATION:-5} REPEATS=${REPEATS:-1} THREADS_LIST=${THREADS_LIST:-1} LAT_SECS=${LAT_SECS:-5}
  TRIALS=${TRIALS:-3} LAG_SECS=${LAG_SECS:-15}
else
  DURATION=${DURATION:-20} REPEATS=${REPEATS:-2} THREADS_LIST=${THREADS_LIST:-"1 2"} LAT_SECS=${LAT_SECS:-10}
  TRIALS=${TRIALS:-5} LAG_SECS=${LAG_SECS:-30}
fi
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-500}
LAT_QPS=${LAT_QPS:-20000}
BIG_N=${BIG_N:-1000000}
NCHECKS=${NCHECKS:-10000}
IMPORT_MAX=${IMPORT_MAX:-300}
SETTLE=${SETTLE:-10}
PHASES=${PHASES:-"qps hc failover data checks"}
PORT=5340
API=18053

WORK=$(mktemp -d /tmp/failoverdns-bench.XXXXXX)
echo "scratch dir: $WORK"
mkdir -p "$WORK/raw" "$WORK/answers"
QPS=$WORK/qps.tsv      # phase server T run qps lost cpu_us busy% other%
LAT=$WORK/latency.tsv  # phase server p50 p99 p999 achieved lost
FO=$WORK/failover.tsv  # config trial fo_down dyn_down fo_up dyn_up
NOTES=$WORK/notes.md
: >"$QPS"; : >"$LAT"; : >"$FO"; : >"$NOTES"

SERVER_PID=""
HELPER_PID=""
cleanup() {
  stop_server "$SERVER_PID"; SERVER_PID=""
  stop_server "$HELPER_PID"; HELPER_PID=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- peers and build ----
need=""
for p in dnsperf:dnsperf nsd:nsd knotd:knot gdnsd:gdnsd pdns_server:pdns-server dig:bind9-dnsutils curl:curl; do
  command -v "${p%%:*}" >/dev/null || need="$need ${p#*:}"
done
[ -e /usr/lib/x86_64-linux-gnu/pdns/libbindbackend.so ] || ls /usr/lib/*/pdns/libbindbackend.so >/dev/null 2>&1 || need="$need pdns-backend-bind"
if [ -n "$need" ]; then
  echo "installing:$need"
  apt-get install -y $need >"$WORK/apt.log" 2>&1 || { echo "apt-get failed, see $WORK/apt.log"; exit 1; }
fi
# Debian starts the peers as services on install: ours run on other ports, theirs stay as they are.
echo "building failoverdns and benchtool"
(cd "$REPO" && go build -o "$WORK/failoverdns" ./cmd/failoverdns && go build -o "$WORK/benchtool" ./bench/benchtool) || exit 1
FDNS_BIN=$WORK/failoverdns
BT=$WORK/benchtool
COMMIT=$(cd "$REPO" && git rev-parse --short HEAD)$(cd "$REPO" && git diff --quiet HEAD -- . || echo "+dirty")

fdns() { "$FDNS_BIN" --api "http://127.0.0.1:$API" "$@"; }

# start SERVER DIR ZONE ZONEFILE -> SERVER_PID; failoverdns gets ZONEFILE through zone import
start() {
  local s=$1 d=$2 zone=$3 zf=$4
  mkdir -p "$d"
  case $s in
    nsd) SERVER_PID=$(start_nsd "$PORT" "$zone" "$zf" "$d") ;;
    knot) SERVER_PID=$(start_knot "$PORT" "$zone" "$zf" "$d") ;;
    gdnsd) SERVER_PID=$(start_gdnsd "$PORT" "$zone" "$zf" "$d") ;;
    pdns) SERVER_PID=$(start_pdns "$PORT" "$zone" "$zf" "$d") ;;
    gdnsd-dyn|gdnsd-min)
      gdnsd_dyn_zone "$zf" >"$d/zone"
      local mon='interval => 2'
      [ "$s" = gdnsd-min ] && mon='interval => 2, timeout => 1, up_thresh => 1, ok_thresh => 1, down_thresh => 1'
      SERVER_PID=$(start_gdnsd "$PORT" "$zone" "$d/zone" "$d" "$(GDNSD_MON=$mon gdnsd_dyn_extra)") ;;
    pdns-dyn|pdns-lua)
      pdns_dyn_zone "$zf" >"$d/zone"
      SERVER_PID=$(start_pdns "$PORT" "$zone" "$d/zone" "$d" "enable-lua-records=yes
lua-health-checks-interval=1") ;;
    failoverdns*)
      SERVER_PID=$(start_failoverdns "$PORT" "$API" "$d")
      wait_api "$API" || { echo "failoverdns API did not come up"; tail "$d/server.log"; return 1; }
      fdns zone import "$zone" "$zf" >/dev/null || return 1 ;;
  esac
  wait_dns "$PORT" "$zone" 60 || { echo "$s did not answer; log:"; tail -20 "$d/server.log"; return 1; }
}

# measure PHASE NAME QUERYFILE -- warm-up, the dnsperf runs, then latency at LAT_QPS
measure() {
  local ph=$1 s=$2 qf=$3 T r raw line
  taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$qf" -l 2 -c "$CLIENTS" -q "$OUTSTANDING" >/dev/null 2>&1
  for T in $THREADS_LIST; do
    for ((r = 1; r <= REPEATS; r++)); do
      raw=$WORK/raw/$ph-$s-T$T-r$r.txt
      run_dnsperf "$raw" "$SERVER_PID" -s 127.0.0.1 -p "$PORT" -d "$qf" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -T "$T"
      read -r sent comp lost qps avg rt <<<"$(parse_dnsperf "$raw")"
      read -r busy usq <<<"$(awk -v t="$SRV_TICKS" -v rt="$rt" -v c="$comp" 'BEGIN{if(rt<=0)rt=1; if(c<=0)c=1; printf "%.0f %.2f", t/rt, t*10000/c}')"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ph" "$s" "$T" "$r" "$qps" "$lost" "$usq" "$busy" "$OTHER_PCT" >>"$QPS"
      echo "  $s T=$T run $r: qps=$qps lost=$lost cpu/query=${usq}us busy=$busy% other=$OTHER_PCT%"
    done
  done
  raw=$WORK/raw/$ph-$s-latency.txt
  run_dnsperf "$raw" "$SERVER_PID" -s 127.0.0.1 -p "$PORT" -d "$qf" -l "$LAT_SECS" -c "$CLIENTS" -q "$OUTSTANDING" -Q "$LAT_QPS" -v
  read -r p50 p99 p999 <<<"$(lat_pcts "$raw")"
  read -r sent comp lost qps avg rt <<<"$(parse_dnsperf "$raw")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ph" "$s" "$p50" "$p99" "$p999" "$qps" "$lost" >>"$LAT"
  echo "  $s latency @$LAT_QPS: p50=$p50 p99=$p99 p99.9=$p999 ms (lost $lost)"
}

rss_kb() { # PGID -> summed VmRSS of the group's processes
  local pid t=0 v
  for pid in $(ps -o pid= -g "$1" 2>/dev/null); do
    v=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null); t=$((t + ${v:-0}))
  done
  echo $t
}

hwm_kb() { # PGID -> summed VmHWM (peak resident memory) of the group's processes
  local pid t=0 v
  for pid in $(ps -o pid= -g "$1" 2>/dev/null); do
    v=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null); t=$((t + ${v:-0}))
  done
  echo $t
}

backends() { # start benchtool HTTP backends on 127.0.0.2/.3:8080 (pinned to the client CPU)
  setsid taskset -c "$CLIENT_CPU" "$BT" http -listen 127.0.0.2:8080,127.0.0.3:8080 >"$WORK/backends.log" 2>&1 </dev/null &
  HELPER_PID=$!
  sleep 0.5
}

ZONE=$HERE/bench.test.zone
for ph in $PHASES; do
  case $ph in
  qps)
    echo "=== qps: static zone"
    for s in ${QPS_SERVERS:-nsd knot gdnsd pdns failoverdns}; do
      start "$s" "$WORK/$ph-$s" bench.test "$ZONE" || { stop_server "$SERVER_PID"; SERVER_PID=""; continue; }
      answers "$PORT" "$HERE/queries.txt" >"$WORK/answers/$s.txt"
      measure "$ph" "$s" "$HERE/queries.txt"
      stop_server "$SERVER_PID"; SERVER_PID=""
    done ;;
  hc)
    echo "=== hc: health-checked answers"
    backends
    for s in gdnsd-dyn pdns-dyn failoverdns failoverdns-wm; do
      start "$s" "$WORK/$ph-$s" bench.test "$ZONE" || { stop_server "$SERVER_PID"; SERVER_PID=""; continue; }
      case $s in failoverdns*) "$BT" setup -api "http://127.0.0.1:$API" -interval 1 || echo "setup failed" ;; esac
      dig @127.0.0.1 -p "$PORT" dyn.bench.test A +short >/dev/null; dig @127.0.0.1 -p "$PORT" fo.bench.test A +short >/dev/null
      sleep 5 # the first checks (PowerDNS checks a name from its first query on)
      qf=$HERE/queries-hc.txt
      [ "$s" = failoverdns-wm ] && qf=$HERE/queries-wm.txt
      answers "$PORT" "$qf" >"$WORK/answers/hc-$s.txt"
      measure "$ph" "$s" "$qf"
      stop_server "$SERVER_PID"; SERVER_PID=""
    done
    stop_server "$HELPER_PID"; HELPER_PID="" ;;
  failover)
    echo "=== failover"
    for c in gdnsd-min pdns-lua failoverdns-1s failoverdns-0.1s; do
      start "$c" "$WORK/$ph-$c" bench.test "$ZONE" || { stop_server "$SERVER_PID"; SERVER_PID=""; continue; }
      case $c in
        failoverdns-1s) "$BT" setup -api "http://127.0.0.1:$API" -interval 1 -threshold 1 ;;
        failoverdns-0.1s) "$BT" setup -api "http://127.0.0.1:$API" -interval 0.1 -threshold 1 ;;
      esac
      taskset -c "$CLIENT_CPU" "$BT" failover -dns "127.0.0.1:$PORT" -trials "$TRIALS" -max 60s 2>&1 |
        tee "$WORK/raw/failover-$c.txt" | sed 's/^/  /'
      awk -v c="$c" -F'\t' '$1=="trial" {print c"\t"$2"\t"$3"\t"$4"\t"$5"\t"$6}' "$WORK/raw/failover-$c.txt" >>"$FO"
      stop_server "$SERVER_PID"; SERVER_PID=""
    done ;;
  data)
    echo "=== data: $BIG_N record sets"
    "$BT" bigzone -n "$BIG_N" >"$WORK/big.zone"
    "$BT" queries -n "$BIG_N" -lines 100000 >"$WORK/queries-big.txt"
    for s in nsd failoverdns; do
      d=$WORK/$ph-$s; mkdir -p "$d"
      t0=$(date +%s.%N)
      if [ $s = nsd ]; then
        SERVER_PID=$(start_nsd "$PORT" big.test "$WORK/big.zone" "$d")
      else
        SERVER_PID=$(start_failoverdns "$PORT" "$API" "$d")
        wait_api "$API"
        t0=$(date +%s.%N)
        timeout "$IMPORT_MAX" "$FDNS_BIN" --api "http://127.0.0.1:$API" zone import big.test "$WORK/big.zone" >"$d/import.log" 2>&1 ||
          echo "import failed or took over ${IMPORT_MAX}s: $(tail -2 "$d/import.log")"
      fi
      t1=$(date +%s.%N)
      # Serving means answering for the zone's last name: its SOA is served from the zone's
      # creation on, and an import that takes longer than the API waits returns PENDING.
      last=h$((BIG_N - 1)).big.test
      for ((i = 0; i < IMPORT_MAX * 10; i++)); do
        dig @127.0.0.1 -p "$PORT" "$last" A +time=1 +tries=1 +short 2>/dev/null | grep -q . && break
        sleep 0.1
      done
      dig @127.0.0.1 -p "$PORT" "$last" A +time=1 +tries=1 +short 2>/dev/null | grep -q . ||
        { echo "  $s not serving $last"; stop_server "$SERVER_PID"; SERVER_PID=""; continue; }
      t2=$(date +%s.%N)
      rss=$(rss_kb "$SERVER_PID")
      read -r imp srv <<<"$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "%.1f %.1f", b-a, c-a}')"
      # Again once the load's garbage is collected and returned (failoverdns returns it 5 s after
      # a large build), and before dnsperf: the memory the server keeps while serving.
      sleep "$SETTLE"
      kept=$(rss_kb "$SERVER_PID")
      peak=$(hwm_kb "$SERVER_PID") # the most it was resident so far: through the import and build
      echo "  $s: import command ${imp}s, serving after ${srv}s, RSS $((rss / 1024)) MiB then, $((kept / 1024)) MiB ${SETTLE}s later, peak $((peak / 1024)) MiB"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$imp" "$srv" "$rss" "$kept" "$peak" >>"$WORK/data.tsv"
      measure "$ph" "$s" "$WORK/queries-big.txt"
      if [ $s = failoverdns ]; then
        "$BT" batch -api "http://127.0.0.1:$API" -zone big.test -dns "127.0.0.1:$PORT" -n 1000 -rounds 5 >"$WORK/batch.txt" 2>"$WORK/batch.log" ||
          echo "batch failed: $(tail -2 "$WORK/batch.log")"
        sed 's/^/  /' "$WORK/batch.txt"
        printf 'rss_after_batches\t%s\n' "$(rss_kb "$SERVER_PID")" >>"$WORK/batch.txt"
        printf 'peak_rss_kb_import_to_serving\t%s\n' "$peak" >>"$WORK/batch.txt"
        # The zone imported again with every address changed (11.x.y.z): all of it replaced
        # while the old one is served.
        "$BT" bigzone -n "$BIG_N" -net 11 >"$WORK/big2.zone"
        t0=$(date +%s.%N)
        timeout "$IMPORT_MAX" "$FDNS_BIN" --api "http://127.0.0.1:$API" zone import big.test "$WORK/big2.zone" >"$d/reimport.log" 2>&1 ||
          echo "re-import failed or took over ${IMPORT_MAX}s: $(tail -2 "$d/reimport.log")"
        t1=$(date +%s.%N)
        for ((i = 0; i < IMPORT_MAX * 10; i++)); do
          dig @127.0.0.1 -p "$PORT" "$last" A +time=1 +tries=1 +short 2>/dev/null | grep -q '^11\.' && break
          sleep 0.1
        done
        t2=$(date +%s.%N)
        sleep "$SETTLE"
        read -r imp srv <<<"$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "%.1f %.1f", b-a, c-a}')"
        printf 'reimport\t%s\t%s\t%s\t%s\n' "$imp" "$srv" "$(hwm_kb "$SERVER_PID")" "$(rss_kb "$SERVER_PID")" >"$WORK/reimport.tsv"
        echo "  re-import: command ${imp}s, serving the new last name after ${srv}s, peak $(($(hwm_kb "$SERVER_PID") / 1024)) MiB"
      fi
      stop_server "$SERVER_PID"; SERVER_PID=""
    done ;;
  checks)
    echo "=== checks: $NCHECKS HTTP checks at 1 s"
    setsid taskset -c "$CLIENT_CPU" "$BT" http -lean -ports 100 -base 20000 >"$WORK/scale-backends.log" 2>&1 </dev/null &
    HELPER_PID=$!
    start failoverdns "$WORK/$ph-failoverdns" bench.test "$ZONE" || continue
    "$BT" checks -api "http://127.0.0.1:$API" -n "$NCHECKS" -interval 1 -base 20000 -ports 100 | tee "$WORK/checks.txt" | sed 's/^/  /'
    sleep 5
    bt0=$(proc_ticks "$HELPER_PID"); w0=$(date +%s%N)
    "$BT" lag -api "http://127.0.0.1:$API" -window "${LAG_SECS}s" >"$WORK/lag-idle.txt" &
    lagpid=$!
    wait $lagpid
    # the backends' share of CPU 1 (dnsperf's) while they answer the checks
    awk -v a="$bt0" -v b="$(proc_ticks "$HELPER_PID")" -v w0="$w0" -v w1="$(date +%s%N)" \
      'BEGIN {printf "%.0f\n", (b-a)/100/((w1-w0)/1e9)*100}' >"$WORK/backends-cpu.txt"
    sed 's/^/  idle: /' "$WORK/lag-idle.txt"
    "$BT" lag -api "http://127.0.0.1:$API" -window "$((2 + REPEATS * DURATION))s" >"$WORK/lag-load.txt" &
    lagpid=$!
    THREADS_LIST=1 measure checks failoverdns-10k "$HERE/queries.txt"
    wait $lagpid
    sed 's/^/  under load: /' "$WORK/lag-load.txt"
    # The same with the server's core saturated for certain: capped at 70 % of it.
    if cg=$(cap_cpu "$SERVER_PID" 70); then
      "$BT" lag -api "http://127.0.0.1:$API" -window "$((DURATION + 1))s" >"$WORK/lag-capped.txt" &
      lagpid=$!
      run_dnsperf "$WORK/raw/checks-capped.txt" "$SERVER_PID" -s 127.0.0.1 -p "$PORT" -d "$HERE/queries.txt" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -T 1
      wait $lagpid
      uncap_cpu "$SERVER_PID" "$cg"
      read -r _ _ _ qps _ _ <<<"$(parse_dnsperf "$WORK/raw/checks-capped.txt")"
      echo "$qps" >"$WORK/capped-qps.txt"
      sed 's/^/  capped at 70 %: /' "$WORK/lag-capped.txt"
    else
      echo "  (no cpu cgroup to cap the server with: capped run skipped)"
    fi
    # The backends on the server's core instead, niced so that they answer at once: dnsperf has
    # its core to itself, as in section A, and the server's core bears every cost of the checks,
    # both ends of each probe.
    stop_server "$HELPER_PID"
    setsid nice -n -10 taskset -c "$SERVER_CPU" "$BT" http -lean -ports 100 -base 20000 >"$WORK/scale-backends-shared.log" 2>&1 </dev/null &
    HELPER_PID=$!
    sleep 5 # the probes' connections to the old backends fail once and are made again
    "$BT" lag -api "http://127.0.0.1:$API" -window "$((2 + REPEATS * DURATION))s" >"$WORK/lag-shared.txt" &
    lagpid=$!
    THREADS_LIST=1 measure checks failoverdns-10k-shared "$HERE/queries.txt"
    wait $lagpid
    sed 's/^/  backends on the server core: /' "$WORK/lag-shared.txt"
    stop_server "$SERVER_PID"; SERVER_PID=""
    stop_server "$HELPER_PID"; HELPER_PID="" ;;
  esac
done

SETTLE=$SETTLE DURATION=$DURATION LAT_QPS=$LAT_QPS "$HERE/report.sh" "$WORK" "$QUICK" "$COMMIT" >"$WORK/RESULTS.md"
cp "$WORK/RESULTS.md" "$HERE/RESULTS.md"
echo "wrote $HERE/RESULTS.md (raw outputs: $WORK)"
