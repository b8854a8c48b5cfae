// LLMTrace dashboard: plain JavaScript, no framework, no CDN. Every value from the API is put on the page as text
// (never as HTML), so a hostile prompt shows as what it is. Views refresh every 5 seconds while visible.
"use strict";

const view = document.getElementById("view");
const statusLine = document.getElementById("status");
let me = null;
let refreshTimer = null;

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: options.body ? { "content-type": "application/json" } : {},
    ...options,
  });
  if (response.status === 401) { window.location.href = "/dashboard"; throw new Error("signed out"); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.error && data.error.message) || response.statusText);
  return data;
}

const fmt = {
  n: (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString()),
  usd: (v) => {
    if (v === null || v === undefined) return "—";
    const x = Number(v);
    return "$" + (x === 0 ? "0" : x < 0.01 ? x.toPrecision(2) : x.toFixed(x < 1 ? 4 : 2));
  },
  ms: (v) => (v === null || v === undefined ? "—" : Math.round(v) + " ms"),
  time: (v) => (v ? new Date(v).toLocaleString() : "—"),
};

function isoHoursAgo(hours) { return new Date(Date.now() - hours * 3600e3).toISOString(); }

function card(label, value) { return h("div", { class: "card" }, h("div", { class: "value" }, value), h("div", { class: "label" }, label)); }

// A bar chart over time buckets, drawn as SVG.
function chart(title, points, value, format = fmt.n) {
  const width = 480, height = 140, pad = 20;
  const max = Math.max(0, ...points.map((p) => value(p) || 0)) || 1;
  const step = points.length ? (width - pad) / points.length : 0;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  points.forEach((p, i) => {
    const v = value(p) || 0;
    const barHeight = ((height - pad) * v) / max;
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    rect.setAttribute("x", pad + i * step);
    rect.setAttribute("y", height - pad - barHeight);
    rect.setAttribute("width", Math.max(1, step - 1));
    rect.setAttribute("height", barHeight);
    rect.setAttribute("fill", "#1f6feb");
    const tip = document.createElementNS("http://www.w3.org/2000/svg", "title");
    tip.textContent = `${fmt.time(p.bucket_start)}: ${format(v)}`;
    rect.append(tip);
    svg.append(rect);
  });
  const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
  label.setAttribute("x", 0); label.setAttribute("y", 12); label.setAttribute("font-size", "11");
  label.textContent = "max " + format(max);
  svg.append(label);
  return h("div", { class: "chart" }, h("h3", {}, title), points.length ? svg : h("p", { class: "muted" }, "No traffic yet."));
}

function table(headers, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), h("tbody", {}, rows));
}

function severityCell(severity) { return h("td", { class: "sev-" + severity }, severity); }

// ---------------------------------------------------------------------------------------------------------------
const views = {
  async overview() {
    const [stats, usage] = await Promise.all([
      api("/api/v1/stats"),
      api("/api/v1/usage?bucket=hour&percentiles=false&start_time=" + encodeURIComponent(isoHoursAgo(24))),
    ]);
    const points = usage.data;
    const findings = (p) => Object.values(p.findings).reduce((a, b) => a + b, 0);
    return [
      h("h1", {}, "Overview"),
      h("div", { class: "cards" },
        card("requests", fmt.n(stats.total_requests)), card("errors", fmt.n(stats.total_errors)),
        card("tokens", fmt.n(stats.total_tokens)), card("cost", fmt.usd(stats.total_cost_usd)),
        card("critical / high findings", `${fmt.n(stats.findings_by_severity.critical)} / ${fmt.n(stats.findings_by_severity.high)}`),
        card("traces stored", fmt.n(stats.total_traces))),
      h("h2", {}, "Last 24 hours, by hour"),
      h("div", { class: "charts" },
        chart("Requests", points, (p) => p.requests), chart("Cost", points, (p) => p.cost_usd, fmt.usd),
        chart("Tokens", points, (p) => p.total_tokens), chart("Findings", points, findings)),
    ];
  },

  async traces(params) {
    const filters = ["start_time", "end_time", "model", "provider", "agent_id", "user", "security_score_min", "finding_type"];
    const query = new URLSearchParams();
    for (const key of filters) if (params.get(key)) query.set(key, params.get(key));
    query.set("limit", "50");
    const page = await api("/api/v1/spans?" + query);
    const form = h("form", { class: "filters", onsubmit: (event) => {
      event.preventDefault();
      const data = new FormData(event.target);
      const next = new URLSearchParams();
      for (const [key, value] of data) if (value) next.set(key, key.endsWith("_time") ? new Date(value).toISOString() : value);
      location.hash = "#/traces?" + next;
    } },
      ...filters.map((key) => h("label", {}, key.replace(/_/g, " "),
        h("input", { name: key, type: key.endsWith("_time") ? "datetime-local" : "text",
                     value: key.endsWith("_time") ? "" : params.get(key) || "" }))),
      h("button", { type: "submit" }, "Filter"));
    const rows = page.data.map((s) => h("tr", { class: "link", onclick: () => { location.hash = "#/span/" + s.span_id; } },
      h("td", {}, fmt.time(s.start_time)), h("td", {}, s.model_name), h("td", {}, s.end_user_id || "—"),
      h("td", {}, s.agent_id || "—"), h("td", {}, s.status_code ?? "—"), h("td", {}, s.security_score ?? "—"),
      h("td", {}, s.security_findings.map((f) => f.finding_type).join(", ") || "—"),
      h("td", {}, fmt.ms(s.duration_ms)), h("td", {}, fmt.usd(s.estimated_cost_usd))));
    return [h("h1", {}, "Traces"), form, h("p", { class: "muted" }, `${fmt.n(page.total)} spans`),
      table(["time", "model", "user", "agent", "status", "score", "findings", "latency", "cost"], rows)];
  },

  async span(params, id) {
    const s = await api("/api/v1/spans/" + encodeURIComponent(id));
    const phrases = s.security_findings.map((f) => f.metadata && f.metadata.matched_text).filter(Boolean);
    const actions = s.agent_actions.map((a) => h("tr", {}, h("td", {}, a.action_type), h("td", {}, a.name), h("td", {}, a.arguments || "")));
    return [
      h("h1", {}, "Span " + s.span_id),
      h("p", { class: "muted" }, `trace ${s.trace_id} · ${s.provider} · ${s.model_name} · ${s.operation_name}`),
      h("div", { class: "cards" },
        card("prompt / completion tokens", `${fmt.n(s.prompt_tokens)} / ${fmt.n(s.completion_tokens)}`),
        card("cost", fmt.usd(s.estimated_cost_usd)), card("time to first token", fmt.ms(s.time_to_first_token_ms)),
        card("latency", fmt.ms(s.duration_ms)), card("security score", s.security_score ?? "—"),
        card("end user", s.end_user_id || "—")),
      h("h2", {}, "Findings"),
      s.security_findings.length
        ? table(["severity", "type", "where", "confidence", "description"], s.security_findings.map((f) => h("tr", {},
            severityCell(f.severity), h("td", {}, f.finding_type), h("td", {}, f.location || ""),
            h("td", {}, Number(f.confidence_score).toFixed(2)), h("td", {}, f.description))))
        : h("p", { class: "muted" }, "No findings."),
      h("h2", {}, "Prompt"), highlighted(s.prompt, phrases),
      h("h2", {}, "Response"), highlighted(s.response || "", phrases),
      actions.length ? [h("h2", {}, "Tool calls"), table(["type", "name", "arguments"], actions)] : null,
    ];
  },

  async findings(params) {
    const since = isoHoursAgo(24 * 7);
    const [summary, page] = await Promise.all([
      api("/api/v1/security/summary?start_time=" + encodeURIComponent(since)),
      api("/api/v1/security/findings?limit=50" + (params.get("severity") ? "&severity=" + encodeURIComponent(params.get("severity")) : "")),
    ]);
    return [
      h("h1", {}, "Security findings"),
      h("h2", {}, "Last 7 days by type and severity"),
      table(["type", "severity", "count"], summary.data.map((c) => h("tr", {},
        h("td", {}, h("a", { href: "#/traces?finding_type=" + encodeURIComponent(c.finding_type) }, c.finding_type)),
        severityCell(c.severity), h("td", {}, fmt.n(c.count))))),
      h("h2", {}, "Latest flagged spans"),
      table(["time", "score", "findings", "model"], page.data.map((s) => h("tr", { class: "link", onclick: () => { location.hash = "#/span/" + s.span_id; } },
        h("td", {}, fmt.time(s.start_time)), h("td", {}, s.security_score ?? "—"),
        h("td", {}, s.security_findings.map((f) => `${f.finding_type} (${f.severity})`).join(", ")), h("td", {}, s.model_name)))),
    ];
  },

  async costs() {
    const since = encodeURIComponent(isoHoursAgo(24 * 30));
    const [byModel, byAgent, byUser] = await Promise.all(["model", "agent", "user"].map((d) =>
      api(`/api/v1/usage?group_by=${d}&percentiles=false&start_time=${since}`)));
    let caps = null;
    try { caps = await api("/api/v1/costs/current"); } catch (error) { caps = null; }
    const spend = (rows, key) => table([key, "requests", "tokens", "cost"], rows.data
      .sort((a, b) => b.cost_usd - a.cost_usd)
      .map((r) => h("tr", {}, h("td", {}, r[key] ?? "—"), h("td", {}, fmt.n(r.requests)), h("td", {}, fmt.n(r.total_tokens)), h("td", {}, fmt.usd(r.cost_usd)))));
    return [
      h("h1", {}, "Costs and budgets"),
      h("h2", {}, "Budgets"),
      caps ? table(["window", "spent", "hard limit", "used", "resets in"], caps.windows.map((w) => h("tr", {},
        h("td", {}, w.window), h("td", {}, fmt.usd(w.current_spend_usd)), h("td", {}, fmt.usd(w.hard_limit_usd)),
        h("td", {}, w.utilization_pct + "%"), h("td", {}, w.resets_in_secs + " s"))))
        : h("p", { class: "muted" }, "Cost caps are not enabled."),
      h("h2", {}, "Last 30 days by model"), spend(byModel, "model"),
      h("h2", {}, "By agent"), spend(byAgent, "agent"),
      h("h2", {}, "By end user"), spend(byUser, "user"),
    ];
  },

  async alerts() {
    const page = await api("/api/v1/alerts?limit=100");
    const canAck = me && ["operator", "admin"].includes(me.role);
    return [h("h1", {}, "Alerts"), page.data.length ? table(["time", "severity", "findings", "status", ""], page.data.map((a) => h("tr", { "data-alert": a.id },
      h("td", {}, fmt.time(a.created_at)), severityCell(a.severity), h("td", {}, a.finding_types.join(", ")),
      h("td", { class: "status" }, a.status),
      h("td", {}, a.status === "open" && canAck ? h("button", { onclick: async () => {
        await api(`/api/v1/alerts/${encodeURIComponent(a.id)}/ack`, { method: "POST" }); render(); } }, "Acknowledge") : null))))
      : h("p", { class: "muted" }, "No alerts.")];
  },

  async reports() {
    const page = await api("/api/v1/reports?limit=50");
    const form = h("form", { class: "filters", onsubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(event.target);
      await api("/api/v1/reports/generate", { method: "POST", body: JSON.stringify({
        report_type: data.get("report_type"), period_start: isoHoursAgo(24 * Number(data.get("days"))), period_end: new Date().toISOString() }) });
      render();
    } },
      h("label", {}, "type", h("select", { name: "report_type" }, ["owasp_llm_top10", "soc2", "gdpr", "hipaa"].map((t) => h("option", { value: t }, t)))),
      h("label", {}, "days", h("input", { name: "days", type: "number", value: "30", min: "1", max: "366" })),
      h("button", { type: "submit" }, "Generate"));
    return [h("h1", {}, "Compliance reports"), me && me.role !== "viewer" ? form : null,
      table(["requested", "type", "period", "status", ""], page.data.map((r) => h("tr", {},
        h("td", {}, fmt.time(r.created_at)), h("td", {}, r.report_type),
        h("td", {}, `${fmt.time(r.period_start)} – ${fmt.time(r.period_end)}`), h("td", {}, r.status + (r.error ? ": " + r.error : "")),
        h("td", {}, r.status === "completed" ? h("a", { href: `/api/v1/reports/${encodeURIComponent(r.id)}?format=html`, target: "_blank" }, "open") : null))))];
  },

  async admin() {
    if (!me || me.role !== "admin") return [h("h1", {}, "Tenants and keys"), h("p", {}, "Only admins manage keys.")];
    const [keys, tenants] = await Promise.all([api("/api/v1/auth/keys"), api("/api/v1/tenants")]);
    const created = h("div", { id: "created-key" });
    const form = h("form", { class: "filters", onsubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(event.target);
      const made = await api("/api/v1/auth/keys", { method: "POST", body: JSON.stringify({ name: data.get("name"), role: data.get("role") }) });
      stopRefresh();
      created.replaceChildren(h("p", {}, "New key (shown once): "), h("p", { class: "secret", id: "new-key-secret" }, made.key),
        h("button", { class: "secondary", onclick: () => render() }, "Done"));
    } },
      h("label", {}, "name", h("input", { name: "name", required: true })),
      h("label", {}, "role", h("select", { name: "role" }, ["viewer", "operator", "admin"].map((r) => h("option", { value: r }, r)))),
      h("button", { type: "submit" }, "Create key"));
    return [
      h("h1", {}, "Tenants and keys"),
      h("h2", {}, "API keys"), form, created,
      table(["name", "prefix", "role", "created", "revoked", ""], keys.map((k) => h("tr", { "data-key": k.name },
        h("td", {}, k.name), h("td", {}, k.key_prefix), h("td", {}, k.role), h("td", {}, fmt.time(k.created_at)),
        h("td", { class: "revoked" }, fmt.time(k.revoked_at)),
        h("td", {}, k.revoked_at ? null : h("button", { class: "danger", onclick: async () => {
          await api("/api/v1/auth/keys/" + encodeURIComponent(k.id), { method: "DELETE" }); render(); } }, "Revoke"))))),
      h("h2", {}, "Tenants"),
      table(["name", "plan", "id", "created"], tenants.map((t) => h("tr", {}, h("td", {}, t.name), h("td", {}, t.plan), h("td", {}, t.id), h("td", {}, fmt.time(t.created_at))))),
    ];
  },
};

// The prompt or response with the phrases findings matched marked (case and spacing as in the text).
function highlighted(text, phrases) {
  const pre = h("pre", { class: "text" });
  const patterns = phrases.map((p) => p.trim().replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+")).filter(Boolean);
  if (!patterns.length) { pre.textContent = text; return pre; }
  const re = new RegExp(patterns.join("|"), "gi");
  let last = 0;
  for (const match of text.matchAll(re)) {
    pre.append(text.slice(last, match.index), h("mark", {}, match[0]));
    last = match.index + match[0].length;
  }
  pre.append(text.slice(last));
  return pre;
}

function stopRefresh() { if (refreshTimer) clearInterval(refreshTimer); refreshTimer = null; }

async function render() {
  const [path, search] = (location.hash.slice(2) || "overview").split("?");
  const [name, id] = path.split("/");
  const params = new URLSearchParams(search || "");
  const show = views[name] || views.overview;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.getAttribute("href") === "#/" + name);
  try {
    const started = performance.now();
    const content = await show(params, id);
    view.replaceChildren(...[content].flat(2).filter(Boolean));
    view.dataset.loaded = name;
    statusLine.textContent = `updated ${new Date().toLocaleTimeString()} (${Math.round(performance.now() - started)} ms)`;
  } catch (error) {
    view.replaceChildren(h("p", { class: "error" }, "Could not load this view: " + error.message));
  }
}

function scheduleRefresh() {
  stopRefresh();
  const [name] = (location.hash.slice(2) || "overview").split(/[/?]/);
  if (["overview", "traces", "findings", "costs", "alerts", "reports"].includes(name)) {
    refreshTimer = setInterval(() => {
      const editing = document.activeElement && ["INPUT", "SELECT"].includes(document.activeElement.tagName);
      if (!document.hidden && !editing) render();
    }, 5000);
  }
}

window.addEventListener("hashchange", () => { render(); scheduleRefresh(); });

(async () => {
  try {
    me = await api("/api/v1/auth/whoami");
    document.getElementById("who").textContent = me.auth_enabled ? `${me.role} · tenant ${me.tenant_id}` : "auth off";
    if (!me.auth_enabled) document.getElementById("logout").hidden = true;
    for (const link of document.querySelectorAll("#nav a[data-role]")) link.hidden = me.role !== link.dataset.role;
  } catch (error) { me = null; }
  await render();
  scheduleRefresh();
})();
