#!/usr/bin/env python3
"""Measures how `stepmon serve` holds up under hostile work; see docs/benchmarks-local.md.

    scripts/hostile-bench.py runaway-jsonata BINARY [RUNAWAYS] [MONITORS]
        MONITORS monitors (default 300) on a 1 s interval, then RUNAWAYS executions (default
        200) of a state machine whose one JSONata expression runs until its time limit: the
        monitors' timer lateness (/healthz) while they run, and how long until all have ended.
    scripts/hostile-bench.py large-bodies BINARY [REQUESTS]
        REQUESTS (default 200) concurrent starts with 9 MiB bodies: their answers, how long
        they took, and the server's peak RSS.

BINARY is a stepmon build (go build -o /tmp/stepmon ./cmd/stepmon). Standard library only;
the server runs on a free 127.0.0.1 port with a temporary data directory, removed after.
"""
import calendar
import collections
import http.client
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time


class Server:
    """A `stepmon serve` on a free loopback port with a temporary data directory."""

    def __init__(self, binary):
        self.tmp = tempfile.TemporaryDirectory(prefix="stepmon-hostile-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [binary, "serve", "--addr", f"127.0.0.1:{self.port}", "--data", self.tmp.name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("serve did not become healthy")

    def request(self, method, path, body=None, headers=None, timeout=120):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body, headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def start(self, body):
        return self.request("POST", "/monitors", json.dumps(body).encode(), {"Content-Type": "application/json"})

    def sfn(self, op, body):
        status, raw = self.request("POST", "/", json.dumps(body).encode(), {
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions." + op})
        if status != 200:
            raise SystemExit(f"{op}: {status} {raw[:200]!r}")
        return json.loads(raw)

    def lateness(self):
        return json.loads(self.request("GET", "/healthz")[1])["timers"]["lastMinute"]

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        self.tmp.cleanup()


def runaway_jsonata(srv, runaways=200, monitors=300):
    for i in range(monitors):
        status, raw = srv.start({"instanceId": f"m{i}", "pollingIntervalSeconds": 1, "timeoutSeconds": 3600,
                                 "target": {"type": "simulated", "completeAfterChecks": 1000}})
        if status != 202:
            raise SystemExit(f"start: {status} {raw[:200]!r}")
    time.sleep(8)
    definition = {"StartAt": "P", "States": {"P": {
        "Type": "Pass", "QueryLanguage": "JSONata", "End": True,
        "Output": "{% $sum([1..100000].($sum([1..100000]))) %}"}}}
    arn = srv.sfn("CreateStateMachine", {"name": "runaway", "definition": json.dumps(definition),
                                         "roleArn": "arn:aws:iam::000000000000:role/r"})["stateMachineArn"]
    began = time.time()
    for i in range(runaways):
        srv.sfn("StartExecution", {"stateMachineArn": arn, "name": f"r{i}"})
    while srv.sfn("ListExecutions", {"stateMachineArn": arn, "statusFilter": "RUNNING", "maxResults": 1000}).get("executions"):
        time.sleep(0.5)
    ended = time.time()
    # /healthz gives the last complete minute: read each minute the
    # runaways ran in once it is complete.
    windows = {}
    first, last = int(began) // 60 * 60, int(ended) // 60 * 60
    while len(windows) < (last - first) // 60 + 1:
        m = srv.lateness()
        start = calendar.timegm(time.strptime(m["from"], "%Y-%m-%dT%H:%M:%SZ"))
        if first <= start <= last:
            windows[start] = m
        time.sleep(1)
    p99 = max(m["p99Ms"] for m in windows.values())
    worst = max(m["maxMs"] for m in windows.values())
    resumed = sum(m["resumed"] for m in windows.values())
    print(f"{runaways} runaway evaluations beside {monitors} monitors on 1 s: all ended {ended - began:.1f} s after "
          f"the first start; the monitors' lateness in the {len(windows)} minute(s) they ran in "
          f"({resumed} resumes): worst p99 {p99:.1f} ms, max {worst:.1f} ms")


def large_bodies(srv, requests=200):
    body = b'{"instanceId":"big","target":{"type":"simulated"},"pad":"' + b"x" * (9 << 20) + b'"}'
    answers = collections.Counter()
    lock = threading.Lock()

    def send():
        try:
            status, _ = srv.request("POST", "/monitors", body, {"Content-Type": "application/json"})
        except OSError as e:
            status = type(e).__name__
        with lock:
            answers[status] += 1

    threads = [threading.Thread(target=send) for _ in range(requests)]
    began = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{requests} concurrent 9 MiB starts: answers {dict(answers)} in {time.time() - began:.1f} s; "
          f"peak RSS {srv.peak_rss_kib() / 1024:.0f} MiB")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("runaway-jsonata", "large-bodies"):
        raise SystemExit(__doc__)
    srv = Server(sys.argv[2])
    try:
        args = [int(a) for a in sys.argv[3:]]
        (runaway_jsonata if sys.argv[1] == "runaway-jsonata" else large_bodies)(srv, *args)
    finally:
        srv.close()


if __name__ == "__main__":
    main()
