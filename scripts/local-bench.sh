#!/usr/bin/env bash
# Benchmarks of the local runtime (stepmon serve); see docs/benchmarks-local.md.
#
#   scripts/local-bench.sh load [N...]     N monitors polling a local HTTP target every second
#                                          for DURATION (default 60s); default N = 100 1000 10000
#   scripts/local-bench.sh recovery [N]    N pending monitors (default 100000), kill -9, restart:
#                                          time until they are re-armed and /healthz answers
#   scripts/local-bench.sh ab REV [N]      the working tree against git revision REV, N monitors
#                                          (default 2000), ROUNDS (default 3) alternated pairs of
#                                          DURATION (default 30s): on a shared machine a single
#                                          run varies by 10-15 %, so compare only alternated runs
#
# Environment: DURATION (load window, default 60s), IDLE (monitors for the bytes-per-waiting-
# monitor measurement, default 10000), ADDR (recovery's serve address, default 127.0.0.1:18090).
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
bin=$bindir/stepmon
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

ab() {
	local rev=${1:?usage: $0 ab REV [N]} n=${2:-2000} rounds=${ROUNDS:-3}
	local dir
	dir=$(mktemp -d)
	git worktree add -q --detach "$dir/tree" "$rev"
	(cd "$dir/tree" && go build -o "$dir/base" ./cmd/stepmon)
	git worktree remove --force "$dir/tree"
	echo "== ab: $rev (base) against the working tree, $n monitors, $rounds x ${DURATION:-30s} each"
	for i in $(seq "$rounds"); do
		for side in base work; do
			local b=$bin
			[ "$side" = base ] && b=$dir/base
			printf '%s %s: ' "$i" "$side"
			"$b" bench load --monitors "$n" --duration "${DURATION:-30s}" 2>&1 |
				awk '/window/ {match($0, /[0-9.]+ checks\/s/); c = substr($0, RSTART, RLENGTH)}
					/lateness/ {match($0, /p99 [^ ]+/); p = substr($0, RSTART, RLENGTH)}
					/^  CPU/ {match($0, /[0-9.]+ ms per check/); m = substr($0, RSTART, RLENGTH)
						match($0, /peak RSS [0-9.]+ MiB/); r = substr($0, RSTART, RLENGTH)}
					/allocations/ {match($0, /[0-9.]+ KiB/); a = substr($0, RSTART, RLENGTH) " allocated per check"}
					/grew/ {match($0, /[0-9]+ bytes per check/); d = ", database +" substr($0, RSTART, RLENGTH)}
					END {print c ", " p ", " m ", " r ", " a d}'
		done
	done
	rm -rf "$dir"
}

case "${1:-}" in
load) shift; load "$@" ;;
recovery) shift; recovery "$@" ;;
ab) shift; ab "$@" ;;
*) echo "usage: $0 load [N...] | recovery [N] | ab REV [N]" >&2; exit 2 ;;
esac
