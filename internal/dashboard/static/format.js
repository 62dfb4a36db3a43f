// Formatting helpers: times, durations, JSON.

/** Parses an API time: RFC 3339 text or epoch seconds. Invalid or zero times give null. */
export function toDate(v) {
  if (v === null || v === undefined || v === "") return null;
  const d = typeof v === "number" ? new Date(v * 1000) : new Date(v);
  const t = d.getTime();
  if (Number.isNaN(t) || t <= 0) return null; // Go's zero time is year 1
  return d;
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

/** Local wall-clock time, with the date when it is not today. */
export function clock(d, withMillis = false) {
  if (!d) return "—";
  const now = new Date();
  let s = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (withMillis) s += `.${pad(d.getMilliseconds(), 3)}`;
  if (d.toDateString() !== now.toDateString()) {
    s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${s}`;
  }
  return s;
}

/**
 * The zone of the local times at d (now by default), as its offset from
 * UTC: "UTC", "UTC+9", "UTC-3:30". The page shows times in the browser's
 * zone, beside the API's JSON in UTC, so it names the zone.
 */
export function zoneName(d = new Date()) {
  const off = -d.getTimezoneOffset();
  if (!off) return "UTC";
  const a = Math.abs(off);
  return `UTC${off < 0 ? "-" : "+"}${Math.floor(a / 60)}${a % 60 ? `:${pad(a % 60)}` : ""}`;
}

/** The note that names the zone of a view's times: "Times in UTC+9 (Asia/Tokyo)". */
export function zoneNote() {
  let tz = "";
  try {
    tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    // no zone name: the offset says enough
  }
  const named = tz && !/^(Etc\/)?(UTC|UCT|GMT|Universal|Zulu)$/i.test(tz);
  return `Times in ${zoneName()}${named ? ` (${tz})` : ""}`;
}

/** clock with the zone, for titles and tooltips: "10:49:39 UTC+9". */
export function clockZone(d, withMillis = false) {
  if (!d) return "—";
  return `${clock(d, withMillis)} ${zoneName(d)}`;
}

/** A duration in milliseconds as "850 ms", "4.2 s", "3m 05s", "2h 10m", "3d 4h". */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const neg = ms < 0;
  ms = Math.abs(ms);
  let s;
  if (ms < 1000) s = `${Math.round(ms)} ms`;
  else if (ms < 10000) s = `${(ms / 1000).toFixed(1)} s`;
  else if (ms < 60000) s = `${Math.round(ms / 1000)} s`;
  else if (ms < 3600000) s = `${Math.floor(ms / 60000)}m ${pad(Math.floor(ms / 1000) % 60)}s`;
  else if (ms < 86400000) s = `${Math.floor(ms / 3600000)}h ${pad(Math.floor(ms / 60000) % 60)}m`;
  else s = `${Math.floor(ms / 86400000)}d ${Math.floor(ms / 3600000) % 24}h`;
  return neg ? `-${s}` : s;
}

/** "in 4 s", "12 s ago", "now". */
export function relative(d, now = Date.now()) {
  if (!d) return "—";
  const ms = d.getTime() - now;
  if (Math.abs(ms) < 1000) return "now";
  const text = duration(Math.abs(ms) < 10000 ? Math.round(Math.abs(ms) / 1000) * 1000 : Math.abs(ms)).replace(".0 s", " s");
  return ms > 0 ? `in ${text}` : `${text} ago`;
}

/** Pretty JSON, or a dash for nothing. JSON text is parsed first. */
export function pretty(v) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "string") {
    try { v = JSON.parse(v); } catch { return v; }
  }
  return JSON.stringify(v, null, 2);
}

/** Parses JSON text, giving null when it is not JSON. */
export function parseJSON(text) {
  if (typeof text !== "string") return text ?? null;
  try { return JSON.parse(text); } catch { return null; }
}
