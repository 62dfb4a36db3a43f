// The timeline of one execution: a lane per state, a bar per time the
// state ran, built from GetExecutionHistory events.

import { toDate, clock, duration, parseJSON } from "./format.js";

const endTypes = new Set(["ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"]);
const stateEvent = /^(\w+?)State(Entered|Exited)$/;

/**
 * Builds the timeline model from history events.
 * @returns {{start:number, end:number, ended:string|null, lanes:Array, counts:Object}|null}
 */
export function buildTimeline(events, now = Date.now()) {
  const evs = events
    .map((e) => ({ e, t: toDate(e.timestamp)?.getTime() }))
    .filter((x) => x.t !== undefined)
    .sort((a, b) => a.e.id - b.e.id);
  if (!evs.length) return null;
  const start = evs[0].t;
  const lanes = new Map();
  const open = new Map();
  let task = null; // the open Task state, which Task* events belong to
  let ended = null;
  let endT = null;
  for (const { e, t } of evs) {
    const m = stateEvent.exec(e.type);
    if (m) {
      const kind = m[1].toLowerCase();
      const det = e.stateEnteredEventDetails || e.stateExitedEventDetails || {};
      const name = det.name || m[1];
      if (m[2] === "Entered") {
        let lane = lanes.get(name);
        if (!lane) lanes.set(name, (lane = { name, kind, spans: [] }));
        const span = { name, kind, n: lane.spans.length + 1, start: t, end: null, attempts: 0, failures: [], input: parseJSON(det.input), output: null, fate: "" };
        lane.spans.push(span);
        open.set(name, span);
        if (kind === "task") task = span;
      } else {
        const span = open.get(name);
        if (span) {
          span.end = t;
          span.output = parseJSON(det.output);
          open.delete(name);
          if (span === task) task = null;
        }
      }
      continue;
    }
    if (e.type.startsWith("Task") && task) {
      if (e.type === "TaskScheduled") task.attempts++;
      if (e.type === "TaskFailed" || e.type === "TaskTimedOut") {
        const d = e.taskFailedEventDetails || e.taskTimedOutEventDetails || {};
        task.failures.push([d.error, d.cause].filter(Boolean).join(": ") || e.type);
      }
      continue;
    }
    if (endTypes.has(e.type)) {
      ended = e.type;
      endT = t;
      for (const span of open.values()) {
        span.end = t;
        span.fate = e.type === "ExecutionSucceeded" ? "" : e.type === "ExecutionAborted" ? "aborted" : "failed";
      }
      open.clear();
    }
  }
  const last = evs[evs.length - 1].t;
  const end = endT ?? Math.max(now, last);
  for (const span of open.values()) {
    span.end = end;
    span.open = true;
  }
  const counts = {};
  for (const lane of lanes.values()) counts[lane.name] = lane.spans.length;
  return { start, end: Math.max(end, start + 1), last, ended, lanes: [...lanes.values()], counts, open: [...open.values()] };
}

/** Moves a running execution's model on to now, without rebuilding it. */
export function advance(model, now = Date.now()) {
  if (!model || model.ended) return;
  const end = Math.max(now, model.last);
  for (const span of model.open) span.end = end;
  model.end = Math.max(end, model.start + 1);
}

const steps = [100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];

function tickStep(total, want) {
  const raw = total / want;
  return steps.find((s) => s >= raw) || Math.ceil(raw / 864e5) * 864e5;
}

function offsetLabel(ms, step) {
  if (ms === 0) return "0";
  if (step < 1000) return `+${(ms / 1000).toFixed(1)}s`;
  return "+" + duration(ms).replace(/ /g, "").replace(/^(\d+)s$/, "$1s");
}

function spanClass(span) {
  const c = ["tl-bar", span.kind];
  if (span.fate === "failed" || (span.open && span.failures.length)) c.push("failed");
  else if (span.failures.length) c.push("retried");
  if (span.open) c.push("open");
  return c.join(" ");
}

/** The tooltip text of a span, as [label, value] pairs after a title. */
export function describe(span, model) {
  const rows = [];
  const title = span.kind === "task" || lanesWithOrdinal.has(span.name) ? `${span.name} #${span.n}` : span.name;
  rows.push(["Type", span.kind[0].toUpperCase() + span.kind.slice(1)]);
  rows.push(["Started", `${clock(new Date(span.start), true)} (+${duration(span.start - model.start)})`]);
  rows.push(["Duration", duration(span.end - span.start) + (span.open ? " so far" : "")]);
  const out = span.output && typeof span.output === "object" ? span.output : null;
  const inp = span.input && typeof span.input === "object" ? span.input : null;
  if (span.kind === "task" && out && out.check) {
    if (out.check.status) rows.push(["Job status", out.check.status]);
    if (out.check.checkCount) rows.push(["Check count", String(out.check.checkCount)]);
  }
  if (span.kind === "wait" && inp && inp.check && inp.check.nextCheckAt) {
    rows.push(["Until", clock(toDate(inp.check.nextCheckAt))]);
  }
  if (span.attempts > 1) rows.push(["Attempts", String(span.attempts)]);
  for (const f of span.failures.slice(-2)) rows.push(["Error", f.length > 160 ? f.slice(0, 160) + "…" : f]);
  if (span.fate === "aborted") rows.push(["Ended", "execution stopped"]);
  if (span.fate === "failed") rows.push(["Ended", "execution failed"]);
  if (span.open) rows.push(["State", "running"]);
  return { title, rows };
}

// States that repeat and read better numbered.
const lanesWithOrdinal = new Set(["Check", "Wait", "Evaluate"]);

const spanOf = new WeakMap();

/** The span a timeline bar element stands for. */
export const barSpan = (el) => spanOf.get(el);

/** A span's key, which stays the same when the timeline is drawn again. */
export const spanKey = (span) => `${span.name}#${span.n}`;

/** The text a screen reader announces for a bar: its tooltip in one line. */
export function barLabel(span, model) {
  const { title, rows } = describe(span, model);
  return [title, ...rows.map(([k, v]) => `${k}: ${v}`)].join(", ");
}

/**
 * Makes bar the timeline's one tab stop (a roving tabindex): the other
 * bars take focus only through the arrow keys.
 */
export function setTabStop(container, bar, model) {
  for (const old of container.querySelectorAll(".tl-bar[tabindex]")) {
    if (old === bar) continue;
    old.removeAttribute("tabindex");
    old.removeAttribute("role");
    old.removeAttribute("aria-label");
  }
  if (!bar) return;
  bar.tabIndex = 0;
  bar.setAttribute("role", "img");
  const span = spanOf.get(bar);
  if (span && model) bar.setAttribute("aria-label", barLabel(span, model));
}

const isBar = (n) => n && n.classList.contains("tl-bar");

/**
 * The bar the key moves to from bar: Left and Right the previous and next
 * time in the lane, Home and End the first and last, Up and Down the time
 * nearest in the lane above or below. null when there is none.
 */
export function neighbour(bar, key) {
  const track = bar.parentElement;
  const bars = () => [...track.children].filter(isBar);
  switch (key) {
    case "ArrowLeft": {
      const p = bar.previousElementSibling;
      return isBar(p) ? p : null;
    }
    case "ArrowRight": {
      const n = bar.nextElementSibling;
      return isBar(n) ? n : null;
    }
    case "Home": return bars()[0] || null;
    case "End": return bars().pop() || null;
    case "ArrowUp":
    case "ArrowDown": {
      let lane = track.closest(".tl-lane");
      const span = spanOf.get(bar);
      for (;;) {
        lane = key === "ArrowUp" ? lane.previousElementSibling : lane.nextElementSibling;
        if (!lane || !lane.classList.contains("tl-lane")) return null;
        let best = null;
        let gap = Infinity;
        for (const b of lane.querySelectorAll(".tl-bar")) {
          const d = Math.abs(spanOf.get(b).start - span.start);
          if (d < gap) { best = b; gap = d; }
        }
        if (best) return best;
      }
    }
  }
  return null;
}

function el(tag, cls, text) {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

/**
 * Draws the model into container, replacing what was there. windowMs > 0
 * shows only the last windowMs of the execution. The bar of the span
 * whose key is active (else the latest of the first lane) is the tab
 * stop; it is returned.
 */
export function renderTimeline(container, model, { now = Date.now(), empty = "No state has run yet.", windowMs = 0, active = "" } = {}) {
  if (!model || !model.lanes.length) {
    if (container.textContent !== empty) container.replaceChildren(el("p", "tl-empty", empty));
    container.setAttribute("aria-label", `Timeline: ${empty}`);
    return null;
  }
  const from = windowMs > 0 && model.end - model.start > windowMs ? model.end - windowMs : model.start;
  const total = model.end - from;
  const pct = (t) => `${(((Math.max(t, from) - from) / total) * 100).toFixed(3)}%`;
  const labelWidth = 110;
  const trackPx = Math.max(100, container.clientWidth - labelWidth);
  const step = tickStep(total, Math.max(3, Math.floor(trackPx / 90)));
  const frag = document.createDocumentFragment();

  const axis = el("div", "tl-axis");
  axis.setAttribute("aria-hidden", "true");
  const ticks = []; // offsets from the start of the execution
  for (let o = Math.ceil((from - model.start) / step) * step; model.start + o <= model.end; o += step) ticks.push(o);
  for (const o of ticks) {
    const tick = el("span", "tl-tick", offsetLabel(o, step));
    tick.style.left = pct(model.start + o);
    if (model.start + o === from) tick.classList.add("first");
    tick.title = clock(new Date(model.start + o), step < 1000);
    axis.append(tick);
  }
  frag.append(axis);

  let shown = 0;
  let match = null; // the active span's bar
  let latest = null; // the latest bar of the first lane that has one
  for (const lane of model.lanes) {
    const row = el("div", "tl-lane");
    row.dataset.lane = lane.name;
    const name = el("div", "tl-name", lane.name);
    name.title = `${lane.name} (${lane.kind}), ${lane.spans.length}×`;
    const track = el("div", "tl-track");
    for (const o of ticks) {
      if (model.start + o === from) continue;
      const g = el("span", "tl-grid");
      g.style.left = pct(model.start + o);
      track.append(g);
    }
    for (const span of lane.spans) {
      if (span.end < from) continue;
      const start = Math.max(span.start, from);
      const bar = el("div", spanClass(span));
      bar.style.left = pct(start);
      bar.style.width = `${(((span.end - start) / total) * 100).toFixed(3)}%`;
      const px = ((span.end - start) / total) * trackPx;
      if (span.kind === "task" && px > 26) bar.textContent = `#${span.n}`;
      else if (span.kind === "wait" && px > 44) bar.textContent = duration(span.end - span.start);
      bar.dataset.kind = span.kind;
      spanOf.set(bar, span);
      track.append(bar);
      shown++;
      if (active && spanKey(span) === active) match = bar;
      if (!latest || latest.parentElement === track) latest = bar;
    }
    if (!model.ended) {
      const line = el("span", "tl-now");
      line.style.left = pct(Math.min(now, model.end));
      track.append(line);
    }
    row.append(name, track);
    frag.append(row);
  }
  const stop = match || latest;
  container.replaceChildren(frag);
  setTabStop(container, stop, model);
  const parts = model.lanes.map((l) => `${l.name} ${l.spans.length}×`).join(", ");
  const scope = from > model.start ? `last ${duration(total)} of ${duration(model.end - model.start)}` : duration(total);
  container.setAttribute("aria-label", `Timeline over ${scope}: ${parts}${model.ended ? "" : ", still running"}`);
  return stop;
}
