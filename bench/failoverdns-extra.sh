#!/usr/bin/env bash
# failoverdns-extra.sh -- runs failoverdns as the "extra" server of a dnsperf harness such as
# ../shared/bench/anchors-qps.sh, which exports BENCH_ZONE (a master file for bench.test),
# BENCH_PORT and BENCH_DIR and kills this script's process group when it is done:
#
#   go build -o /tmp/failoverdns ./cmd/failoverdns
#   EXTRA_CMD="FAILOVERDNS_BIN=/tmp/failoverdns $PWD/bench/failoverdns-extra.sh" \
#     SERVERS="nsd knot extra" ../shared/bench/anchors-qps.sh
#
# It starts `failoverdns serve` on 127.0.0.1:$BENCH_PORT with a fresh data dir, imports the zone
# through the API, and then waits on the server, so the harness's signal reaches it.
set -euo pipefail
bin=${FAILOVERDNS_BIN:-failoverdns}
dir=${BENCH_DIR:?}/failoverdns
rm -rf "$dir" && mkdir -p "$dir"
"$bin" serve --data-dir "$dir/data" --dns-listen "127.0.0.1:${BENCH_PORT:?}" --api-listen 127.0.0.1:0 2>"$dir/server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' TERM INT
api=
for _ in $(seq 100); do
	api=$(grep -o 'api=http://[0-9.:]*' "$dir/server.log" | head -1 | cut -d= -f2 || true)
	[ -n "$api" ] && break
	sleep 0.1
done
[ -n "$api" ] || { echo "failoverdns did not start; log:" >&2; cat "$dir/server.log" >&2; exit 1; }
"$bin" --api "$api" zone import bench.test "${BENCH_ZONE:?}" >/dev/null
wait $pid
