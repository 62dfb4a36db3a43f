// Redaction of what the page shows from an execution history. The state
// machine's input is the monitor state, which holds the monitor's spec
// whole (under "spec", and again inside the check's task parameters and
// output). The HTTP API shows the spec redacted (monitor.Spec.Redacted);
// the page applies the same rules to the history before it draws anything
// from it: header values read "(redacted)", the target URL keeps scheme,
// host and path, the webhook URL keeps scheme and host.

/** What the page shows in place of a secret, as the API does. */
export const REDACTED = "(redacted)";

// scheme://authority path ?query #fragment, the parts Go's url.Parse finds.
const urlParts = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s;

/**
 * A URL as it may be shown, as monitor.RedactURL gives it: user
 * information, query and fragment replaced by REDACTED; with keepPath
 * false (a webhook URL) everything after the host. A URL that does not
 * parse is replaced whole.
 */
export function redactURL(raw, keepPath = true) {
  const m = typeof raw === "string" ? urlParts.exec(raw) : null;
  if (!m) return REDACTED;
  const [, scheme, authority, path, query = "", fragment = ""] = m;
  const at = authority.lastIndexOf("@");
  const host = authority.slice(at + 1);
  if (!host) return REDACTED;
  try {
    new URL(raw);
  } catch {
    return REDACTED;
  }
  let out = `${scheme.toLowerCase()}://${at >= 0 ? REDACTED + "@" : ""}${host}`;
  const hasFragment = fragment.length > 1;
  if (!keepPath) {
    if (query || hasFragment || (path !== "" && path !== "/")) return `${out}/${REDACTED}`;
    return out + path;
  }
  out += path;
  if (query) out += `?${REDACTED}`;
  if (hasFragment) out += `#${REDACTED}`;
  return out;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Text that may hold a secret: JSON text naming a header, a URL or a
// webhook, also as JSON text inside JSON text (with escaped quotes).
const suspect = /"(headers|url|webhookUrl)\\*"/;

/**
 * Returns v with every monitor spec in it redacted: any object with a
 * "target" object (its header values and URL) or an "alert" object (its
 * webhook URL). JSON text inside v is parsed and redacted too; text that
 * names such a field but is not JSON is replaced whole. v is not changed.
 */
export function redactTree(v, depth = 0) {
  if (depth > 32) return typeof v === "string" || (v !== null && typeof v === "object") ? REDACTED : v;
  if (typeof v === "string") return redactText(v, depth);
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => redactTree(x, depth + 1));
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = redactTree(x, depth + 1);
  if (isObject(out.target)) {
    const t = { ...out.target };
    if (isObject(t.headers)) t.headers = Object.fromEntries(Object.keys(t.headers).map((name) => [name, REDACTED]));
    if (typeof t.url === "string" && t.url) t.url = redactURL(t.url, true);
    out.target = t;
  }
  if (isObject(out.alert) && typeof out.alert.webhookUrl === "string" && out.alert.webhookUrl) {
    out.alert = { ...out.alert, webhookUrl: redactURL(out.alert.webhookUrl, false) };
  }
  return out;
}

function redactText(text, depth) {
  if (!suspect.test(text)) return text;
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    return REDACTED;
  }
  if (typeof v === "string") return JSON.stringify(redactText(v, depth + 1));
  if (v === null || typeof v !== "object") return text;
  return JSON.stringify(redactTree(v, depth + 1));
}

/**
 * A history event as the page may show it: its details (input, output,
 * task parameters, …) with the monitor spec redacted.
 */
export function redactEvent(e) {
  let out = e;
  for (const [k, v] of Object.entries(e)) {
    if (!k.endsWith("EventDetails") || !isObject(v)) continue;
    const r = redactTree(v);
    if (out === e) out = { ...e };
    out[k] = r;
  }
  return out;
}
