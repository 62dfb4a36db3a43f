#!/usr/bin/env bash
# Runs the same Pass/Choice loop (internal/engine/testdata/loop.asl.json)
# on moto_server's Step Functions interpreter and on stepmon's engine, and
# prints both rates and their ratio.
#
#   scripts/bench-moto.sh [ITERATIONS]     (default 100: 201 transitions on moto)
#
# Needs moto_server (moto >= 5 with the stepfunctions parser), the AWS CLI,
# curl and go. moto runs executions with its ASL interpreter only when
# its config sets stepfunctions.execute_state_machine, which this script
# does through POST /moto-api/config.
set -euo pipefail

cd "$(dirname "$0")/.."
N="${1:-100}"
DEF=internal/engine/testdata/loop.asl.json
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
ENDPOINT="http://127.0.0.1:${PORT}"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER=""

LOG="$(mktemp)"
moto_server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true; rm -f "$LOG"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "$ENDPOINT/moto-api/" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS -X POST "$ENDPOINT/moto-api/config" \
  -H 'Content-Type: application/json' \
  -d '{"stepfunctions": {"execute_state_machine": true}}' >/dev/null

aws() { command aws --endpoint-url "$ENDPOINT" "$@"; }

SM_ARN="$(aws stepfunctions create-state-machine --name loop \
  --definition "file://$DEF" --role-arn arn:aws:iam::123456789012:role/bench \
  --query stateMachineArn --output text)"

START="$(date +%s.%N)"
EXEC_ARN="$(aws stepfunctions start-execution --state-machine-arn "$SM_ARN" \
  --input "{\"i\": 0, \"n\": $N}" --query executionArn --output text)"
STATUS=RUNNING
while [ "$STATUS" = RUNNING ]; do
  sleep 0.05
  STATUS="$(aws stepfunctions describe-execution --execution-arn "$EXEC_ARN" --query status --output text)"
done
END="$(date +%s.%N)"
if [ "$STATUS" != SUCCEEDED ]; then
  echo "moto execution ended $STATUS" >&2
  aws stepfunctions describe-execution --execution-arn "$EXEC_ARN" >&2
  exit 1
fi
EVENTS="$(aws stepfunctions get-execution-history --execution-arn "$EXEC_ARN" \
  --query 'length(events[?ends_with(type, `StateEntered`)])' --output text)"
MOTO_RATE="$(python3 -c "print(f'{$EVENTS / ($END - $START):.1f}')")"
echo "moto: $EVENTS state transitions in $(python3 -c "print(f'{$END - $START:.2f}')") s = $MOTO_RATE transitions/s"

STEPMON_RATE="$(go test ./internal/engine/ -run '^$' -bench '^BenchmarkPassChoiceLoop$' -cpu 1 -benchtime 2000000x \
  | awk '/BenchmarkPassChoiceLoop/ { for (i = 1; i <= NF; i++) if ($(i+1) == "transitions/s") print $i }')"
echo "stepmon: $STEPMON_RATE transitions/s (in memory, one core)"
python3 -c "print(f'ratio: {float($STEPMON_RATE) / float($MOTO_RATE):,.0f}x')"
