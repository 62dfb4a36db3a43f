// The timeline of one execution: a lane per state, a bar per time the
// state ran, built from GetExecutionHistory events.

import { toDate, clockZone, duration, parseJSON } from "./format.js";

const endTypes = new Set(["ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"]);
const stateEvent = /^(\w+?)State(Entered|Exited)$/;

/**
 * Builds the timeline model from history events.
 * @returns {{start:number, end:number, last:number, ended:string|null, lanes:Array, open:Map}|null}
 */
export function buildTimeline(events, now = Date.now()) {
  return extendTimeline(null, events, now);
}

/**
 * Adds events that came after those model was built from, and returns
 * the model: the same object, changed, so a refresh costs as much as the
 * events it brought, however long the history. A model of null is built
 * from events alone. Events that do not follow the model's last one (an
 * id not above it) cannot be added; the caller builds the model anew from
 * all events instead, which null tells it.
 */
export function extendTimeline(model, events, now = Date.now()) {
  const evs = [];
  for (const e of events) {
    const t = toDate(e.timestamp)?.getTime();
    if (t !== undefined) evs.push({ e, t });
  }
  evs.sort((a, b) => a.e.id - b.e.id);
  if (!model) {
    if (!evs.length) return null;
    model = {
      start: evs[0].t, end: 0, last: evs[0].t, ended: null, endT: null, lastId: -Infinity,
      lanes: [], byName: new Map(), open: new Map(),
      task: null, // the open Task state, which Task* events belong to
    };
  } else if (evs.length && evs[0].e.id <= model.lastId) {
    return null;
  }
  // The spans left open at the last build ran until now; they are open
  // again until an event closes them.
  if (!model.ended) for (const span of model.open.values()) span.end = null;
  for (const { e, t } of evs) addEvent(model, e, t);
  if (evs.length) {
    model.last = evs[evs.length - 1].t;
    model.lastId = evs[evs.length - 1].e.id;
  }
  const end = model.endT ?? Math.max(now, model.last);
  for (const span of model.open.values()) {
    span.end = end;
    span.open = true;
  }
  model.end = Math.max(end, model.start + 1);
  return model;
}

// addEvent adds one event, at time t, to model.
function addEvent(model, e, t) {
  const m = stateEvent.exec(e.type);
  if (m) {
    const kind = m[1].toLowerCase();
    const det = e.stateEnteredEventDetails || e.stateExitedEventDetails || {};
    const name = det.name || m[1];
    if (m[2] === "Entered") {
      let lane = model.byName.get(name);
      if (!lane) {
        lane = { name, kind, spans: [] };
        model.byName.set(name, lane);
        model.lanes.push(lane);
      }
      // The input and output stay JSON text until a tooltip asks for them
      // (spanInput, spanOutput): most are never looked at.
      const span = { name, kind, n: lane.spans.length + 1, start: t, end: null, attempts: 0, failures: [], inputText: det.input, outputText: undefined, fate: "", open: false };
      lane.spans.push(span);
      model.open.set(name, span);
      if (kind === "task") model.task = span;
    } else {
      const span = model.open.get(name);
      if (span) {
        span.end = t;
        span.open = false;
        span.outputText = det.output;
        model.open.delete(name);
        if (span === model.task) model.task = null;
      }
    }
    return;
  }
  const task = model.task;
  if (e.type.startsWith("Task") && task) {
    if (e.type === "TaskScheduled") task.attempts++;
    if (e.type === "TaskFailed" || e.type === "TaskTimedOut") {
      const d = e.taskFailedEventDetails || e.taskTimedOutEventDetails || {};
      task.failures.push([d.error, d.cause].filter(Boolean).join(": ") || e.type);
    }
    return;
  }
  if (endTypes.has(e.type)) {
    model.ended = e.type;
    model.endT = t;
    for (const span of model.open.values()) {
      span.end = t;
      span.open = false;
      span.fate = e.type === "ExecutionSucceeded" ? "" : e.type === "ExecutionAborted" ? "aborted" : "failed";
    }
    model.open.clear();
  }
}

// A span's input and output, parsed once, when first asked for.
const parsed = new WeakMap();

function spanJSON(span) {
  let p = parsed.get(span);
  if (!p || p.outputText !== span.outputText) {
    p = { input: parseJSON(span.inputText), output: parseJSON(span.outputText), outputText: span.outputText };
    parsed.set(span, p);
  }
  return p;
}

/** Moves a running execution's model on to now, without rebuilding it. */
export function advance(model, now = Date.now()) {
  if (!model || model.ended) return;
  const end = Math.max(now, model.last);
  for (const span of model.open.values()) span.end = end;
  model.end = Math.max(end, model.start + 1);
}

const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];

function tickStep(total, want) {
  const raw = total / want;
  return steps.find((s) => s >= raw) || Math.ceil(raw / 864e5) * 864e5;
}

function offsetLabel(ms, step) {
  if (ms === 0) return "0";
  if (step < 100) return `+${ms}ms`;
  if (step < 1000) return `+${(ms / 1000).toFixed(1)}s`;
  return "+" + duration(ms).replace(/ /g, "").replace(/^(\d+)s$/, "$1s");
}

function spanClass(span) {
  const c = ["tl-bar", span.kind];
  const sent = alertOutcome(span);
  if (span.fate === "failed" || (span.open && span.failures.length) || (sent && sent.failed)) c.push("failed");
  else if (span.failures.length || (sent && sent.retry)) c.push("retried");
  if (span.open) c.push("open");
  return c.join(" ");
}

// alertOutcome is what an alert task's run (a task on a state whose check
// met the condition) did with its send, from the workflow state it
// returned: sent or not ({text, failed, retry}), or null for any other span. A send that failed and is retried after a wait
// returns normally (alertRetry), as does one that failed the monitor (its
// output's alert_status): neither is a task failure, yet neither was
// sent.
function alertOutcome(span) {
  if (span.kind !== "task" || span.open) return null;
  const { input, output } = spanJSON(span);
  // An alert task runs on a state whose check met the condition.
  if (!input || !input.check || !input.check.conditionMet || !output || typeof output !== "object") return null;
  const retry = output.alertRetry;
  if (retry && retry.waitSeconds > 0) {
    return { text: `not sent; retry ${retry.retries} after ${duration(retry.waitSeconds * 1000)}`, retry: true };
  }
  const status = output.check && output.check.output && output.check.output.alert_status;
  if (!status) return null;
  return { text: status, failed: status === "failed" };
}

/** The tooltip text of a span, as [label, value] pairs after a title. */
export function describe(span, model) {
  const rows = [];
  const title = span.kind === "task" || lanesWithOrdinal.has(span.name) ? `${span.name} #${span.n}` : span.name;
  rows.push(["Type", span.kind[0].toUpperCase() + span.kind.slice(1)]);
  rows.push(["Started", `${clockZone(new Date(span.start), true)} (+${duration(span.start - model.start)})`]);
  rows.push(["Duration", duration(span.end - span.start) + (span.open ? " so far" : "")]);
  const { input, output } = spanJSON(span);
  const out = output && typeof output === "object" ? output : null;
  const inp = input && typeof input === "object" ? input : null;
  if (span.kind === "task" && out && out.check) {
    // A run of the Check state that found the monitor past its timeout
    // ends it without checking: its count is the last check's.
    if (out.check.expired) rows.push(["Outcome", "expired: the timeout came first, no check ran"]);
    if (out.check.status) rows.push(["Job status", out.check.status]);
    if (out.check.checkCount) rows.push(["Check count", String(out.check.checkCount)]);
  }
  const sent = alertOutcome(span);
  if (sent) rows.push(["Alert", sent.text]);
  if (span.kind === "wait" && inp) {
    // An alert's retry waits its waitSeconds; a poll's wait until the next check.
    const retry = inp.alertRetry && inp.alertRetry.waitSeconds > 0 ? inp.alertRetry : null;
    const until = retry ? new Date(span.start + retry.waitSeconds * 1000) : toDate(inp.check && inp.check.nextCheckAt);
    if (until) rows.push(["Until", clockZone(until)]);
  }
  if (span.attempts > 1) rows.push(["Attempts", String(span.attempts)]);
  for (const f of span.failures.slice(-2)) rows.push(["Error", f.length > 160 ? f.slice(0, 160) + "…" : f]);
  if (span.fate === "aborted") rows.push(["Ended", "execution stopped"]);
  if (span.fate === "failed") rows.push(["Ended", "execution failed"]);
  if (span.open) rows.push(["State", "running"]);
  return { title, rows };
}

// States that repeat and read better numbered.
const lanesWithOrdinal = new Set(["Check", "Wait", "Evaluate", "AlertOutcome", "AlertRetryWait"]);

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

/** Sets an attribute unless it already has the value, so that nothing changes. */
function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
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
  setAttr(bar, "tabindex", "0");
  setAttr(bar, "role", "img");
  const span = spanOf.get(bar);
  if (span && model) setAttr(bar, "aria-label", barLabel(span, model));
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

// What was drawn into a container, for drawing it again in place.
const drawnIn = new WeakMap();

// Bars, grid lines and ticks sit on a scale: an element per track (and
// one on the axis) that stands for a fixed stretch of time, span ms from
// base, in which they are placed once, in percent. Moving the window on,
// or letting it grow, moves and stretches the scales alone, not every bar.
// A scale is drawn anew once it would be too small or too far off.
const pctOf = (x) => `${(x * 100).toFixed(4)}%`;

function placeScale(st, node, from, total) {
  setStyle(node, "left", pctOf((st.base - from) / total));
  setStyle(node, "width", pctOf(st.span / total));
}

function setStyle(node, prop, value) {
  if (node.style[prop] !== value) node.style[prop] = value;
}

function axisTicks(model, from, total, trackPx) {
  const step = tickStep(total, Math.max(3, Math.floor(trackPx / 90)));
  const ticks = []; // offsets from the start of the execution
  for (let o = Math.ceil((from - model.start) / step) * step; model.start + o <= model.end; o += step) ticks.push(o);
  return { step, ticks };
}

function drawTicks(st, model, from) {
  const { step, ticks } = st.axis;
  st.axisScale.replaceChildren();
  for (const o of ticks) {
    const tick = el("span", "tl-tick", offsetLabel(o, step));
    tick.style.left = pctOf((model.start + o - st.base) / st.span);
    if (model.start + o === from) tick.classList.add("first");
    tick.title = clockZone(new Date(model.start + o), step < 1000);
    st.axisScale.append(tick);
  }
}

function gridLines(st, model, from) {
  const lines = [];
  for (const o of st.axis.ticks) {
    if (model.start + o === from) continue;
    const g = el("span", "tl-grid");
    g.style.left = pctOf((model.start + o - st.base) / st.span);
    lines.push(g);
  }
  return lines;
}

function newLane(st, lane, model, from) {
  const row = el("div", "tl-lane");
  row.dataset.lane = lane.name;
  const name = el("div", "tl-name", lane.name);
  const track = el("div", "tl-track");
  const scale = el("div", "tl-scale");
  const grid = gridLines(st, model, from);
  scale.append(...grid);
  track.append(scale);
  row.append(name, track);
  return { row, name, track, scale, grid, now: null, bars: new Map() };
}

// syncBar makes a bar show span, changing only what differs.
function syncBar(st, b, span, model, from, total) {
  const cls = spanClass(span);
  if (b.cls !== cls) b.bar.className = b.cls = cls;
  if (b.start !== span.start) {
    b.start = span.start;
    b.bar.style.left = pctOf((span.start - st.base) / st.span);
  }
  if (b.end !== span.end) {
    b.end = span.end;
    b.bar.style.width = pctOf((span.end - span.start) / st.span);
  }
  const px = ((span.end - Math.max(span.start, from)) / total) * st.trackPx;
  let text = "";
  if (span.kind === "task" && px > 26) text = `#${span.n}`;
  else if (span.kind === "wait" && px > 44) text = duration(span.end - span.start);
  if (b.text !== text) b.bar.textContent = b.text = text;
  spanOf.set(b.bar, span);
}

// LABEL_PX is the width of a lane's name beside its track.
const LABEL_PX = 110;
// ENDED_ROOM_PX is the room an ended execution's timeline leaves after
// its end: a bar's least width (its padding and min-width) and a gap.
const ENDED_ROOM_PX = 12;

/**
 * Draws the model into container. windowMs > 0 shows only the last
 * windowMs of the execution. The bar of the span whose key is active
 * (else the latest of the first lane) is the tab stop; it is returned.
 *
 * With keep, what the last call drew stays and only what differs changes:
 * new bars are added, the open ones and the now-line move, bars that left
 * the window go, and the scales move and stretch. The caller keeps it for
 * the same execution, window and width; anything else is drawn anew,
 * replacing what was there.
 */
export function renderTimeline(container, model, { now = Date.now(), empty = "No state has run yet.", windowMs = 0, active = "", keep = false } = {}) {
  if (!model || !model.lanes.length) {
    drawnIn.delete(container);
    if (container.textContent !== empty) container.replaceChildren(el("p", "tl-empty", empty));
    setAttr(container, "aria-label", `Timeline: ${empty}`);
    return null;
  }
  const from = windowMs > 0 && model.end - model.start > windowMs ? model.end - windowMs : model.start;
  // An ended execution's last bars start at its end: the scale runs on
  // ENDED_ROOM_PX past it, so that they show whole (the red one that
  // ended it was cut to a sliver at the track's edge).
  const room = model.ended ? ((model.end - from) * ENDED_ROOM_PX) / Math.max(100, container.clientWidth - LABEL_PX - ENDED_ROOM_PX) : 0;
  const total = model.end - from + room;
  let st = keep ? drawnIn.get(container) : null;
  // Lanes only ever come after the ones drawn; a model that lost one is
  // drawn anew, as is one that outgrew its scales fourfold.
  if (st && (st.start !== model.start || model.end - st.base > 4 * st.span || st.order.some((name, i) => model.lanes[i]?.name !== name))) st = null;
  const fresh = !st;
  const frag = fresh ? document.createDocumentFragment() : null;
  if (fresh) {
    st = { start: model.start, base: from, span: total, trackPx: Math.max(100, container.clientWidth - LABEL_PX), order: [], lanes: new Map(), gen: 0 };
    drawnIn.set(container, st);
    const axis = el("div", "tl-axis");
    axis.setAttribute("aria-hidden", "true");
    st.axisScale = el("div", "tl-scale");
    axis.append(st.axisScale);
    frag.append(axis);
  }
  placeScale(st, st.axisScale, from, total);

  // The ticks and grid lines change only when the ticks do.
  const axis = axisTicks(model, from, total, st.trackPx);
  const axisKey = `${axis.step}|${axis.ticks.join(",")}|${axis.ticks[0] === from - model.start}`;
  const newAxis = st.axisKey !== axisKey;
  if (newAxis) {
    st.axis = axis;
    st.axisKey = axisKey;
    drawTicks(st, model, from);
  }

  st.gen++;
  let match = null; // the active span's bar
  let latest = null; // the latest bar of the first lane that has one
  for (const lane of model.lanes) {
    let ls = st.lanes.get(lane.name);
    if (!ls) {
      ls = newLane(st, lane, model, from);
      st.lanes.set(lane.name, ls);
      st.order.push(lane.name);
      (frag || container).append(ls.row);
    } else if (newAxis) {
      for (const g of ls.grid) g.remove();
      ls.grid = gridLines(st, model, from);
      ls.scale.prepend(...ls.grid);
    }
    placeScale(st, ls.scale, from, total);
    setAttr(ls.name, "title", `${lane.name} (${lane.kind}), ${lane.spans.length}×`);
    let laneLatest = null;
    let seen = 0;
    for (const span of lane.spans) {
      const key = spanKey(span);
      let b = ls.bars.get(key);
      if (span.end < from) {
        if (b) {
          b.bar.remove();
          ls.bars.delete(key);
        }
        continue;
      }
      if (!b) {
        b = { bar: el("div"), cls: "", start: NaN, end: NaN, text: "" };
        b.bar.dataset.kind = span.kind;
        ls.bars.set(key, b);
        syncBar(st, b, span, model, from, total);
        ls.scale.append(b.bar);
      } else {
        syncBar(st, b, span, model, from, total);
      }
      b.gen = st.gen;
      seen++;
      if (active && key === active) match = b.bar;
      laneLatest = b.bar;
    }
    if (ls.bars.size > seen) {
      // Spans the model no longer has.
      for (const [key, b] of ls.bars) {
        if (b.gen === st.gen) continue;
        b.bar.remove();
        ls.bars.delete(key);
      }
    }
    if (!latest) latest = laneLatest;
    if (!model.ended) {
      if (!ls.now) ls.track.append((ls.now = el("span", "tl-now")));
      setStyle(ls.now, "left", pctOf((Math.min(now, model.end) - from) / total));
    } else if (ls.now) {
      ls.now.remove();
      ls.now = null;
    }
  }
  const stop = match || latest;
  if (fresh) container.replaceChildren(frag);
  setTabStop(container, stop, model);
  const parts = model.lanes.map((l) => `${l.name} ${l.spans.length}×`).join(", ");
  const scope = from > model.start ? `last ${duration(model.end - from)} of ${duration(model.end - model.start)}` : duration(model.end - from);
  setAttr(container, "aria-label", `Timeline over ${scope}: ${parts}${model.ended ? "" : ", still running"}`);
  return stop;
}
