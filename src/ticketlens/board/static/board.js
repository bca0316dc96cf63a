// ticketlens triage board: polls the JSON API and builds the DOM from text nodes only.
// No innerHTML anywhere: whatever a customer wrote stays text.
"use strict";

const REFRESH_MS = 2000;
const SLOW_REFRESH_MS = 10000;
const COLORS = {
  urgency: { critical: "#c62828", high: "#ef6c00", medium: "#f9a825", low: "#90a4ae" },
  sentiment: { NEGATIVE: "#d84315", NEUTRAL: "#90a4ae", POSITIVE: "#2e7d32" },
};
const PALETTE = ["#1565c0", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#283593", "#ff8f00", "#37474f",
  "#00695c", "#8e24aa", "#c0ca33"];

// -- DOM helpers ------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const $ = (id) => document.getElementById(id);

function pct(value) {
  return typeof value === "number" ? value.toFixed(2) : "–";
}

function when(seconds) {
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function ago(seconds) {
  const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function ticketHref(id) {
  return "/ticket?" + new URLSearchParams({ id }).toString();
}

function badge(kind, value, confidence) {
  return h("span", { class: `badge ${kind} ${kind}-${value}`, title: confidence === undefined ? null : `confidence ${pct(confidence)}` },
    String(value), confidence === undefined ? null : h("span", { class: "conf" }, pct(confidence)));
}

async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.hidden = false;
  box.replaceChildren(String(error.message || error));
}

function markers(ticket) {
  const out = [];
  if (ticket.duplicate_of) out.push(h("span", { class: "marker" }, "duplicate of ", String(ticket.duplicate_of)));
  if (ticket.incident) out.push(h("span", { class: "marker incident" }, "incident ", String(incidentName(ticket.incident))));
  return out;
}

function incidentName(incident) {
  if (incident && typeof incident === "object") return incident.title || incident.id || incident.incident_id || JSON.stringify(incident);
  return incident;
}

// -- the board ----------------------------------------------------------------------------
const state = { meta: null, busy: false, slowBusy: false, lastTickets: [] };

function filterParams() {
  const form = $("filters");
  const params = new URLSearchParams();
  for (const name of ["intent", "urgency", "sentiment", "max_confidence"]) {
    const value = form.elements[name].value;
    if (value) params.set(name, value);
  }
  return params;
}

function fillSelect(select, values) {
  for (const value of values) select.append(h("option", { value }, value));
}

async function initBoard() {
  state.meta = await api("/api/meta");
  fillSelect($("f-intent"), state.meta.intents);
  fillSelect($("f-urgency"), state.meta.urgencies);
  fillSelect($("f-sentiment"), state.meta.sentiments);
  fillSelect($("chart-window"), state.meta.windows);
  // Filters live in the address, so a filtered view can be bookmarked or shared.
  const initial = new URLSearchParams(location.search);
  const form = $("filters");
  for (const name of ["intent", "urgency", "sentiment", "max_confidence", "q"]) {
    if (initial.has(name)) form.elements[name].value = initial.get(name);
  }
  form.addEventListener("change", () => { saveFilters(); refresh(); });
  form.addEventListener("submit", (event) => event.preventDefault());
  $("f-text").addEventListener("input", () => { saveFilters(); renderTickets(state.lastTickets); });
  $("urgent-window").addEventListener("change", refresh);
  $("chart-window").addEventListener("change", refreshSlow);
  $("dlq-peek").addEventListener("click", peekDeadLetters);
  await refresh();
  await refreshSlow();
  setInterval(refresh, REFRESH_MS);
  setInterval(refreshSlow, SLOW_REFRESH_MS);
}

function saveFilters() {
  const params = filterParams();
  const text = $("f-text").value.trim();
  if (text) params.set("q", text);
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

async function refresh() {
  if (state.busy) return;
  state.busy = true;
  try {
    const hours = $("urgent-window").value;
    const [tickets, urgent, status] = await Promise.all([
      api(`/api/tickets?${filterParams().toString()}`),
      api(`/api/urgent?hours=${encodeURIComponent(hours)}&limit=20`),
      api("/api/status"),
    ]);
    state.lastTickets = tickets.tickets;
    renderTickets(tickets.tickets, tickets);
    renderUrgent(urgent.tickets);
    renderStatus(status);
    $("updated").replaceChildren(`updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.loaded = "true";
    showError(null);
  } catch (error) {
    showError(error);
  } finally {
    state.busy = false;
  }
}

async function refreshSlow() {
  if (state.slowBusy) return;
  state.slowBusy = true;
  try {
    const [counts, rejects, incidents] = await Promise.all([
      api(`/api/counts?window=${encodeURIComponent($("chart-window").value || "1h")}`),
      api("/api/rejects?limit=10"),
      api("/api/incidents?hours=24&limit=10"),
    ]);
    renderCharts(counts);
    renderRejects(rejects);
    renderIncidents(incidents);
  } catch (error) {
    showError(error);
  } finally {
    state.slowBusy = false;
  }
}

function renderStatus(status) {
  const q = status.queue, d = status.dlq;
  $("status").replaceChildren(
    h("span", { class: "live" }, "live"),
    ` queue ${q.visible} waiting · ${q.in_flight} in flight · `,
    h("span", { class: d.visible > 0 ? "dlq-alert" : "" }, `dead letters ${d.visible}`),
  );
  $("dlq-depth").replaceChildren(`${d.visible} message(s) in ${d.name}`);
}

function renderTickets(tickets, page) {
  const text = $("f-text").value.trim().toLowerCase();
  const shown = text
    ? tickets.filter((t) => [t.subject, t.summary, t.ticket_id].some((v) => String(v || "").toLowerCase().includes(text)))
    : tickets;
  const rows = shown.map((t) => h("tr", {
    dataset: { ticketId: t.ticket_id, urgency: t.urgency, intent: t.intent, sentiment: t.sentiment, createdAt: String(t.created_at) },
  },
  h("td", { class: "when", title: when(t.created_at) }, `${ago(t.created_at)} ago`),
  h("td", {}, badge("urgency", t.urgency, t.urgency_confidence)),
  h("td", {}, badge("intent", t.intent, t.intent_confidence)),
  h("td", {}, badge("sentiment", t.sentiment, t.sentiment_confidence)),
  h("td", { class: "what" },
    h("a", { href: ticketHref(t.ticket_id), class: "subject" }, t.subject || "(no subject)"),
    h("div", { class: "summary" }, t.summary || ""),
    h("div", { class: "id" }, t.ticket_id, t.priority ? ` · customer says ${t.priority}` : "", markers(t)))));
  $("tickets").tBodies[0].replaceChildren(...rows);
  if (page) {
    const note = [];
    if (!page.complete) note.push(`searched the newest ${page.items_read} tickets on ${page.index}; older matches may exist`);
    state.note = note.join(" ");
  }
  $("newest-note").replaceChildren(
    `${shown.length} shown${text ? ` (of ${tickets.length} loaded)` : ""}${state.note ? " · " + state.note : ""}`);
}

function renderUrgent(tickets) {
  const items = tickets.map((t) => h("li", { dataset: { ticketId: t.ticket_id, urgency: t.urgency, createdAt: String(t.created_at) } },
    badge("urgency", t.urgency, t.urgency_confidence),
    h("span", { class: "wait", title: when(t.created_at) }, `${ago(t.created_at)} old`),
    h("a", { href: ticketHref(t.ticket_id) }, t.subject || t.summary || t.ticket_id),
    h("div", { class: "summary" }, t.summary || ""),
    markers(t)));
  $("urgent-list").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "nothing critical or high in this window")]));
}

function renderIncidents(data) {
  const items = data.incidents.map((i) => {
    const first = i.first_ticket;
    return h("li", { dataset: { incident: i.incident, tickets: String(i.tickets) } },
      h("strong", {}, i.incident),
      ` ${i.tickets} ticket${i.tickets === 1 ? "" : "s"} · ${when(i.first_hour).slice(11, 16)}–${when(i.last_hour + 3600).slice(11, 16)} UTC`,
      first ? h("div", { class: "summary" },
        badge("intent", first.intent, first.intent_confidence), " ",
        h("a", { href: ticketHref(first.ticket_id) }, first.subject || first.summary || first.ticket_id),
        h("div", {}, first.summary || "")) : null);
  });
  $("incidents-list").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "no incidents in the last 24 hours")]));
}

function renderRejects(data) {
  $("rejects-total").replaceChildren(`${data.total} kept`);
  const items = data.rejects.map((r) => h("li", { class: "reject" },
    h("div", { class: "where" }, r.where),
    h("div", { class: "reason" }, r.reason),
    h("div", { class: "id" }, `${String(r.recorded_at).slice(0, 19).replace("T", " ")} · ${r.raw_size ?? "?"} bytes`)));
  $("rejects-list").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "no rejects")]));
}

async function peekDeadLetters() {
  try {
    const data = await api("/api/dlq?limit=10");
    renderStatus(data);
    const items = data.messages.map((m) => h("li", {},
      h("div", { class: "where" }, m.object),
      h("div", { class: "id" }, `sent ${m.sent} · received ${m.receives} times · ${m.message_id}`)));
    $("dlq-list").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "empty")]));
  } catch (error) {
    showError(error);
  }
}

// -- charts: stacked bars per time bucket, drawn as SVG ------------------------------------
function renderCharts(counts) {
  for (const dimension of ["urgency", "sentiment", "intent"]) {
    drawChart($(`chart-${dimension}`), dimension, counts);
  }
  const note = `${counts.total} tickets since ${when(counts.since)}, ${counts.bucket_s / 60}-minute bars`;
  $("chart-note").replaceChildren(note);
}

function colorOf(dimension, value, index) {
  return (COLORS[dimension] && COLORS[dimension][value]) || PALETTE[index % PALETTE.length];
}

function drawChart(figure, dimension, counts) {
  const series = counts.series[dimension];
  const values = Object.keys(series);
  const n = counts.buckets.length;
  const totals = counts.buckets.map((_, i) => values.reduce((sum, v) => sum + series[v][i], 0));
  const max = Math.max(1, ...totals);
  const W = 360, H = 140, left = 28, bottom = 18, top = 6;
  const barW = (W - left) / n;
  const scale = (H - bottom - top) / max;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `tickets by ${dimension}`, class: "bars" });
  chart.append(svg("text", { x: left - 4, y: top + 8, "text-anchor": "end", class: "axis" }, String(max)));
  chart.append(svg("text", { x: left - 4, y: H - bottom, "text-anchor": "end", class: "axis" }, "0"));
  chart.append(svg("line", { x1: left, y1: H - bottom, x2: W, y2: H - bottom, class: "baseline" }));
  counts.buckets.forEach((start, i) => {
    let y = H - bottom;
    values.forEach((value, k) => {
      const count = series[value][i];
      if (!count) return;
      const height = count * scale;
      y -= height;
      chart.append(svg("rect", { x: left + i * barW + 0.5, y, width: Math.max(1, barW - 1), height, fill: colorOf(dimension, value, k) },
        svg("title", {}, `${value}: ${count} (${when(start)})`)));
    });
  });
  for (const [i, anchor] of [[0, "start"], [Math.floor(n / 2), "middle"], [n - 1, "end"]]) {
    const label = new Date(counts.buckets[i] * 1000);
    const text = counts.bucket_s >= 86400 / 4 ? label.toLocaleDateString() : label.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const x = anchor === "end" ? left + (i + 1) * barW : anchor === "middle" ? left + (i + 0.5) * barW : left + i * barW;
    chart.append(svg("text", { x, y: H - 4, class: "axis", "text-anchor": anchor }, text));
  }
  const legend = h("ul", { class: "legend" }, values.map((value, k) => {
    const total = series[value].reduce((a, b) => a + b, 0);
    return h("li", {}, h("span", { class: "swatch", style: null, dataset: { color: colorOf(dimension, value, k) } }), `${value} ${total}`);
  }));
  const caption = figure.querySelector("figcaption");
  figure.replaceChildren(caption, chart, legend);
  // Swatch colours through the CSSOM (the CSP forbids inline style attributes).
  for (const swatch of legend.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.color;
}

// -- a ticket's page ----------------------------------------------------------------------
async function initTicket() {
  const id = new URLSearchParams(location.search).get("id") || "";
  const main = $("ticket");
  try {
    const data = await api(`/api/ticket?${new URLSearchParams({ id }).toString()}`);
    renderTicket(main, data);
    document.title = `ticketlens · ${data.ticket.ticket_id}`;
    document.body.dataset.loaded = "true";
  } catch (error) {
    main.replaceChildren(h("p", { class: "note" }, `ticket ${id}: ${error.message}`));
    document.body.dataset.loaded = "error";
  }
}

function renderTicket(main, data) {
  const t = data.ticket, e = t.enrichment || {}, u = data.urgency;
  const meta = t.metadata || {};
  const sections = [
    h("h2", { class: "subject", id: "ticket-subject" }, t.subject || "(no subject)"),
    h("p", { class: "badges" },
      badge("urgency", e.urgency, e.urgency_confidence), " ",
      badge("intent", e.intent, e.intent_confidence), " ",
      badge("sentiment", e.sentiment, e.sentiment_confidence),
      t.priority ? h("span", { class: "marker" }, `customer priority ${t.priority}`) : null),
    h("dl", { class: "facts" },
      h("dt", {}, "ticket"), h("dd", { id: "ticket-id" }, t.ticket_id),
      h("dt", {}, "created"), h("dd", {}, when(t.created_at)),
      h("dt", {}, "customer"), h("dd", {}, t.customer_id),
      h("dt", {}, "source"), h("dd", {}, `${meta.source || "unknown"} · ${meta.language || ""}`),
      h("dt", {}, "summary"), h("dd", { id: "ticket-summary" }, e.summary || ""),
      h("dt", {}, "processed"), h("dd", {}, `${e.processed_at || ""} · ${e.model_version || ""}`)),
    h("h3", {}, "Message"),
    h("pre", { class: "body", id: "ticket-body" }, t.body || "(no body)"),
    explainUrgency(u),
    related(t),
    h("details", {}, h("summary", {}, "full record (JSON; the embedding as its size)"),
      h("pre", { class: "json" }, JSON.stringify(t, null, 2))),
  ];
  main.replaceChildren(...sections.filter(Boolean));
}

function explainUrgency(u) {
  const rows = u.contributions.map((c) => h("tr", { class: c.counted ? "" : "not-counted" },
    h("td", {}, c.rule),
    h("td", { class: "matched" }, c.matched ? `“${c.matched}”` : ""),
    h("td", { class: "num" }, c.points_max ? `${c.points.toFixed(2)} to ${(c.points + c.points_max).toFixed(2)}` : (c.counted ? c.points.toFixed(2) : `(${c.points.toFixed(2)})`)),
    h("td", {}, c.why)));
  const score = u.score === u.score_max ? u.score.toFixed(2) : `${u.score.toFixed(2)} to ${u.score_max.toFixed(2)}`;
  const bands = Object.entries(u.thresholds).map(([level, at]) => `${level} from ${at}`).join(", ");
  const notes = [];
  if (!u.same_rules) notes.push("The rules have changed since this ticket was judged: the replay uses today's rules.");
  if (u.replayed_level !== u.level && u.replayed_level_max !== u.level) {
    notes.push(`Replayed today this ticket scores ${u.replayed_level}.`);
  }
  return h("section", { class: "why", id: "why-urgency" },
    h("h3", {}, `Why ${u.level}`, h("span", { class: "conf" }, ` confidence ${pct(u.confidence)}`)),
    h("p", { class: "note" }, `Urgency is a sum of documented rules (docs/urgency.md): the highest stake sets the level, further high stakes add 0.2, small signals nudge. Score ${score}; bands: ${bands}.`),
    h("table", { class: "explain" },
      h("thead", {}, h("tr", {}, h("th", {}, "rule"), h("th", {}, "words"), h("th", {}, "points"), h("th", {}, "why"))),
      h("tbody", {}, rows)),
    notes.map((text) => h("p", { class: "note" }, text)));
}

function related(t) {
  const parts = [];
  if (t.duplicate_of) {
    parts.push(h("p", {}, "Duplicate of ", h("a", { href: ticketHref(String(t.duplicate_of)) }, String(t.duplicate_of))));
  }
  if (t.incident) parts.push(h("p", {}, "Part of incident ", h("strong", {}, String(incidentName(t.incident)))));
  if (Array.isArray(t.similar) && t.similar.length) {
    parts.push(h("ul", { class: "similar" }, t.similar.map((s) => {
      const id = typeof s === "object" ? s.ticket_id || s.id : s;
      const score = typeof s === "object" && typeof s.score === "number" ? ` (${pct(s.score)})` : "";
      return h("li", {}, h("a", { href: ticketHref(String(id)) }, String(id)), score, typeof s === "object" && s.summary ? ` ${s.summary}` : "");
    })));
  }
  return parts.length ? h("section", { class: "related", id: "related" }, h("h3", {}, "Similar tickets and incidents"), parts) : null;
}

document.addEventListener("DOMContentLoaded", () => {
  const start = document.body.dataset.page === "ticket" ? initTicket : initBoard;
  start().catch(showError);
});
