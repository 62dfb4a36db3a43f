#!/usr/bin/env bash
# Benchmarks of the local runtime (stepmon serve); see docs/benchmarks-local.md.
#
#   scripts/local-bench.sh load [N...]     N monitors polling a local HTTP target every second
#                                          for DURATION (default 60s); default N = 100 1000 10000
#   scripts/local-bench.sh recovery [N]    N pending monitors (default 100000), kill -9, restart:
#                                          time until they are re-armed and /healthz answers
#
# Environment: DURATION (load window, default 60s), IDLE (monitors for the bytes-per-waiting-
# monitor measurement, default 10000), ADDR (recovery's serve address, default 127.0.0.1:18090).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)/stepmon
go build -o "$bin" ./cmd/stepmon

load() {
	local ns=("$@")
	[ ${#ns[@]} -eq 0 ] && ns=(100 1000 10000)
	for n in "${ns[@]}"; do
		echo "== load: $n monitors, ${DURATION:-60s}"
		"$bin" bench load --monitors "$n" --duration "${DURATION:-60s}" --idle-monitors "${IDLE:-0}"
	done
}

recovery() {
	local n=${1:-100000} addr=${ADDR:-127.0.0.1:18090}
	local data
	data=$(mktemp -d)
	echo "== recovery: $n pending monitors in $data"
	"$bin" serve --addr "$addr" --data "$data/d" --log-level warn >"$data/serve1.log" 2>&1 &
	local pid=$!
	until curl -fs "http://$addr/healthz" >/dev/null; do sleep 0.05; done
	echo "RSS of the empty serve: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
	"$bin" bench fill --endpoint "http://$addr" --monitors "$n" --concurrency 16
	sleep 2
	echo "RSS of serve with $n waiting monitors: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	local t0 t1
	t0=$(date +%s.%N)
	"$bin" serve --addr "$addr" --data "$data/d" --log-level info >"$data/serve2.log" 2>&1 &
	pid=$!
	until curl -fs "http://$addr/healthz" >/dev/null; do sleep 0.01; done
	t1=$(date +%s.%N)
	echo "restart to /healthz 200: $(echo "$t1 - $t0" | bc) s"
	grep -m1 "pending executions re-armed" "$data/serve2.log" || true
	sleep 2
	echo "RSS of serve 2 s after the restart: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	rm -rf "$data"
}

case "${1:-}" in
load) shift; load "$@" ;;
recovery) shift; recovery "$@" ;;
*) echo "usage: $0 load [N...] | recovery [N]" >&2; exit 2 ;;
esac
