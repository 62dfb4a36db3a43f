// The HTTP API and the Step Functions API, on the origin that serves the
// page. Paths are relative to the page's mount point: the page at /ui/
// calls /monitors and POST /.

const base = new URL("../", document.baseURI);

/** An API error with the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(status, message, type, body) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.type = type || "";
    this.body = body; // the answer's JSON, or null
  }
}

/**
 * The API gave no answer: the connection failed, or no answer came in
 * TIMEOUT_MS. Its message says which in the page's words, not the
 * browser's ("Failed to fetch").
 */
export class UnreachableError extends Error {}

/** How long a request may take before the page gives up on it. */
export const TIMEOUT_MS = 10000;

async function call(path, init = {}) {
  let res, text;
  try {
    // A server that stops answering without closing the connection would
    // otherwise leave the page waiting, and showing old data, for ever.
    res = await fetch(new URL(path, base), { cache: "no-store", signal: AbortSignal.timeout(TIMEOUT_MS), ...init });
    text = await res.text();
  } catch (err) {
    if (err && err.name === "TimeoutError") throw new UnreachableError(`no answer in ${TIMEOUT_MS / 1000} s`);
    // fetch's own failures are TypeErrors: the connection failed.
    if (err instanceof TypeError) throw new UnreachableError("no answer from the server");
    throw err;
  }
  let body = null;
  if (text) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (!res.ok) {
    let msg = body && (body.message || body.Message || body.error || body.errorMessage);
    if (msg && typeof msg !== "string") msg = JSON.stringify(msg);
    if (!msg) {
      // Another server's page (a proxy's or a load balancer's 502) is no
      // message to show: its status is. A short line of text may be one.
      const t = text.trim();
      msg = t && !t.startsWith("<") && t.length <= MAX_MESSAGE && !t.includes("\n")
        ? t : `HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}`;
    }
    if (msg.length > MAX_MESSAGE) msg = msg.slice(0, MAX_MESSAGE) + "…";
    throw new ApiError(res.status, msg, body && body.__type, body);
  }
  return body;
}

/** The most characters of an error message the page shows. */
const MAX_MESSAGE = 300;

const enc = encodeURIComponent;

/** One page of monitors, newest first. */
export function listMonitors({ statuses = [], token = "", top = 100 } = {}) {
  const q = new URLSearchParams({ top: String(top) });
  if (statuses.length) q.set("runtimeStatus", statuses.join(","));
  if (token) q.set("continuationToken", token);
  return call(`monitors?${q}`);
}

/** The local runtime's health, with its timers (stepmon serve only). */
export const health = () => call("healthz");

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

function historyPage(executionArn, maxResults, reverseOrder, nextToken) {
  const req = { executionArn, maxResults, reverseOrder };
  if (nextToken) req.nextToken = nextToken;
  return call("", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": "AWSStepFunctions.GetExecutionHistory",
    },
    body: JSON.stringify(req),
  });
}

/** The execution's history, oldest first, at most maxPages pages of 1,000. */
export async function executionHistory(executionArn, maxPages = 10) {
  const events = [];
  let nextToken;
  let truncated = false;
  for (let page = 0; ; page++) {
    if (page === maxPages) { truncated = true; break; }
    const out = await historyPage(executionArn, 1000, false, nextToken);
    events.push(...((out && out.events) || []));
    nextToken = out && out.nextToken;
    if (!nextToken) break;
  }
  return { events, truncated };
}

/**
 * The events after afterId, oldest first: reads the history newest first
 * until it reaches afterId. A refresh mostly brings the events of a check
 * or two, so it asks for a few first; only when afterId is not among them
 * does it read again, in pages of 1,000. complete is false when it gave up
 * before reaching afterId.
 */
export async function executionHistorySince(executionArn, afterId, maxPages = 5) {
  for (const [size, pages] of [[25, 1], [1000, maxPages]]) {
    const newer = [];
    let nextToken;
    for (let page = 0; page < pages; page++) {
      const out = await historyPage(executionArn, size, true, nextToken);
      for (const e of (out && out.events) || []) {
        if (e.id <= afterId) return { events: newer.reverse(), complete: true };
        newer.push(e);
      }
      nextToken = out && out.nextToken;
      if (!nextToken) return { events: newer.reverse(), complete: true };
    }
  }
  return { events: [], complete: false };
}
