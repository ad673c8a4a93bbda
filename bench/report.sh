#!/usr/bin/env bash
# report.sh WORK QUICK COMMIT -- the Markdown report of one run.sh run, from its scratch dir.
set -u
W=$1 QUICK=$2 COMMIT=$3
HERE=$(cd "$(dirname "$0")" && pwd)

# best PHASE SERVER -> "qps lost cpu_min cpu_max busy allqps" (best qps over its runs)
best() {
  awk -F'\t' -v p="$1" -v s="$2" '$1==p && $2==s {
      n++; all=all (all==""?"":", ") $5
      if ($5+0 > b) {b=$5+0; lost=$6; busy=$8}
      if (min=="" || $7+0 < min) min=$7+0; if ($7+0 > max) max=$7+0 }
    END { if (n) printf "%s %s %s %s %s %s\n", b, lost, min, max, busy, all; else print "" }' "$W/qps.tsv"
}
lat() { awk -F'\t' -v p="$1" -v s="$2" '$1==p && $2==s {printf "%s / %s / %s", $3, $4, $5}' "$W/latency.tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="" || b=="" || b+0==0) print "-"; else printf "%.2f", a/b }'; }

table() { # PHASE REF-PHASE REF-SERVER SERVERS...
  local ph=$1 rp=$2 rs=$3; shift 3
  read -r rq _ rc _ <<<"$(best "$rp" "$rs")"
  echo "| server | best q/s (all runs) | q/s vs $rs | lost | server CPU µs/query (min–max) | CPU vs $rs | server busy % | p50 / p99 / p99.9 at $LAT_QPS q/s, ms |"
  echo "|---|---|---|---|---|---|---|---|"
  local s
  for s in "$@"; do
    read -r q l cmin cmax busy all <<<"$(best "$ph" "$s")"
    [ -n "${q:-}" ] || continue
    echo "| $s | $q ($all) | $(ratio "$q" "$rq") | $l | $cmin – $cmax | $(ratio "$cmin" "$rc") | $busy | $(lat "$ph" "$s") |"
  done
}
LAT_QPS=${LAT_QPS:-20000}

v() { "$@" 2>&1 | head -1 | tr -d '\n'; }
echo "# Benchmark results"
echo
echo "Written by \`bench/run.sh$([ "$QUICK" = 1 ] && echo ' --quick')\` on $(date -u +%Y-%m-%dT%H:%MZ), failoverdns commit $COMMIT."
echo "Every figure below comes from this one run: the ratios compare servers measured minutes apart"
echo "on the same machine, never against other days."
echo
echo "**Machine:** $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")."
echo "It is shared with other sessions: a run's \`other %\` (CPU used by neither the server nor dnsperf)"
echo "is in qps.tsv; treat differences under ~15 % as noise."
echo
echo "**Versions:** NSD $(nsd -v 2>&1 | head -1 | awk '{print $NF}'), Knot $(knotd -V 2>&1 | awk '{print $NF}'), gdnsd $(gdnsd -V 2>&1 | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -1), PowerDNS $(dpkg-query -W -f '${Version}' pdns-server 2>/dev/null), dnsperf $(dnsperf -h 2>&1 | grep -o 'version [0-9.]*' | head -1 | awk '{print $2}'), $(go version | awk '{print $3}')."
echo
echo "**Method:** each server alone on 127.0.0.1, pinned with \`taskset -c 0\` (one UDP worker/thread"
echo "each: NSD \`server-count: 1\` with \`rrl-ratelimit: 0\`, Knot \`udp-workers: 1\`, gdnsd \`udp_threads => 1\`,"
echo "PowerDNS bind backend with one receiver and distributor thread; failoverdns with GOMAXPROCS from the"
echo "affinity mask, so one socket). Load: \`taskset -c 1 dnsperf -s 127.0.0.1 -p PORT -d FILE -l ${DURATION:-D} -c 8 -q 500 -T T\`"
echo "after a 2 s warm-up; latency with \`dnsperf -Q $LAT_QPS -v\`. Server CPU/query = utime+stime of the"
echo "server's process group over the run divided by the answers. Exact commands: see run.sh and lib.sh."
echo

echo "## A. Static zone (bench.test.zone, queries.txt: 80 % A/AAAA, 10 % NXDOMAIN, 10 % other)"
echo
table qps qps nsd nsd knot gdnsd pdns failoverdns
echo
for f in "$W"/answers/{knot,gdnsd,pdns,failoverdns}.txt; do
  [ -f "$f" ] && [ -f "$W/answers/nsd.txt" ] || continue
  s=$(basename "$f" .txt)
  if diff -q "$W/answers/nsd.txt" "$f" >/dev/null; then echo "- answers of $s: the same as NSD's for every distinct query"
  else echo "- answers of $s differ from NSD's in $(diff "$W/answers/nsd.txt" "$f" | grep -c '^>') queries"; fi
done
echo

if grep -q '^hc' "$W/qps.tsv"; then
  echo "## B. Health-checked answers (HTTP checks of 127.0.0.2:8080 and 127.0.0.3:8080)"
  echo
  echo "queries-hc.txt is \`fo\` (failover primary/secondary: gdnsd simplefo, PowerDNS ifurlup with two"
  echo "sets, failoverdns Failover PRIMARY/SECONDARY) and \`dyn\` (both addresses while healthy: gdnsd"
  echo "multifo, PowerDNS ifurlup selector all, failoverdns MultiValueAnswer) in equal parts; queries-wm.txt"
  echo "(failoverdns-wm) is \`w\` (weighted 1:1) and \`mv\` (multivalue), which no peer serves the same way."
  echo "Ratios against gdnsd on the same names; against NSD's static figure in section A: see the last lines."
  echo
  table hc hc gdnsd-dyn gdnsd-dyn pdns-dyn failoverdns failoverdns-wm
  echo
  read -r nq _ nc _ <<<"$(best qps nsd)"
  for s in failoverdns failoverdns-wm; do
    read -r q _ c _ <<<"$(best hc "$s")"
    [ -n "${q:-}" ] && echo "- $s health-checked vs NSD static: q/s $(ratio "$q" "$nq"), CPU/query $(ratio "$c" "$nc")"
  done
  echo
fi

if [ -s "$W/failover.tsv" ]; then
  echo "## C. Failover latency: backend killed -> first changed answer (seconds, min / median / max)"
  echo
  echo "The primary backend (127.0.0.2:8080) is closed (connections refused at once) at a different"
  echo "phase of the check schedule each trial; \`benchtool failover\` polls \`fo\` and \`dyn\` every 10 ms."
  echo "gdnsd at its minimums (interval 2 s, the smallest it accepts; timeout 1; up/ok/down_thresh 1),"
  echo "PowerDNS LUA \`lua-health-checks-interval=1\` (its minimum, no threshold), failoverdns HTTP checks"
  echo "with FailureThreshold = RecoveryThreshold = 1 (the same anti-flap setting as the peers)."
  echo "Goal: at most interval x threshold + 50 ms."
  echo
  echo "| config | failover fo | failover dyn | failback fo | failback dyn | trials |"
  echo "|---|---|---|---|---|---|"
  for c in $(cut -f1 "$W/failover.tsv" | awk '!s[$0]++'); do
    row="| $c"
    for col in 3 4 5 6; do
      row="$row | $(awk -F'\t' -v c="$c" -v k="$col" '$1==c {print $k}' "$W/failover.tsv" | sort -g | awk '
        {v[NR]=$1} END {if (NR==0) {print "-"; exit} printf "%s / %s / %s", v[1], v[int((NR+1)/2)], v[NR]}')"
    done
    echo "$row | $(awk -F'\t' -v c="$c" '$1==c' "$W/failover.tsv" | wc -l) |"
  done
  echo
fi

if [ -s "$W/data.tsv" ]; then
  n=$(grep -c . "$W/big.zone" 2>/dev/null)
  echo "## D. Scale of data: one zone of $((n - 5)) A record sets (benchtool bigzone)"
  echo
  echo "| server | load (failoverdns: \`failoverdns zone import\`), s | serving the last name after, s | resident memory when serving starts, MiB | resident memory ${SETTLE:-10} s later, MiB | peak resident memory (VmHWM) through load and serving, MiB |"
  echo "|---|---|---|---|---|---|"
  awk -F'\t' '{printf "| %s | %s | %s | %.0f | %.0f | %.0f |\n", $1, $2, $3, $4/1024, $5/1024, $6/1024}' "$W/data.tsv"
  echo
  echo "dnsperf on 100,000 random names of the zone:"
  echo
  table data data nsd nsd failoverdns
  echo
  if [ -s "$W/batch.txt" ]; then
    echo "Batches of 1000 CREATEs through the API (\`benchtool batch\`), ms min / median / max of 5:"
    echo
    awk -F'\t' '{print "- " $1 ": " $2}' "$W/batch.txt"
  fi
  if [ -s "$W/reimport.tsv" ]; then
    echo
    awk -F'\t' '{printf "The zone imported again with every address changed (`benchtool bigzone -net 11`), after the batches: import command %s s, the new address of the last name served after %s s, peak resident memory (VmHWM, since the server started) %.0f MiB, %.0f MiB %s s later.\n", $2, $3, $4/1024, $5/1024, s}' s="${SETTLE:-10}" "$W/reimport.tsv"
  fi
  echo
fi

if [ -s "$W/lag-load.txt" ]; then
  echo "## E. Scale of checks: $(grep -o 'created [0-9]*' "$W/checks.txt" | awk '{print $2}') HTTP checks at a 1 s interval"
  echo
  echo "Backends: \`benchtool http -lean\` (a keep-alive responder that does not parse requests, one epoll loop) on"
  echo "100 ports of 127.0.0.1, on CPU 1 with dnsperf, which they take $(cat "$W/backends-cpu.txt" 2>/dev/null || echo '?') % of while they answer the checks"
  echo "(the client's load on the server drops with it). $(cat "$W/checks.txt")."
  echo "Schedule lag from failoverdns_health_schedule_lag_seconds (bucket upper bounds):"
  echo
  echo "| window | probes/s | lag p50 | lag p99 |"
  echo "|---|---|---|---|"
  for f in idle load capped shared; do
    [ -s "$W/lag-$f.txt" ] || continue
    awk -F'\t' -v f="$f" -v q="$(cat "$W/capped-qps.txt" 2>/dev/null)" '{v[$1]=$2} END {
      w = (f=="idle" ? "no DNS load" : f=="load" ? "during dnsperf" : f=="capped" ? "during dnsperf, the server capped at 70 % of its core (cgroup; " q " q/s)" : "during dnsperf, the backends on the server'"'"'s core")
      printf "| %s | %s | %s | %s |\n", w, v["probes_per_s"], v["lag_p50"], v["lag_p99"]}' "$W/lag-$f.txt"
  done
  echo
  read -r q0 _ c0 _ <<<"$(best qps failoverdns)"
  read -r q1 _ c1 _ <<<"$(best checks failoverdns-10k)"
  read -r nq _ nc _ <<<"$(best qps nsd)"
  echo "DNS while the checks run (queries.txt, -T 1): $q1 q/s, $c1 µs CPU/query: $(ratio "$q1" "$q0") of"
  echo "failoverdns's static q/s in section A, $(ratio "$q1" "$nq") of NSD's. $(lat checks failoverdns-10k) ms at $LAT_QPS q/s."
  echo "(The server's one core also runs the checks: CPU/query includes them, and the kernel's delivery of"
  echo "each request to its backend over loopback, which runs inside our write.)"
  if grep -q "failoverdns-10k-shared" "$W/qps.tsv"; then
    read -r q2 _ c2 _ <<<"$(best checks failoverdns-10k-shared)"
    echo
    echo "The same with the backends on the server's core (\`nice -n -10\`, so that they answer at once):"
    echo "dnsperf has its core to itself, as in section A, and the server's core bears both ends of every"
    echo "probe. $q2 q/s, $c2 µs server CPU/query (the backends' CPU not included): $(ratio "$q2" "$q0") of"
    echo "failoverdns's static q/s, $(ratio "$q2" "$nq") of NSD's. $(lat checks failoverdns-10k-shared) ms at $LAT_QPS q/s."
  fi
  echo
fi

echo "## Raw data"
echo
echo "qps.tsv (phase, server, -T, run, q/s, lost, server CPU µs/query, server busy %, other %):"
echo
echo '```'
cat "$W/qps.tsv"
echo '```'
