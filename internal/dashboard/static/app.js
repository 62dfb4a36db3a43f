// stepmon dashboard: the monitors list, a monitor's detail with its
// timeline, live by polling.

import * as api from "./api.js";
import { toDate, clock, clockZone, zoneName, zoneNote, duration, relative, pretty, parseJSON } from "./format.js";
import { buildTimeline, extendTimeline, advance, renderTimeline, barSpan, describe, barLabel, spanKey, setTabStop, neighbour } from "./timeline.js";
import { redactEvent } from "./redact.js";

const POLL_MS = 1500;
const IDLE_POLL_MS = 6000; // the longest wait between reads while nothing changes
const FINAL = new Set(["Completed", "Failed", "Terminated"]);
// JOB_STATUS_FINISHED labels a finished monitor's custom status on its
// page: its outcome is the final status, and "Job status" there would
// contradict the list's column, which shows the final status.
const JOB_STATUS_FINISHED = "Last check saw";
const STATUSES = ["Pending", "Running", "Completed", "Failed", "Terminated"];
const EVENT_ROWS = 500; // history rows shown at first, and added by "show older"
const KEEP_ROWS = 5000; // history rows kept while new events come, when asked for or read (renderEvents)
const HEALTH_MS = 10000; // how often the runtime's timers are looked at

const $ = (id) => document.getElementById(id);

const state = {
  route: { view: "list" },
  statuses: new Set(),
  search: "",
  pages: [""], // continuation tokens of the pages visited; the last is shown
  paused: false,
  force: false, // refresh once even while paused
  confirmMoot: null, // the open confirmation's moot (confirmDialog), else null
  confirmClosed: null, // the promise of the last confirmation, resolved by its close event
  list: null,
  listKey: "", // what state.list was read for: listKey() at the time
  listPage: 1, // the number of the page state.list is
  listSig: "", // the last page read, as JSON: a read that differs brought something new
  rows: new Map(), // instance id -> <tr>
  detail: null,
  lastOk: null, // when the page last read the API
  failingSince: null, // when refreshes began to fail; null while they work
  windowMs: 0, // the timeline's window; 0 is the whole execution
  healthAt: 0, // when /healthz was last asked (ms); Infinity where there is none
};

// ---- routing: #/ is the list (#/?status=Running,Pending), #/monitors/{id} a monitor.

function parseRoute() {
  const h = location.hash.replace(/^#/, "") || "/";
  const q = h.indexOf("?");
  const path = q < 0 ? h : h.slice(0, q);
  const query = q < 0 ? "" : h.slice(q + 1);
  const m = /^\/monitors\/(.+)$/.exec(path);
  if (m) {
    try {
      return { view: "detail", id: decodeURIComponent(m[1]) };
    } catch {
      // A bad % escape: no monitor can have this id.
      return { view: "list", statuses: [], problem: `Monitor not found: the link #${path} is not a valid monitor address.` };
    }
  }
  // Statuses match whatever their case (as the API does); unknown ones are dropped.
  const statuses = [];
  for (const s of (new URLSearchParams(query).get("status") || "").split(",")) {
    const known = STATUSES.find((x) => x.toLowerCase() === s.trim().toLowerCase());
    if (known && !statuses.includes(known)) statuses.push(known);
  }
  return { view: "list", statuses };
}

// onRoute shows the view the location names. navigated is true when the
// user went there (not on first load): focus then moves to its heading.
function onRoute(navigated) {
  const prev = state.route;
  const r = parseRoute();
  state.route = r;
  $("list-view").hidden = r.view !== "list";
  $("detail-view").hidden = r.view !== "detail";
  hideTip();
  const problem = $("list-problem");
  problem.hidden = !r.problem;
  setText(problem, r.problem || "");
  if (r.view === "list") {
    const next = new Set(r.statuses);
    if ([...next].join() !== [...state.statuses].join()) {
      state.statuses = next;
      state.pages = [""];
      state.list = null;
    }
    for (const cb of document.querySelectorAll('input[name="status"]')) cb.checked = next.has(cb.value);
    // Show the statuses as understood: #/?status=running reads #/?status=Running.
    if (!r.problem && location.hash.length > 1 && location.hash !== listHash()) history.replaceState(null, "", listHash());
    document.title = "stepmon · monitors";
    state.detail = null;
    if (state.list) renderList();
    if (navigated === true && prev.view !== "list") backToList(history.state && history.state.listLeft);
  } else if (!state.detail || state.detail.id !== r.id) {
    state.detail = newDetail(r.id);
    renderDetail();
    if (navigated === true) $("detail-title").focus();
  }
  // A view the user opens is read even while updates are paused.
  refreshNow();
}

// leaveList notes in the list's own history entry where the user was on
// it, as they open a monitor from it: the row opened, the scroll position
// and the page. Going Back to that entry finds it there (backToList); a
// link to the list (the breadcrumb, the brand) makes a new entry, without.
function leaveList(id) {
  history.replaceState({ ...history.state, listLeft: { id, y: scrollY, key: listKey() } }, "");
}

// backToList puts the user back where they left the list, as a browser
// does on Back to a page of its own: the row they opened has focus, at the
// scroll position they left, so that a keyboard or screen reader user goes
// on from there rather than from the top. Without a place to go back to
// (a link to the list, or that row is no longer shown), focus goes to the
// heading.
function backToList(left) {
  const tr = left && left.key === listKey() ? state.rows.get(left.id) : null;
  if (!tr || !tr.isConnected) {
    $("list-title").focus();
    return;
  }
  scrollTo(scrollX, left.y);
  tr.querySelector("a").focus({ preventScroll: true });
}

function newDetail(id) {
  return {
    id, record: null, error: null, history: null, historyAt: 0, historyTries: 0,
    eventsFrom: 0, eventsTo: 0, eventsArn: "", eventsLimit: EVENT_ROWS, drawn: "", active: "",
  };
}

// listKey names the list page asked for: its statuses and the pages
// visited to reach it.
function listKey() {
  return JSON.stringify([[...state.statuses], state.pages]);
}

// listShown says whether the list shown is the page asked for, rather
// than the one before it while the next is read.
function listShown() {
  return state.list !== null && state.listKey === listKey();
}

function listHash() {
  const s = [...state.statuses];
  return s.length ? `#/?status=${s.join(",")}` : "#/";
}

// ---- polling: one request round at a time, every POLL_MS, paused when hidden.
// While reads bring nothing new (a finished monitor, a quiet list) they
// come less often, down to every IDLE_POLL_MS; in between the page is
// drawn again, so that times relative to now move on. A change, or
// anything the user does, brings them back to every POLL_MS. While
// updates are paused nothing is read, and the page is still drawn again.

let timer = 0;
let busy = false;
let again = false;
let waiting = []; // resolves of refreshNow, called after the forced refresh
let readNow = true; // the next tick reads, whenever the last read was
let readAt = 0; // when the last read began (performance.now())
let unchanged = 0; // reads in a row that brought nothing new

function kick() {
  readNow = true;
  unchanged = 0;
  if (busy) { again = true; return; }
  clearTimeout(timer);
  tick();
}

// readEvery is the time between reads: POLL_MS, and after three reads
// that brought nothing new, twice that, then IDLE_POLL_MS.
function readEvery() {
  return unchanged < 3 ? POLL_MS : Math.min(IDLE_POLL_MS, POLL_MS * 2 ** (unchanged - 2));
}

/**
 * Refreshes the view once, even while paused; resolves when done. A view
 * the user asks for (another page, filter or monitor) is read so, without
 * waiting for it.
 */
function refreshNow() {
  return new Promise((resolve) => {
    state.force = true;
    waiting.push(resolve);
    kick();
  });
}

async function tick() {
  busy = true;
  const force = state.force;
  const done = force ? waiting.splice(0) : [];
  state.force = false;
  try {
    const list = state.route.view === "list";
    // Between reads, and all the while updates are paused, the page is
    // drawn again from what it read, so that times relative to now stay true.
    if (!force && !document.hidden && (state.paused || (!readNow && performance.now() - readAt < readEvery() - 100))) {
      if (list) renderList();
      else renderDetail();
    } else if (!document.hidden) {
      readNow = false;
      readAt = performance.now();
      const changed = list ? await refreshList() : await refreshDetail();
      unchanged = changed ? 0 : unchanged + 1;
      state.lastOk = new Date();
      state.failingSince = null;
      $("offline").hidden = true;
      setLive("ok", "Live", `updated ${clock(state.lastOk)}`);
      if (Date.now() - state.healthAt >= HEALTH_MS) await refreshHealth();
    }
  } catch (err) {
    unchanged = 0;
    showFailure(err);
    // The page still shows what it last read: drawn again, its times
    // relative to now move on ("Updated 40 s ago"), as the banner's
    // "shows what it read at" says, rather than staying at "now".
    if (state.route.view === "list") renderList();
    else renderDetail();
  } finally {
    busy = false;
  }
  if (state.paused) setLive("paused", "Paused", state.lastOk ? `updated ${clock(state.lastOk)}` : "");
  for (const resolve of done) resolve();
  clearTimeout(timer);
  if (again) { again = false; timer = setTimeout(tick, 0); return; }
  timer = setTimeout(tick, POLL_MS);
}

// refreshHealth shows whether the local runtime resumes monitors on time
// (its /healthz timers) and whether its database takes what they record
// (503 degraded while it fails). The API on AWS has no /healthz: then it
// stops asking.
// healthProblems describes what a degraded /healthz reports: the engine's
// database failing its commits or the reads that resume monitors,
// executions' ends the status function has not recorded yet, and the
// status store failing the monitors' writes.
function healthProblems(h) {
  const out = [];
  const n = (x) => (x || 0).toLocaleString("en");
  const store = h && h.store;
  if (store && store.commitsWaiting > 0) {
    const resumes = store.resumesWaiting > 0 ? `, and ${n(store.resumesWaiting)} more wait to resume,` : "";
    out.push(`The local runtime cannot save what its monitors do: ${n(store.commitsWaiting)} monitors wait ` +
      `for its database${resumes} (${store.error}). They go on once it takes their writes again: free disk space, or stop serve and restore a damaged stepmon.db.`);
  } else if (store && store.resumesWaiting > 0) {
    out.push(`The local runtime cannot read its database: ${n(store.resumesWaiting)} monitors due to check wait to resume (${store.error}). ` +
      "They go on once it answers again.");
  }
  const changes = h && h.statusChanges;
  if (changes && changes.undelivered > 0) {
    out.push(`${n(changes.undelivered)} monitors ended outside their workflow (stopped, failed or timed out) but their records ` +
      `still say Running: the status store did not take their end (${changes.error}). The runtime keeps trying.`);
  }
  const writes = h && h.statusStore;
  if (writes && writes.writesFailing > 0) {
    out.push(`The status store fails to record what ${n(writes.writesFailing)} monitors do (${writes.error}). ` +
      "Their checks retry for up to about 38 minutes, then the monitors fail: free disk space now.");
  }
  return out;
}

async function refreshHealth() {
  state.healthAt = Date.now();
  let h;
  try {
    h = await api.health();
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 404) state.healthAt = Infinity;
    if (!(err instanceof api.ApiError) || err.status !== 503 || !err.body || !(err.body.store || err.body.statusChanges || err.body.statusStore)) return;
    h = err.body;
  }
  const late = $("late");
  const problems = healthProblems(h);
  if (problems.length) {
    setText(late, problems.join(" "));
    late.hidden = false;
    return;
  }
  const m = h && h.timers && h.timers.lastMinute;
  if (!m || !m.late) {
    late.hidden = true;
    return;
  }
  const due = h.timers.due ? `; ${h.timers.due.toLocaleString("en")} due now wait for their turn` : "";
  setText(late, `Checks are running late: in the last minute monitors were resumed up to ${duration(m.p99Ms)} late (p99 of ${m.resumed.toLocaleString("en")})${due}. ` +
    "This machine cannot run this many monitors at their intervals: lengthen the intervals, stop some monitors or give it more CPU.");
  late.hidden = false;
}

// showFailure says that a refresh failed: the state in the header, and a
// banner with the reason, since when, and how old what the page shows is.
// The next refresh that works hides it.
function showFailure(err) {
  state.failingSince ??= new Date();
  // The API unreachable (its message in the page's words, not the
  // browser's "Failed to fetch"), answering with an error, or the page
  // failing to show what it read (a bug: its message is kept).
  const what = err instanceof api.UnreachableError ? "Cannot reach the API"
    : err instanceof api.ApiError ? "The API answers with an error" : "The page failed to show what it read";
  setLive("err", what, state.lastOk ? `last update ${clock(state.lastOk)}` : "");
  const shown = state.lastOk ? `The page shows what it read at ${clock(state.lastOk)}` : "The page has read nothing yet";
  setText($("offline"), `${what} since ${clock(state.failingSince)} (${err.message}). ${shown}; it tries again every ${POLL_MS / 1000} s.`);
  $("offline").hidden = false;
}

// setLive shows the connection state. Only the state's text is in the live
// region, so a screen reader announces changes of state, not every refresh.
function setLive(kind, text, time) {
  const cls = `live ${kind}`;
  if ($("live").className !== cls) $("live").className = cls;
  setText($("live-text"), text);
  setText($("live-time"), time);
}

// ---- list

// refreshList reads the list's page and shows it; it reports whether
// anything changed. An answer for a page or a filter the user has left
// while it was read is dropped: the read that follows is for the new one.
async function refreshList() {
  const key = listKey();
  const n = state.pages.length;
  const token = state.pages[n - 1];
  const page = await api.listMonitors({ statuses: [...state.statuses], token });
  if (state.route.view !== "list" || key !== listKey()) return true;
  const sig = JSON.stringify(page);
  const changed = sig !== state.listSig;
  state.listSig = sig;
  state.list = page;
  state.listKey = key;
  state.listPage = n;
  renderList();
  return changed;
}

function badge(status) {
  const b = document.createElement("span");
  b.className = `badge ${status || ""}`;
  b.textContent = status || "Unknown";
  return b;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// jobStatus is the job status a row shows: what the last check saw while
// the monitor runs, its output's final status once it has finished.
function jobStatus(rec) {
  const cs = rec.customStatus || {};
  return (FINAL.has(rec.runtimeStatus) ? (rec.output || {}).final_status || cs.status : cs.status) || "";
}

// matches tells whether the filter text q is in what a row shows (its
// instance id, name, runtime status and job status) or in its job id.
function matches(rec, q) {
  if (!q) return true;
  const cs = rec.customStatus || {};
  return [rec.instanceId, rec.name, rec.runtimeStatus, jobStatus(rec), cs.job_id].some((v) => v && String(v).toLowerCase().includes(q));
}

function renderRow(tr, rec, now) {
  const cs = rec.customStatus || {};
  const out = rec.output || {};
  const live = !FINAL.has(rec.runtimeStatus);
  const next = live ? toDate(cs.next_check_time) : null;
  const cells = tr.children;
  const link = cells[0].firstChild;
  link.href = `#/monitors/${encodeURIComponent(rec.instanceId)}`;
  setText(link, rec.instanceId);
  // A long id or job status is cut with an ellipsis to leave room for
  // the other columns; the whole of it is in the tooltip.
  link.title = rec.instanceId;
  setText(cells[1], rec.name || "");
  const b = cells[2].firstChild;
  if (b.textContent !== rec.runtimeStatus) cells[2].replaceChildren(badge(rec.runtimeStatus));
  setText(cells[3], jobStatus(rec) || "—");
  cells[3].title = cells[3].textContent;
  setText(cells[4], String(out.checks_performed ?? cs.check_count ?? 0));
  setText(cells[5], next ? relative(next, now) : "—");
  cells[5].title = next ? clockZone(next) : "";
  const created = toDate(rec.createdTime);
  const updated = toDate(rec.lastUpdatedTime);
  setText(cells[6], clock(created));
  // Its own zone: the column's heading names today's offset, which a row
  // created before a change of daylight saving time did not have.
  cells[6].title = created ? clockZone(created, true) : "";
  setText(cells[7], relative(updated, now));
  cells[7].title = updated ? clockZone(updated, true) : "";
  tr.dataset.status = rec.runtimeStatus;
}

function newRow(id) {
  const tr = document.createElement("tr");
  tr.dataset.id = id;
  for (let i = 0; i < 8; i++) tr.append(document.createElement("td"));
  tr.children[0].append(document.createElement("a"));
  tr.children[0].className = tr.children[3].className = "cut";
  tr.children[2].append(badge(""));
  tr.children[4].className = "num";
  return tr;
}

function renderList() {
  const page = state.list;
  if (!page) return;
  const now = Date.now();
  const q = state.search.trim().toLowerCase();
  const recs = (page.monitors || []).filter((r) => matches(r, q));
  const seen = new Set();
  const order = [];
  for (const rec of recs) {
    let tr = state.rows.get(rec.instanceId);
    if (!tr) state.rows.set(rec.instanceId, (tr = newRow(rec.instanceId)));
    renderRow(tr, rec, now);
    seen.add(rec.instanceId);
    order.push(tr);
  }
  for (const id of state.rows.keys()) if (!seen.has(id)) state.rows.delete(id);
  placeRows($("rows"), order);
  $("empty").hidden = order.length > 0;
  $("empty").textContent = emptyText(page);
  offerToOpen(state.search.trim(), recs);
  const n = state.listPage;
  // A button disabled with keyboard focus on it throws focus on the body:
  // focus moves to the other one first, or to the list's heading.
  const [prev, next] = [$("prev"), $("next")];
  const prevOff = n <= 1, nextOff = !page.continuationToken;
  // Enabled first: a disabled button takes no focus (two pages: Older,
  // just enabled, takes it from Newer).
  if (!prevOff) prev.disabled = false;
  if (!nextOff) next.disabled = false;
  if (prevOff && document.activeElement === prev) (nextOff ? $("list-title") : next).focus();
  if (nextOff && document.activeElement === next) (prevOff ? $("list-title") : prev).focus();
  prev.disabled = prevOff;
  next.disabled = nextOff;
  // While the page asked for is read, the page shown stays with its own
  // number, and Older and Newer do nothing. They say so with aria-disabled
  // rather than disabled, which would throw keyboard focus off them.
  const waiting = String(!listShown());
  for (const b of [$("prev"), $("next")]) if (b.getAttribute("aria-disabled") !== waiting) b.setAttribute("aria-disabled", waiting);
  // With the filter box hiding rows, how many the page holds.
  const all = (page.monitors || []).length;
  setText($("page-info"), `Page ${n} · ${order.length}${order.length < all ? ` of ${all}` : ""} shown`);
  setText($("list-zone"), `(${zoneName()})`);
  $("list-zone").title = zoneNote();
}

// placeRows puts the list's rows in order in body. It removes the rows
// that went and moves only those out of place, rather than putting them
// all back, which would take keyboard focus off a row's link and send it,
// and a screen reader, to the top of the page. Should the focused row
// itself move or go, focus goes back to it, or to the row in its place.
function placeRows(body, order) {
  const current = [...body.children];
  if (current.length === order.length && current.every((tr, i) => tr === order[i])) return;
  const active = document.activeElement;
  const row = body.contains(active) ? active.closest("tr") : null;
  const keep = new Set(order);
  for (const tr of current) if (!keep.has(tr)) tr.remove();
  let at = body.firstElementChild;
  for (const tr of order) {
    if (tr === at) at = at.nextElementSibling;
    else body.insertBefore(tr, at);
  }
  if (!row || document.activeElement === active) return;
  if (keep.has(row)) {
    active.focus({ preventScroll: true });
    return;
  }
  const i = current.indexOf(row);
  const near = current.slice(i + 1).concat(current.slice(0, i).reverse()).find((tr) => keep.has(tr));
  (near ? near.querySelector("a") : $("list-title")).focus({ preventScroll: true });
}

// emptyText says why the list shows no rows. A page can be empty and still
// have a next one: the API stops reading a filtered list after a while and
// says where to go on.
function emptyText(page) {
  if ((page.monitors || []).length) return "No monitors on this page match the search.";
  if (page.continuationToken) return "None on this page; there may be more on the next one.";
  if (state.statuses.has("Failed") && !state.statuses.has("Completed")) return "No monitors with this status. A monitor whose job failed is Completed, with job status Failed.";
  if (state.statuses.size) return "No monitors with this status.";
  return "No monitors yet. Start one with the button above.";
}

// offerToOpen links to the monitor whose id the search names when no row
// of this page matches it: the search filters the page's rows only, and
// the monitor may be on another page or of another status. While rows
// match, the search is at work as a filter ("running", a name), and the
// text is no more likely an id than a word.
function offerToOpen(q, recs) {
  const offer = $("search-open");
  const show = /^[A-Za-z0-9_-]{1,64}$/.test(q) && recs.length === 0;
  if (offer.hidden !== !show) offer.hidden = !show;
  if (!show) return;
  const link = offer.querySelector("a");
  link.href = `#/monitors/${encodeURIComponent(q)}`;
  setText(link, `open monitor ${q}`);
}

// ---- detail

// refreshDetail reads the monitor and its history and shows them; it
// reports whether anything changed. Only a 404 (no such monitor) and a 400
// (an id the API refuses) are news about the monitor; any other error
// (5xx, 429) is a failed refresh, thrown on to tick, which says so and
// keeps the time of what the page shows.
async function refreshDetail() {
  const d = state.detail;
  if (!d) return true;
  try {
    d.record = await api.getMonitor(d.id);
    d.error = null;
  } catch (err) {
    if (!(err instanceof api.ApiError) || (err.status !== 404 && err.status !== 400)) throw err;
    d.error = err.status === 404 ? "This monitor does not exist (or was purged)." : `This is not a valid monitor id: ${err.message}`;
    d.record = null;
  }
  if (state.detail !== d) return true;
  await refreshHistory(d);
  if (state.detail !== d) return true;
  renderDetail();
  const h = d.history;
  const sig = JSON.stringify([d.record, d.error, h && h.events.length, h && h.error]);
  const changed = sig !== d.sig;
  d.sig = sig;
  return changed;
}

async function refreshHistory(d) {
  const arn = d.record && d.record.executionArn;
  if (!arn) return;
  const h = d.history;
  const final = FINAL.has(d.record.runtimeStatus);
  const now = Date.now();
  if (h && h.arn === arn) {
    if (h.error && now - d.historyAt < 10000) return;
    // A finished monitor's history is complete once the execution's end event is in.
    if (final && !h.error && (h.model?.ended || d.historyTries >= 5)) return;
  }
  d.historyAt = now;
  if (final) d.historyTries++;
  try {
    if (h && h.arn === arn && !h.error && !h.truncated && h.events.length) {
      // Incremental: only the events after the last one we have.
      const last = h.events[h.events.length - 1].id;
      const { events, complete } = await api.executionHistorySince(arn, last);
      if (complete) {
        if (events.length) {
          // The model takes the new events alone, rather than being built
          // again from all of them: a refresh costs what it brought.
          const added = events.map(redactEvent);
          for (const e of added) h.events.push(e);
          h.model = (h.model && extendTimeline(h.model, added, now)) || buildTimeline(h.events, now);
        }
        return;
      }
    }
    // Everything drawn from the history is drawn from redacted events.
    const full = await api.executionHistory(arn);
    const events = full.events.map(redactEvent);
    d.history = { arn, events, truncated: full.truncated, error: null, model: buildTimeline(events, now) };
  } catch (err) {
    if (!(err instanceof api.ApiError)) throw err;
    d.history = { arn, events: h && h.arn === arn ? h.events : [], error: err.message, errorType: err.type, model: h && h.arn === arn ? h.model : null };
  }
}

// fact is one fact of a monitor: its label, its text and, for a time,
// a title with the exact time.
function fact(label, value, title = "") {
  return { label, text: String(value ?? "—"), title };
}

// alertFact is the Alert fact, or null for none: the output's alert_status
// once the monitor has finished; while it runs, the last attempt's
// outcome, where a failed attempt is not final: the state machine tries
// again, when the status says (retryAt), at that time.
function alertFact(rec, live, now) {
  const out = rec.output || {};
  const a = rec.alert || {};
  if (out.alert_status) return fact("Alert", out.alert_status);
  if (live && a.status === "failed") {
    const at = toDate(a.retryAt);
    const when = at && at.getTime() > now ? ` ${relative(at, now)}` : "";
    const attempt = a.attempts ? ` (attempt ${a.attempts})` : "";
    return fact("Alert", `failed, retrying${when}${attempt}`, when ? clockZone(at) : "");
  }
  return a.status ? fact("Alert", a.status) : null;
}

function renderFacts(rec, now) {
  const cs = rec.customStatus || {};
  const out = rec.output || {};
  const live = !FINAL.has(rec.runtimeStatus);
  const created = toDate(rec.createdTime);
  const updated = toDate(rec.lastUpdatedTime);
  const last = toDate(cs.last_check_time);
  const next = live ? toDate(cs.next_check_time) : null;
  const expires = toDate(rec.expiresAt);
  const ran = out.monitoring_duration_seconds !== undefined ? out.monitoring_duration_seconds * 1000 : created ? (live ? now : updated || now) - created : null;
  // The output's duration is in whole seconds: shown as such ("7 s", not
  // "7.0 s"; "< 1 s", not "0 ms").
  const ranText = out.monitoring_duration_seconds === undefined ? duration(ran)
    : out.monitoring_duration_seconds < 1 ? "< 1 s" : duration(ran).replace(".0 s", " s");
  const alert = alertFact(rec, live, now);
  const items = [
    fact("Name", rec.name),
    fact("Job id", cs.job_id || out.job_id || (rec.input && rec.input.jobId)),
    // Once the monitor has finished, its outcome is the final status
    // above; the custom status keeps what its last check saw.
    fact(live ? "Job status" : JOB_STATUS_FINISHED, cs.status || "—"),
    fact(live ? "Checks" : "Checks performed", String(out.checks_performed ?? cs.check_count ?? 0)),
    fact("Interval", cs.interval_seconds ? `${cs.interval_seconds} s` : rec.input && rec.input.pollingIntervalSeconds ? `${rec.input.pollingIntervalSeconds} s` : "—"),
    fact("Last check", last ? relative(last, now) : "—", last ? clockZone(last, true) : ""),
    fact("Next check", next ? relative(next, now) : "—", next ? clockZone(next) : ""),
    fact("Created", clock(created), created ? `${clockZone(created, true)} (${created.toISOString()})` : ""),
    fact("Updated", relative(updated, now), updated ? clockZone(updated, true) : ""),
    fact(live ? "Running for" : "Duration", ranText),
  ];
  if (!live) items.splice(2, 0, fact("Final status", out.final_status || "—"));
  // What the last check saw, in a sentence ("HTTP 503", "status field
  // missing": why a job status is Unknown or Error); once finished, the
  // output's (how the monitor ended, a terminate's reason).
  const detail = live ? cs.detail : out.detail || cs.detail;
  if (detail) items.splice(items.findIndex((f) => f.label === "Job status" || f.label === JOB_STATUS_FINISHED) + 1, 0, fact("Detail", detail));
  if (live && expires) items.push(fact("Expires", relative(expires, now), clockZone(expires)));
  if (cs.open_issues !== undefined) items.push(fact("Open issues", String(cs.open_issues)));
  if (cs.generation) items.push(fact("Generation", String(cs.generation)));
  if (alert) items.push(alert);
  if (cs.last_event) items.push(fact("Last event", cs.last_event));
  placeFacts($("facts"), items);
}

// The facts' rows, by label: { div, dd }. They stay the same elements
// while the page shows the monitor, so a text selected in a fact, the
// tooltip over it and a screen reader's place in the list are kept.
const factRows = new Map();

// placeFacts shows items in dl, changing only what differs: the rows of
// facts that came or went (a finished monitor has no "Next check"), and
// the text and title of those whose value changed. Between refreshes
// only the times relative to now change, and only their text node.
function placeFacts(dl, items) {
  const order = items.map((f) => {
    let r = factRows.get(f.label);
    if (!r) {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      r = { div, dd: document.createElement("dd") };
      dt.textContent = f.label;
      div.append(dt, r.dd);
      factRows.set(f.label, r);
    }
    setData(r.dd, f.text);
    if (r.dd.title !== f.title) r.dd.title = f.title;
    return r.div;
  });
  const keep = new Set(order);
  for (const [label, r] of factRows) {
    if (keep.has(r.div)) continue;
    r.div.remove();
    factRows.delete(label);
  }
  let at = dl.firstElementChild;
  for (const div of order) {
    if (div === at) at = at.nextElementSibling;
    else dl.insertBefore(div, at);
  }
}

// setData sets node's text, changing the data of its text node rather
// than replacing it: a selection or a screen reader's cursor in the text
// stays on the node.
function setData(node, text) {
  const t = node.firstChild;
  if (t && t === node.lastChild && t.nodeType === Node.TEXT_NODE) {
    if (t.data !== text) t.data = text;
  } else {
    node.textContent = text;
  }
}

function setPre(id, value) {
  setText($(id), pretty(value));
}

function renderDetail() {
  const d = state.detail;
  if (!d) return;
  const rec = d.record;
  const now = Date.now();
  setText($("detail-title"), d.id);
  $("crumb-list").href = listHash();
  const status = rec ? rec.runtimeStatus : d.error ? "Unknown" : "";
  const b = $("detail-badge");
  b.className = `badge ${status}`;
  setText(b, status || "Loading…");
  b.hidden = !status;
  document.title = `stepmon · ${d.id}${status ? ` (${status})` : ""}`;
  const err = $("detail-error");
  err.hidden = !d.error;
  setText(err, d.error || "");
  const live = rec && !FINAL.has(rec.runtimeStatus);
  setActions(!!live, !!rec && !live);
  updateConfirm();
  $("terminate").title = live ? "Stop this monitor" : "Only a running monitor can be terminated";
  $("purge").title = rec && !live ? "Delete this monitor's status record" : "Only a finished monitor can be purged";
  $("detail-zone").hidden = !rec;
  if (!rec) {
    placeFacts($("facts"), []);
    for (const id of ["custom", "output", "input"]) setPre(id, null);
    if (d.error && d.history && d.history.model) {
      // Purged while shown: the status record is gone, but the execution
      // and its history stay with the workflow. The page keeps what it
      // read of them; without the record it cannot find them again.
      setText($("timeline-note"), `execution ${d.history.arn.split(":").slice(-1)[0]} · the status record was purged; the history stays with the workflow, as read before`);
      drawTimeline(d, d.history.model, { now, windowMs: state.windowMs });
      renderEvents(d);
      return;
    }
    // Without a record, the execution is not known: the timeline cannot
    // say that no state has run.
    drawTimeline(d, null, d.error ? { empty: "No status record, so no execution to show." } : {});
    $("events").replaceChildren();
    d.eventsFrom = d.eventsTo = 0;
    d.eventsArn = "";
    showOlder(0);
    setText($("timeline-note"), "");
    setText($("events-note"), "");
    return;
  }
  renderFacts(rec, now);
  setText($("detail-zone"), zoneNote());
  setText($("events-zone"), `(${zoneName()})`);
  setPre("custom", rec.customStatus);
  setPre("output", rec.output);
  setPre("input", rec.input);
  renderHistory(d, now);
}

// setActions enables Terminate and Purge as the monitor allows. A button
// that is disabled while it has focus would drop focus on the body (the
// next Tab starts from the top, and a screen reader says nothing), as when
// the monitor finishes by itself with focus on Terminate: focus then moves
// to the action the monitor offers now, Purge, as after the user's own
// Terminate, where a screen reader reads it with the new status (its
// description), else to the page's heading.
function setActions(canTerminate, canPurge) {
  const t = $("terminate");
  const p = $("purge");
  const lost = (document.activeElement === t && !canTerminate) || (document.activeElement === p && !canPurge);
  t.disabled = !canTerminate;
  p.disabled = !canPurge;
  if (!lost) return;
  if (canPurge) p.focus();
  else if (canTerminate) t.focus();
  else $("detail-title").focus();
}

function renderHistory(d, now) {
  const h = d.history;
  const arn = d.record.executionArn;
  if (!arn) {
    setText($("timeline-note"), "No execution yet.");
    drawTimeline(d, null, {});
    return;
  }
  let note = `execution ${arn.split(":").slice(-1)[0]}`;
  if (h && h.error) note += ` · history unavailable: ${h.error}`;
  if (h && h.truncated) note += " · first 10,000 events";
  if (d.record.customStatus && d.record.customStatus.generation) note += ` · generation ${d.record.customStatus.generation} (earlier generations are other executions)`;
  setText($("timeline-note"), note);
  $("timeline-note").title = arn;
  if (!h) return;
  advance(h.model, now);
  const empty = !h.error ? undefined
    : h.errorType.endsWith("ExecutionDoesNotExist")
      ? "This execution no longer exists: it was deleted, with its history, when its retention period passed. The status record remains."
      : "The execution history is not available from this endpoint.";
  drawTimeline(d, h.model, { now, empty, windowMs: state.windowMs });
  renderEvents(d);
}

// drawTimeline draws the timeline unless it would come out the same: a
// finished execution's timeline changes only with its history, the window
// and the page's width. A running one changes on every refresh, in place:
// new bars, the open ones and the now-line, the scale. Keyboard focus on a
// bar stays on it.
function drawTimeline(d, model, opts) {
  const tl = $("timeline");
  const running = model && !model.ended;
  const shape = model ? [d.history.arn, model.ended, opts.windowMs, opts.empty, tl.clientWidth].join("|") : `none|${opts.empty}`;
  const key = model ? `${shape}|${d.history.events.length}` : shape;
  if (!running && key === d.drawn) return;
  const keep = running && shape === d.drawnShape;
  d.drawn = key;
  d.drawnShape = shape;
  const focused = tl.contains(document.activeElement);
  const stop = renderTimeline(tl, model, { ...opts, active: d.active, keep });
  if (focused && stop) {
    if (document.activeElement !== stop) stop.focus({ preventScroll: true });
    showTipAt(stop);
  }
}

function eventDetails(e) {
  const det = Object.entries(e).find(([k]) => k.endsWith("EventDetails"));
  if (!det) return { state: "", text: "" };
  const v = det[1] || {};
  const state = v.name || v.state || "";
  let text = "";
  if (v.error || v.cause) text = [v.error, v.cause].filter(Boolean).join(": ");
  else if (v.input !== undefined) text = compact(v.input);
  else if (v.output !== undefined) text = compact(v.output);
  else if (v.resource) text = `${v.resourceType || ""} ${v.resource}`.trim();
  return { state, text: text.length > 240 ? text.slice(0, 240) + "…" : text, full: JSON.stringify(v, null, 2) };
}

function compact(text) {
  const v = parseJSON(text);
  return v === null ? String(text) : JSON.stringify(v);
}

// renderEvents shows the newest d.eventsLimit events, rows
// d.eventsFrom..d.eventsTo of the history of execution d.eventsArn: it
// appends new events, drops the oldest rows beyond the limit, and adds
// older ones on demand. Rows the user asked for (Show older) or is
// reading (a disclosure open) stay as new events come, up to KEEP_ROWS
// rows: the limit grows with them (the rows went again a few seconds
// after they were asked for). Another execution (the monitor continued
// as new) starts the table anew: event ids restart at 1 in every
// execution, so they cannot tell the rows of the two apart.
function renderEvents(d) {
  const events = d.history.events;
  const body = $("events");
  const t0 = events.length ? toDate(events[0].timestamp) : null;
  const first = body.firstElementChild;
  const stale = d.eventsArn !== d.history.arn || d.eventsTo > events.length || body.children.length !== d.eventsTo - d.eventsFrom ||
    (first && first.dataset.id !== String(events[d.eventsFrom].id));
  let from = Math.max(0, events.length - d.eventsLimit);
  if (!stale && from > d.eventsFrom && d.eventsTo > d.eventsFrom && events.length - d.eventsFrom <= KEEP_ROWS &&
    (d.eventsLimit > EVENT_ROWS || body.querySelector("details[open]"))) {
    from = d.eventsFrom;
    d.eventsLimit = events.length - from;
  }
  if (stale || from >= d.eventsTo) {
    if (body.firstChild) body.replaceChildren();
    d.eventsFrom = d.eventsTo = from;
    d.eventsArn = d.history.arn;
  }
  if (from < d.eventsFrom) {
    const frag = document.createDocumentFragment();
    for (const e of events.slice(from, d.eventsFrom)) frag.append(eventRow(e, t0));
    body.prepend(frag);
  } else {
    for (let i = d.eventsFrom; i < from; i++) body.firstElementChild.remove();
  }
  d.eventsFrom = from;
  if (d.eventsTo < events.length) {
    const frag = document.createDocumentFragment();
    for (const e of events.slice(d.eventsTo)) frag.append(eventRow(e, t0));
    body.append(frag);
    d.eventsTo = events.length;
  }
  const n = events.length;
  setText($("events-note"), `${n.toLocaleString("en")} event${n === 1 ? "" : "s"}${from ? ` · the newest ${(n - from).toLocaleString("en")} shown` : ""}`);
  showOlder(from);
}

function showOlder(hidden) {
  const more = $("events-older");
  // Hidden with keyboard focus on it, the button would throw focus on the
  // body: it goes to the history's heading, whose oldest rows are shown.
  if (!hidden && document.activeElement === more) {
    $("events-title").tabIndex = -1;
    $("events-title").focus();
  }
  if (more.hidden !== !hidden) more.hidden = !hidden;
  if (hidden) setText(more, `Show ${Math.min(EVENT_ROWS, hidden).toLocaleString("en")} older events`);
}

function eventRow(e, t0) {
  const tr = document.createElement("tr");
  tr.dataset.id = String(e.id);
  const t = toDate(e.timestamp);
  const { state, text, full } = eventDetails(e);
  if (/Failed|TimedOut|Aborted/.test(e.type)) tr.className = "fail";
  const cells = [String(e.id), clock(t, true), t && t0 ? `+${duration(t - t0)}` : "", e.type, state];
  cells.forEach((c, i) => {
    const td = document.createElement("td");
    td.textContent = c;
    if (i === 0 || i === 2) td.className = "num";
    tr.append(td);
  });
  const td = document.createElement("td");
  td.className = "details";
  if (full) {
    // The details in full, for the mouse as a title, and for the keyboard,
    // touch and screen readers as a disclosure: its summary is the short
    // text, and opening it shows them all (written in on first opening).
    td.title = full.length > 2000 ? full.slice(0, 2000) + "…" : full;
    const more = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = text || "details";
    more.append(summary);
    fullDetails.set(more, full);
    td.append(more);
  } else {
    td.textContent = text;
  }
  tr.append(td);
  return tr;
}

// The full text of each history row's disclosure, until it is opened.
const fullDetails = new WeakMap();

function onDetailsToggle(e) {
  const more = e.target;
  const full = fullDetails.get(more);
  if (!more.open || full === undefined) return;
  fullDetails.delete(more);
  const pre = document.createElement("pre");
  pre.textContent = full;
  more.append(pre);
}

// ---- actions

// MAX_REASON is the API's limit on a terminate reason, in characters
// (code points). The field's maxlength counts UTF-16 code units, two for
// an emoji, so it is twice that and checkReason counts the characters.
const MAX_REASON = 256;

// BREAKS_TEXT matches what the API refuses in a reason (monitor.CheckReason):
// control characters (tab, line feed, NUL, ESC, DEL, C1), the line and
// paragraph separators and bidirectional formatting characters, which
// would make the reason show in another order than it reads, and a lone
// surrogate, which is not UTF-8 text.
const BREAKS_TEXT = /[\p{Cc}\u2028\u2029\p{Bidi_Control}\p{Cs}]/u;

// checkReason makes the reason field invalid, which keeps the dialog from
// being confirmed, while it holds a reason the API would refuse: more
// characters than it takes, or one it does not take.
function checkReason() {
  const field = $("reason");
  const n = [...field.value].length;
  let problem = "";
  if (n > MAX_REASON) problem = `At most ${MAX_REASON} characters; this is ${n}.`;
  else if (BREAKS_TEXT.test(field.value)) problem = "One line of plain text: no tabs, line breaks, control or text-direction characters.";
  field.setCustomValidity(problem);
}

// confirmDialog asks for a confirmation. Its title names the action and
// the monitor, and its text, the dialog's description, says what follows:
// a screen reader reads both on opening, whichever control has focus.
// moot, when given, tells while the dialog is open why the action no
// longer applies (the monitor finished, or was purged, meanwhile), or ""
// while it does: the page's updates ask it (updateConfirm).
async function confirmDialog({ title, text, reason = false, ok = "Confirm", moot = null }) {
  // The close event of the dialog's last opening is dispatched as a task
  // of its own: an opening that came before it would take it for its own
  // close (resolved as cancelled while it shows) and reset what the last
  // one returns. Wait for it.
  await state.confirmClosed;
  const dlg = $("confirm");
  setText($("confirm-title"), title);
  setText($("confirm-text"), text);
  $("reason-row").hidden = !reason;
  // Each terminate starts from the default reason, not the last one typed.
  $("reason").value = $("reason").defaultValue;
  checkReason();
  $("confirm-ok").textContent = ok;
  $("confirm-ok").disabled = false;
  $("confirm-cancel").textContent = "Cancel";
  // Enter in the reason field submits the form with its default button,
  // the first submit button: Confirm. Cancel is a plain button.
  dlg.returnValue = "";
  state.confirmMoot = moot;
  dlg.showModal();
  // Without a reason to type, Cancel has the focus: two presses of Enter
  // must not purge a record for good.
  (reason ? $("reason") : $("confirm-cancel")).focus();
  state.confirmClosed = new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      state.confirmMoot = null;
      resolve({ ok: dlg.returnValue === "ok", reason: $("reason").value });
    }, { once: true });
  });
  return state.confirmClosed;
}

// updateConfirm turns an open confirmation whose action no longer applies
// into a notice: it says why, its Confirm is disabled, and Cancel, which
// takes the focus, becomes Close.
function updateConfirm() {
  const moot = state.confirmMoot;
  if (!moot || !$("confirm").open || $("confirm-ok").disabled) return;
  const why = moot();
  if (!why) return;
  setText($("confirm-text"), why);
  $("reason-row").hidden = true;
  $("confirm-ok").disabled = true;
  $("confirm-cancel").textContent = "Close";
  $("confirm-cancel").focus();
}

// toast shows the outcome of an action. A success goes by itself after a
// few seconds; an error stays until it is dismissed, since there is no
// telling how long reading it takes.
function toast(text, err = false) {
  const t = document.createElement("div");
  t.className = `toast${err ? " err" : ""}`;
  t.setAttribute("role", err ? "alert" : "status");
  const msg = document.createElement("span");
  msg.textContent = text;
  t.append(msg);
  if (err) {
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn ghost";
    close.textContent = "Dismiss";
    close.addEventListener("click", () => {
      t.remove();
      $("main").focus(); // not lost on the body with the button
    });
    t.append(close);
  } else {
    setTimeout(() => t.remove(), 4000);
  }
  $("toasts").append(t);
}

async function terminate() {
  const d = state.detail;
  if (!d) return;
  const { ok, reason } = await confirmDialog({
    title: `Terminate ${d.id}?`,
    text: `${d.id} stops now; its status becomes Terminated. This cannot be undone.`,
    reason: true,
    ok: "Terminate",
    moot: () => {
      if (state.detail !== d) return "";
      if (!d.record) return d.error ? `${d.id} no longer exists: there is nothing to terminate.` : "";
      const status = d.record.runtimeStatus;
      return FINAL.has(status) ? `${d.id} has finished meanwhile (${status}): there is nothing to terminate.` : "";
    },
  });
  if (!ok) return;
  try {
    await api.terminateMonitor(d.id, reason);
    toast(`Terminated ${d.id}`);
  } catch (err) {
    toast(err.status === 410 ? `${d.id} has already finished.`
      : err instanceof api.UnreachableError ? `Terminate failed: the API could not be reached (${err.message}), so ${d.id} may still be running.`
        : `Terminate failed: ${err.message}`, true);
  }
  // Show the outcome even while updates are paused.
  await refreshNow();
  if (state.detail !== d) return;
  // Terminate is now disabled: keep focus on the page, on the next action.
  const at = document.activeElement;
  if (at === document.body || at === $("terminate")) {
    if (!$("purge").disabled) $("purge").focus();
    else if (!$("terminate").disabled) $("terminate").focus();
    else $("detail-title").focus();
  }
}

async function purge() {
  const d = state.detail;
  if (!d) return;
  const { ok } = await confirmDialog({
    title: `Purge ${d.id}?`,
    text: `The status record of ${d.id} is deleted. Its execution history stays with the workflow.`,
    ok: "Purge",
    moot: () => (state.detail === d && !d.record && d.error ? `${d.id} was purged meanwhile: there is nothing left to purge.` : ""),
  });
  if (!ok) return;
  try {
    await api.purgeMonitor(d.id);
    toast(`Purged ${d.id}`);
  } catch (err) {
    if (err.status !== 404) {
      toast(err.status === 409 ? `${d.id} is still running; terminate it first.`
        : err instanceof api.UnreachableError ? `Purge failed: the API could not be reached (${err.message}), so ${d.id} may not have been purged.`
          : `Purge failed: ${err.message}`, true);
      refreshNow();
      return;
    }
    // Purged meanwhile (another tab, the CLI): what was asked is done.
    toast(`${d.id} was already purged.`);
  }
  state.rows.delete(d.id);
  if (state.list) state.list.monitors = (state.list.monitors || []).filter((r) => r.instanceId !== d.id);
  // Back to the list, read once even while updates are paused. The list
  // takes the purged monitor's place in the history: Back would lead to a
  // page that no longer exists.
  history.replaceState(null, "", listHash());
  onRoute(true);
}

function demoJobId() {
  const a = new Uint8Array(3);
  crypto.getRandomValues(a);
  return "demo-" + [...a].map((x) => x.toString(16).padStart(2, "0")).join("");
}

async function startDemo(ev) {
  ev.preventDefault();
  const form = ev.target;
  const data = new FormData(form);
  const body = {
    job_id: String(data.get("job_id")).trim(),
    polling_interval_seconds: Number(data.get("polling_interval_seconds")),
    timeout_seconds: Number(data.get("timeout_seconds")),
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const res = await api.startMonitor(body);
    const id = (res && (res.id || res.instanceId)) || body.job_id;
    toast(`Started ${id}`);
    form.elements.job_id.value = demoJobId();
    $("start").open = false;
    location.hash = `#/monitors/${encodeURIComponent(id)}`;
  } catch (err) {
    toast(err instanceof api.UnreachableError ? `Start failed: the API could not be reached (${err.message}), so the monitor may have started: see the list.`
      : `Start failed: ${err.message}`, true);
  } finally {
    button.disabled = false;
  }
}

// ---- timeline tooltip

const tip = $("tip");

function showTip(bar, x, y) {
  const span = barSpan(bar);
  const model = state.detail && state.detail.history && state.detail.history.model;
  if (!span || !model) return hideTip();
  const { title, rows } = describe(span, model);
  const head = document.createElement("b");
  head.textContent = title;
  const lines = rows.map(([k, v]) => {
    const div = document.createElement("div");
    div.textContent = `${k}: ${v}`;
    return div;
  });
  tip.replaceChildren(head, ...lines);
  tip.hidden = false;
  const r = tip.getBoundingClientRect();
  tip.style.left = `${Math.min(x + 14, innerWidth - r.width - 8)}px`;
  tip.style.top = `${y + 16 + r.height > innerHeight ? y - r.height - 10 : y + 16}px`;
}

function hideTip() {
  tip.hidden = true;
}

// showTipAt shows a bar's tooltip under it, for keyboard focus.
function showTipAt(bar) {
  const r = bar.getBoundingClientRect();
  showTip(bar, Math.max(0, r.left - 14), r.bottom - 10);
}

// The timeline's bars take focus one at a time (a roving tabindex): Tab
// reaches one bar, the arrow keys, Home and End move between bars, and the
// focused bar shows its tooltip.
function onTimelineKey(e) {
  const bar = e.target.closest(".tl-bar");
  if (!bar) return;
  if (e.key === "Escape") { hideTip(); return; }
  if (!["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(e.key)) return;
  e.preventDefault();
  const next = neighbour(bar, e.key);
  if (!next) return;
  const model = state.detail && state.detail.history && state.detail.history.model;
  setTabStop($("timeline"), next, model);
  next.focus();
}

function onTimelineFocus(e) {
  const bar = e.target.closest(".tl-bar");
  const d = state.detail;
  if (!bar || !d) return;
  const span = barSpan(bar);
  if (span) d.active = spanKey(span);
  const model = d.history && d.history.model;
  if (span && model) bar.setAttribute("aria-label", barLabel(span, model));
  showTipAt(bar);
}

// ---- wiring

function init() {
  addEventListener("hashchange", () => onRoute(true));
  // The skip link moves focus; as a hash it would leave a monitor's page.
  document.querySelector(".skip").addEventListener("click", (e) => { e.preventDefault(); $("main").focus(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) kick(); });
  $("pause").addEventListener("click", () => {
    state.paused = !state.paused;
    // A toggle: the name stays, aria-pressed (and its look) says the state.
    $("pause").setAttribute("aria-pressed", String(state.paused));
    kick();
  });
  for (const cb of document.querySelectorAll('input[name="status"]')) {
    cb.addEventListener("change", () => {
      const s = [...document.querySelectorAll('input[name="status"]:checked')].map((x) => x.value);
      state.statuses = new Set(s);
      state.pages = [""];
      history.replaceState(null, "", listHash());
      renderList();
      refreshNow();
    });
  }
  $("search").addEventListener("input", (e) => { state.search = e.target.value; renderList(); });
  // Paging goes from the page shown, once it is the one asked for: a
  // second press before the next page came would push its token twice.
  $("prev").addEventListener("click", () => {
    if (listShown() && state.pages.length > 1) { state.pages.pop(); renderList(); refreshNow(); }
  });
  $("next").addEventListener("click", () => {
    const t = listShown() && state.list.continuationToken;
    if (t) { state.pages.push(t); renderList(); refreshNow(); }
  });
  // The brand link, "all monitors", shows page 1, the newest monitors, as a
  // reload does (the page is not in the URL). The breadcrumb, back to the
  // list, keeps the page left.
  document.querySelector(".brand").addEventListener("click", (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // another tab or window
    state.pages = [""];
    // Already at #/, the link changes no hash: show page 1 from here.
    if (location.hash === "#/" && state.route.view === "list") { renderList(); refreshNow(); }
  });
  $("rows").addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (!tr) return;
    const link = e.target.closest("a");
    // A click that ends a selection of the row's text (to copy a status)
    // opens nothing, nor does a click with a modifier outside the link (the
    // link itself opens in another tab or window then).
    if (!link && (String(getSelection()) !== "" || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey)) return;
    // Before the link or the row opens the monitor: the entry is the list's.
    leaveList(tr.dataset.id);
    if (!link) location.hash = `#/monitors/${encodeURIComponent(tr.dataset.id)}`;
  });
  $("terminate").addEventListener("click", terminate);
  $("confirm-cancel").addEventListener("click", () => $("confirm").close("cancel"));
  $("reason").addEventListener("input", checkReason);
  $("events-older").addEventListener("click", () => {
    const d = state.detail;
    if (!d || !d.history) return;
    d.eventsLimit += EVENT_ROWS;
    renderEvents(d);
  });
  $("purge").addEventListener("click", purge);
  // toggle does not bubble: the history's disclosures are heard on the way down.
  $("events").addEventListener("toggle", onDetailsToggle, true);
  $("start-form").addEventListener("submit", startDemo);
  // The demo form covers the filter box and the list while it is open: it
  // closes on Escape (focus back on its button), on a click elsewhere, and
  // when keyboard focus leaves it.
  const start = $("start");
  start.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && start.open) {
      start.open = false;
      start.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", (e) => {
    if (start.open && !start.contains(e.target)) start.open = false;
  });
  start.addEventListener("focusout", (e) => {
    if (start.open && e.relatedTarget && !start.contains(e.relatedTarget)) start.open = false;
  });
  $("start-form").elements.job_id.value = demoJobId();
  const tl = $("timeline");
  tl.addEventListener("pointermove", (e) => {
    const bar = e.target.closest(".tl-bar");
    if (bar) showTip(bar, e.clientX, e.clientY);
    else hideTip();
  });
  tl.addEventListener("pointerleave", () => { if (!tl.contains(document.activeElement)) hideTip(); });
  // A touch shows no pointer moving over a bar: a tap on one makes it the
  // tab stop and focuses it, which shows its tooltip as the keyboard does.
  tl.addEventListener("pointerup", (e) => {
    const bar = e.pointerType === "touch" && e.target.closest(".tl-bar");
    if (!bar) return;
    const model = state.detail && state.detail.history && state.detail.history.model;
    setTabStop(tl, bar, model);
    bar.focus();
  });
  tl.addEventListener("keydown", onTimelineKey);
  tl.addEventListener("focusin", onTimelineFocus);
  tl.addEventListener("focusout", (e) => { if (!tl.contains(e.relatedTarget)) hideTip(); });
  $("tl-window").addEventListener("change", (e) => {
    state.windowMs = Number(e.target.value);
    renderDetail();
  });
  addEventListener("resize", () => { if (state.detail && state.detail.history) renderDetail(); });
  onRoute(false);
}

init();
