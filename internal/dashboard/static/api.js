// The HTTP API and the Step Functions API, on the origin that serves the
// page. Paths are relative to the page's mount point: the page at /ui/
// calls /monitors and POST /.

const base = new URL("../", document.baseURI);

/** An API error with the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(status, message, type) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.type = type || "";
  }
}

async function call(path, init = {}) {
  const res = await fetch(new URL(path, base), { cache: "no-store", ...init });
  const text = await res.text();
  let body = null;
  if (text) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (!res.ok) {
    const msg = (body && (body.message || body.Message || body.error || body.errorMessage)) || text.trim() || res.statusText;
    throw new ApiError(res.status, typeof msg === "string" ? msg : JSON.stringify(msg), body && body.__type);
  }
  return body;
}

const enc = encodeURIComponent;

/** One page of monitors, newest first. */
export function listMonitors({ statuses = [], token = "", top = 100 } = {}) {
  const q = new URLSearchParams({ top: String(top) });
  if (statuses.length) q.set("runtimeStatus", statuses.join(","));
  if (token) q.set("continuationToken", token);
  return call(`monitors?${q}`);
}

/** A monitor's status record. */
export const getMonitor = (id) => call(`monitors/${enc(id)}`);

/** Stops a running monitor. */
export const terminateMonitor = (id, reason) =>
  call(`monitors/${enc(id)}/terminate?reason=${enc(reason || "")}`, { method: "POST" });

/** Deletes a finished monitor's status record. */
export const purgeMonitor = (id) => call(`monitors/${enc(id)}`, { method: "DELETE" });

/** Starts a monitor; body is a start request (native or seed shape). */
export const startMonitor = (body) =>
  call("monitors", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** The execution's history, oldest first, at most maxPages pages of 1,000. */
export async function executionHistory(executionArn, maxPages = 10) {
  const events = [];
  let nextToken;
  let truncated = false;
  for (let page = 0; ; page++) {
    if (page === maxPages) { truncated = true; break; }
    const req = { executionArn, maxResults: 1000, reverseOrder: false };
    if (nextToken) req.nextToken = nextToken;
    const out = await call("", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AWSStepFunctions.GetExecutionHistory",
      },
      body: JSON.stringify(req),
    });
    events.push(...((out && out.events) || []));
    nextToken = out && out.nextToken;
    if (!nextToken) break;
  }
  return { events, truncated };
}
