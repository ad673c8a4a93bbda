# lib.sh -- sourced by run.sh: start/stop helpers for every DNS server we measure, CPU
# accounting and dnsperf parsing. Every server runs in the foreground, in its own session
# (setsid), pinned with taskset to $SERVER_CPU, on 127.0.0.1 only; every start_* prints the PID.
# Settings follow what a careful operator would use for a one-core benchmark: one UDP worker where
# the server lets us choose, no query logging, no recursion, no outbound traffic.

SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

# wait_dns PORT ZONE [SECONDS] -- wait until the server answers the zone's SOA
wait_dns() {
  local port=$1 zone=$2 t=${3:-30} i
  for ((i = 0; i < t * 10; i++)); do
    dig @127.0.0.1 -p "$port" "$zone" SOA +time=1 +tries=1 +short 2>/dev/null | grep -q hostmaster && return 0
    sleep 0.1
  done
  return 1
}

# stop_server PID -- SIGTERM the PID we started; SIGKILL its process group after 10 s.
stop_server() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  kill -TERM -- "-$pid" 2>/dev/null # helpers left in the group (NSD's xfrd)
  return 0
}

_launch() { # DIR CMD... -- start CMD in its own session, pinned; logs to DIR/server.log
  local dir=$1; shift
  setsid taskset -c "$SERVER_CPU" "$@" >"$dir/server.log" 2>&1 </dev/null &
  echo $!
}

start_nsd() { # PORT ZONE ZONEFILE DIR
  local port=$1 zone=$2 zf=$3 d=$4
  cat >"$d/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$port
    port: $port
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$d"
    pidfile: "$d/nsd.pid"
    xfrdfile: "$d/xfrd.state"
    xfrdir: "$d"
    zonelistfile: "$d/zone.list"
    logfile: "$d/nsd.log"
    verbosity: 0
    hide-version: yes
    # Debian builds NSD with response rate limiting on: off for a loopback benchmark
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $zone
    zonefile: "$zf"
EOF
  _launch "$d" nsd -d -c "$d/nsd.conf"
}

start_knot() { # PORT ZONE ZONEFILE DIR
  local port=$1 zone=$2 zf=$3 d=$4
  mkdir -p "$d/db"
  cat >"$d/knot.conf" <<EOF
server:
    rundir: "$d"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$d/db"
log:
  - target: stderr
    any: warning
zone:
  - domain: $zone
    file: "$zf"
    zonefile-sync: -1
    journal-content: none
EOF
  _launch "$d" knotd -c "$d/knot.conf"
}

# start_gdnsd PORT ZONE ZONEFILE DIR [EXTRA-CONFIG]
start_gdnsd() {
  local port=$1 zone=$2 zf=$3 d=$4 extra=${5:-}
  mkdir -p "$d/zones" "$d/run" "$d/state"
  cp "$zf" "$d/zones/$zone"
  cat >"$d/config" <<EOF
options => {
  listen => [ 127.0.0.1:$port ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => $d/run
  state_dir => $d/state
}
$extra
EOF
  _launch "$d" gdnsd -c "$d" start
}

# start_pdns PORT ZONE ZONEFILE DIR [EXTRA pdns.conf LINES]
start_pdns() {
  local port=$1 zone=$2 zf=$3 d=$4 extra=${5:-}
  echo "zone \"$zone\" { type master; file \"$zf\"; };" >"$d/named.conf"
  cat >"$d/pdns.conf" <<EOF
launch=bind
bind-config=$d/named.conf
local-address=127.0.0.1:$port
daemon=no
guardian=no
disable-syslog=yes
socket-dir=$d
security-poll-suffix=
receiver-threads=1
distributor-threads=1
log-dns-queries=no
query-logging=no
loglevel=4
webserver=no
api=no
$extra
EOF
  _launch "$d" pdns_server --config-dir="$d"
}

# start_failoverdns PORT APIPORT DIR -- a fresh data dir; the zones come through the API.
# FDNS_ENV may hold extra environment (GOGC=..., GOMEMLIMIT=...).
start_failoverdns() {
  local port=$1 api=$2 d=$3
  rm -rf "$d/data"
  # shellcheck disable=SC2086
  _launch "$d" env ${FDNS_ENV:-} "$FDNS_BIN" serve --data-dir "$d/data" --dns-listen "127.0.0.1:$port" \
    --api-listen "127.0.0.1:$api" --log-level warn
}

# wait_api APIPORT -- wait until failoverdns's API answers
wait_api() {
  local i
  for ((i = 0; i < 300; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && return 0
    sleep 0.1
  done
  return 1
}

# Health-checked names for gdnsd and PowerDNS (failoverdns gets them through its API, see
# benchtool setup): dyn = both 127.0.0.2 and 127.0.0.3 while healthy, fo = 127.0.0.2, else .3.
# GDNSD_MON is the service type's monitor settings.
gdnsd_dyn_extra() {
  cat <<EOF
service_types => {
  web => {
    plugin => http_status
    port => 8080
    url_path => /
    ok_codes => [ 200 ]
    ${GDNSD_MON:-interval => 2}
  }
}
plugins => {
  multifo => { dyn => { service_types => web, addrs_v4 => [ 127.0.0.2, 127.0.0.3 ] } }
  simplefo => { fo => { service_types => web, primary => 127.0.0.2, secondary => 127.0.0.3 } }
}
EOF
}
gdnsd_dyn_zone() { cat "$1"; echo 'dyn 5 IN DYNA multifo!dyn'; echo 'fo 5 IN DYNA simplefo!fo'; }
pdns_dyn_zone() {
  cat "$1"
  echo "dyn 5 IN LUA A \"ifurlup('http://dyn.bench.test:8080/', {{'127.0.0.2','127.0.0.3'}}, {selector='all'})\""
  echo "fo 5 IN LUA A \"ifurlup('http://fo.bench.test:8080/', {{'127.0.0.2'},{'127.0.0.3'}})\""
}

# ---- CPU accounting ----
# proc_ticks PGID -- utime+stime (1/100 s) of every process in process group PGID
proc_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '
    NF { r=$0; sub(/^.*\) /,"",r); split(r,a," "); if (a[3]==g) t+=a[12]+a[13] } END {print t+0}'
}
# foreign_ticks -- busy ticks of all CPUs (to spot other people's jobs)
busy_ticks() { awk '$1=="cpu" {print $2+$3+$4+$7+$8; exit}' /proc/stat; }

# run_dnsperf RAW PGID ARGS... -- one dnsperf run pinned to CLIENT_CPU; sets SRV_TICKS (server
# CPU during the run) and OTHER_PCT (% of one CPU used by neither the server nor dnsperf).
run_dnsperf() {
  local raw=$1 pg=$2; shift 2
  local b0 m0 w0 b1 m1 w1 tm
  b0=$(busy_ticks); m0=$(proc_ticks "$pg"); w0=$(date +%s%N)
  tm=$( { TIMEFORMAT='%U %S'; time taskset -c "$CLIENT_CPU" dnsperf "$@" >"$raw" 2>&1; } 2>&1 )
  w1=$(date +%s%N); b1=$(busy_ticks); m1=$(proc_ticks "$pg")
  SRV_TICKS=$((m1 - m0))
  OTHER_PCT=$(echo "$b0 $b1 $m0 $m1 $w0 $w1 $tm" | awk '{
      wall=($6-$5)/1e9; if (wall<=0) wall=1
      o=($2-$1)/100 - ($4-$3)/100 - ($7+$8); if (o<0) o=0; printf "%.0f", 100*o/wall }')
}

# parse_dnsperf FILE -> "sent completed lost qps avg_ms runtime_s"
parse_dnsperf() {
  awk '/Queries sent:/{s=$3} /Queries completed:/{c=$3} /Queries lost:/{l=$3}
       /Queries per second:/{q=$4} /Average Latency/{a=$4*1000} /Run time \(s\):/{r=$4}
       END {printf "%s %s %s %.0f %.3f %s\n", s, c, l, q, a, r}' "$1"
}

# lat_pcts FILE -> "p50 p99 p99.9" in ms from dnsperf -v output
lat_pcts() {
  awk '/^> /{print $NF*1000}' "$1" | sort -n | awk '{v[NR]=$1} END {
    if (NR==0) {print "- - -"; exit}
    a=int(NR*.5); b=int(NR*.99); c=int(NR*.999); if(a<1)a=1; if(b<1)b=1; if(c<1)c=1
    printf "%.3f %.3f %.3f", v[a], v[b], v[c] }'
}

# answers PORT QUERYFILE -- rcode and sorted answer of every distinct query (TTL dropped)
answers() {
  local port=$1 qf=$2 name type
  sort -u "$qf" | while read -r name type; do
    [ -n "$name" ] || continue
    local o st
    o=$(dig @127.0.0.1 -p "$port" "$name" "$type" +norec +noedns +time=2 +tries=1 +noall +comments +answer 2>&1)
    st=$(echo "$o" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' | head -1)
    echo "$name $type ${st:-NOANSWER} | $(echo "$o" | grep -v '^;' | grep -v '^$' | awk '{$2=""; print}' | sort | tr '\n' ';')"
  done
}

# cap_cpu PID PERCENT -- move process PID into a new cpu cgroup allowed PERCENT % of one CPU
# (quota per 10 ms period; cgroup v2 or v1); prints the cgroup's directory, fails without one.
cap_cpu() {
  local pid=$1 pct=$2 g
  if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    g=/sys/fs/cgroup/fdns-bench-cap
    mkdir -p "$g" && echo "$((pct * 100)) 10000" >"$g/cpu.max" || return 1
  elif [ -d /sys/fs/cgroup/cpu ]; then
    g=/sys/fs/cgroup/cpu/fdns-bench-cap
    mkdir -p "$g" && echo 10000 >"$g/cpu.cfs_period_us" && echo "$((pct * 100))" >"$g/cpu.cfs_quota_us" || return 1
  else
    return 1
  fi
  echo "$pid" >"$g/cgroup.procs" || return 1
  echo "$g"
}

# uncap_cpu PID DIR -- move PID back to the root cpu cgroup and remove DIR
uncap_cpu() {
  echo "$1" >"$(dirname "$2")/cgroup.procs" 2>/dev/null
  rmdir "$2" 2>/dev/null || true
}
