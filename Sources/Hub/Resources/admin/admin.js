// SPDX-License-Identifier: Apache-2.0
// The admin dashboard of Hub: reads the /admin/* JSON API with the admin key and draws it.
// No dependencies. Every value reaches the DOM through textContent or setAttribute, never as markup.
"use strict";

(() => {
  const KEY_STORAGE = "hub.admin_key";
  const REFRESH_MS = 5000;
  const ERROR_LIMIT = 100;
  const SVG_NS = "http://www.w3.org/2000/svg";
  // Distinct on light and dark backgrounds.
  const PALETTE = ["#2f6feb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#e67700", "#5c940d", "#a61e4d", "#1864ab"];
  const LANE_ORDER = ["realtime", "cpu", "batch", "notices"];

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    updated: $("updated"),
    pause: $("pause"),
    signOut: $("sign-out"),
    keyForm: $("key-form"),
    keyMessage: $("key-message"),
    keyInput: $("key-input"),
    dashboard: $("dashboard"),
    bots: $("bots").tBodies[0],
    botsCount: $("bots-count"),
    botsEmpty: $("bots-empty"),
    providers: $("providers").tBodies[0],
    providersCount: $("providers-count"),
    providersEmpty: $("providers-empty"),
    usageMetric: $("usage-metric"),
    usageRange: $("usage-range"),
    usageChart: $("usage-chart"),
    usageLegend: $("usage-legend"),
    usageTotals: $("usage-totals").tBodies[0],
    lanes: $("lanes").tBodies[0],
    queues: $("queues"),
    process: $("process"),
    errors: $("errors").tBodies[0],
    errorsCount: $("errors-count"),
    errorsEmpty: $("errors-empty"),
  };

  // ---------------------------------------------------------------- the key (this tab only)

  function getKey() {
    try {
      return window.sessionStorage.getItem(KEY_STORAGE) || "";
    } catch (_) {
      return memoryKey;
    }
  }

  let memoryKey = "";
  function setKey(value) {
    memoryKey = value || "";
    try {
      if (value) window.sessionStorage.setItem(KEY_STORAGE, value);
      else window.sessionStorage.removeItem(KEY_STORAGE);
    } catch (_) {
      // No session storage (privacy modes): the key lives in this page only.
    }
  }

  // ---------------------------------------------------------------- DOM helpers

  function h(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  function s(tag, attributes, text) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) el.setAttribute(name, String(value));
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  function cell(row, text, className) {
    const td = h("td", className, text);
    row.appendChild(td);
    return td;
  }

  // Each cell carries its column's name (data-label): a narrow screen shows it beside the value.
  function replaceRows(tbody, rows) {
    const labels = Array.from(tbody.parentElement.tHead.rows[0].cells).map((th) => th.textContent);
    for (const row of rows) {
      Array.from(row.cells).forEach((td, i) => {
        if (labels[i]) td.dataset.label = labels[i];
      });
    }
    tbody.replaceChildren(...rows);
  }

  function badge(text, tone) {
    const el = h("span", "badge", text);
    if (tone) el.dataset.tone = tone;
    return el;
  }

  // ---------------------------------------------------------------- formatting

  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

  function ago(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    const s = Math.max(0, seconds);
    if (s < 1) return "just now";
    if (s < 90) return Math.round(s) + " s ago";
    if (s < 90 * 60) return Math.round(s / 60) + " min ago";
    if (s < 36 * 3600) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  }

  function duration(seconds) {
    if (!isFinite(seconds)) return "—";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 90 * 60) return Math.round(seconds / 60) + " min";
    if (seconds < 48 * 3600) return number.format(seconds / 3600) + " h";
    return number.format(seconds / 86400) + " d";
  }

  function localTime(epochSeconds) {
    return new Date(epochSeconds * 1000).toLocaleString();
  }

  function bytes(value) {
    if (value === null || value === undefined) return "—";
    const units = ["B", "KiB", "MiB", "GiB"];
    let v = value;
    let unit = 0;
    while (v >= 1024 && unit < units.length - 1) {
      v /= 1024;
      unit += 1;
    }
    return number.format(v) + " " + units[unit];
  }

  function money(value) {
    if (!value) return "0";
    return value < 0.01 ? value.toPrecision(2) : value.toFixed(2);
  }

  // ---------------------------------------------------------------- the API

  class AuthError extends Error {}

  async function api(path) {
    const response = await fetch(path, {
      headers: { Authorization: "Bearer " + getKey(), Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (response.status === 401 || response.status === 403) {
      throw new AuthError((body && body.error && body.error.message) || "the hub refused the key");
    }
    if (!response.ok) {
      throw new Error(path + ": " + response.status + " " + ((body && body.error && body.error.message) || response.statusText));
    }
    return body;
  }

  // ---------------------------------------------------------------- sections

  function renderBots(report) {
    const now = report.now;
    const rows = report.bots.map((bot) => {
      const tr = h("tr");
      tr.dataset.selfId = bot.self_id;
      tr.dataset.connected = String(bot.connected);
      const id = cell(tr, bot.self_id, "mono");
      if (bot.stale) id.appendChild(h("span", "sub", "heartbeats stopped"));

      const kinds = cell(tr, null);
      if (bot.kinds.length === 0) kinds.appendChild(badge("offline", "bad"));
      for (const kind of bot.kinds) kinds.appendChild(h("span", "chip", kind));

      const since = bot.connections.length ? Math.min(...bot.connections.map((c) => c.connected_at)) : null;
      if (since !== null) {
        const sinceLine = h("span", "sub", "connected " + ago(now - since));
        sinceLine.title = localTime(since);
        kinds.appendChild(sinceLine);
      }

      const beat = cell(tr, bot.last_heartbeat_at === null ? "none yet" : ago(now - bot.last_heartbeat_at));
      beat.dataset.heartbeat = bot.last_heartbeat_at === null ? "" : String(bot.last_heartbeat_at);
      if (bot.last_heartbeat_at !== null) beat.title = localTime(bot.last_heartbeat_at);
      if (bot.heartbeat_interval_ms) {
        beat.appendChild(h("span", "sub", "every " + number.format(bot.heartbeat_interval_ms / 1000) + " s" + (bot.heartbeat_via ? " · " + bot.heartbeat_via : "")));
      }

      const qq = cell(tr, null);
      qq.appendChild(bot.qq_online === null ? h("span", "sub", "unknown") : badge(bot.qq_online ? "online" : "offline", bot.qq_online ? "ok" : "bad"));

      const outbox = cell(tr, integer.format(bot.outbox.pending), "num");
      outbox.dataset.outbox = String(bot.outbox.pending);
      if (bot.outbox.oldest_at !== null) outbox.appendChild(h("span", "sub", "oldest " + ago(now - bot.outbox.oldest_at)));
      return tr;
    });
    replaceRows(ui.bots, rows);
    const connected = report.bots.filter((b) => b.connected).length;
    ui.botsCount.textContent = connected + " connected of " + report.bots.length;
    ui.botsEmpty.hidden = rows.length > 0;
  }

  function renderProviders(report) {
    const rows = report.routes.map((route) => {
      const tr = h("tr");
      tr.dataset.kind = route.kind;
      tr.dataset.provider = route.provider;
      tr.dataset.model = route.model;
      cell(tr, route.kind);
      cell(tr, route.provider, "mono");
      cell(tr, route.model, "mono");
      const breaker = cell(tr, null);
      const tone = !route.in_rotation ? "bad" : route.breaker === "closed" ? "ok" : route.breaker === "open" ? "bad" : "warn";
      breaker.appendChild(badge(route.in_rotation ? route.breaker : "out of rotation", tone));
      cell(tr, route.average_latency_ms === null ? "—" : integer.format(route.average_latency_ms) + " ms", "num");
      cell(tr, number.format(route.success_rate * 100) + " %", "num");
      cell(tr, integer.format(route.in_flight), "num");
      cell(tr, integer.format(route.successes) + " / " + integer.format(route.failures), "num");
      return tr;
    });
    replaceRows(ui.providers, rows);
    const healthy = report.routes.filter((r) => r.healthy).length;
    ui.providersCount.textContent = healthy + " healthy of " + report.routes.length;
    ui.providersEmpty.hidden = rows.length > 0;
  }

  // ---------------------------------------------------------------- usage chart

  const METRICS = {
    requests: { label: "requests", value: (p) => p.requests, format: (v) => integer.format(v) },
    failures: { label: "failures", value: (p) => p.failures, format: (v) => integer.format(v) },
    tokens: { label: "tokens", value: (p) => p.tokens, format: (v) => integer.format(v) },
    cost: { label: "cost", value: (p) => p.cost, format: (v) => money(v) },
  };

  function seriesName(series) {
    return series.kind + " · " + series.provider + " · " + series.model;
  }

  // A round upper bound for the axis, and its tick step.
  function niceScale(max, integral) {
    if (!(max > 0)) return { top: integral ? 4 : 1, step: integral ? 1 : 0.25 };
    const rough = max / 4;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough);
    if (integral) step = Math.max(1, Math.ceil(step));
    return { top: Math.ceil(max / step) * step, step };
  }

  function timeLabel(epochSeconds, spanSeconds) {
    const date = new Date(epochSeconds * 1000);
    if (spanSeconds <= 2 * 86400) return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    return date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  }

  function renderUsage(report) {
    const metric = METRICS[ui.usageMetric.value] || METRICS.requests;
    const buckets = report.buckets;
    const span = buckets.length * report.bucket_seconds;
    const index = new Map(buckets.map((t, i) => [Math.round(t), i]));
    const lines = report.series.map((series, n) => {
      const values = new Array(buckets.length).fill(0);
      const points = new Array(buckets.length).fill(null);
      for (const point of series.points) {
        const i = index.get(Math.round(point.t));
        if (i === undefined) continue;
        values[i] = metric.value(point);
        points[i] = point;
      }
      return { series, values, points, color: PALETTE[n % PALETTE.length] };
    });

    // Drawn at the size it is shown, so the labels keep their size on a phone.
    const width = Math.round(Math.max(300, Math.min(1200, ui.usageChart.clientWidth || 760)));
    const height = width < 520 ? 220 : 260;
    const margin = { left: 52, right: 14, top: 14, bottom: 30 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const max = Math.max(0, ...lines.flatMap((l) => l.values));
    const scale = niceScale(max, metric !== METRICS.cost);
    const x = (i) => margin.left + (buckets.length <= 1 ? plotW / 2 : (i / (buckets.length - 1)) * plotW);
    const y = (v) => margin.top + plotH - (v / scale.top) * plotH;

    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Usage: " + metric.label + " per bucket" });
    svg.appendChild(s("title", {}, metric.label + " per " + duration(report.bucket_seconds) + ", by kind, provider and model"));

    // Y axis: grid lines and labels.
    for (let v = 0; v <= scale.top + scale.step / 2; v += scale.step) {
      svg.appendChild(s("line", { class: "grid-line", x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v) }));
      svg.appendChild(s("text", { x: margin.left - 6, y: y(v) + 4, "text-anchor": "end" }, metric.format(v)));
    }
    // X axis: about six labels.
    svg.appendChild(s("line", { class: "axis-line", x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0) }));
    const labelCount = Math.max(2, Math.floor(plotW / 110));
    const every = Math.max(1, Math.ceil(buckets.length / labelCount));
    for (let i = 0; i < buckets.length; i += every) {
      svg.appendChild(s("line", { class: "axis-line", x1: x(i), x2: x(i), y1: y(0), y2: y(0) + 4 }));
      svg.appendChild(s("text", { x: x(i), y: height - 8, "text-anchor": "middle" }, timeLabel(buckets[i], span)));
    }

    if (lines.length === 0) {
      svg.appendChild(s("text", { class: "empty-note", x: margin.left + plotW / 2, y: margin.top + plotH / 2, "text-anchor": "middle" }, "No usage in this window yet."));
    }

    for (const line of lines) {
      const name = seriesName(line.series);
      const group = s("g", { class: "series", "data-series": name });
      group.appendChild(s("title", {}, name));
      const coordinates = line.values.map((v, i) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
      group.appendChild(s("polyline", { points: coordinates, stroke: line.color }));
      line.points.forEach((point, i) => {
        if (!point) return;
        const dot = s("circle", { cx: x(i).toFixed(1), cy: y(line.values[i]).toFixed(1), r: 3.5, fill: line.color, "data-t": point.t });
        const when = new Date(buckets[i] * 1000).toLocaleString();
        dot.appendChild(
          s(
            "title",
            {},
            `${name}\n${when}\n${integer.format(point.requests)} requests: ${integer.format(point.ok)} ok, ${integer.format(point.failures)} failed, ` +
              `${integer.format(point.cancelled)} cancelled\n${integer.format(point.tokens)} tokens · cost ${money(point.cost)} · ` +
              `${integer.format(point.average_latency_ms)} ms average`,
          ),
        );
        group.appendChild(dot);
      });
      svg.appendChild(group);
    }
    ui.usageChart.replaceChildren(svg);

    ui.usageLegend.replaceChildren(
      ...lines.map((line) => {
        const li = h("li");
        const swatch = s("svg", { width: 12, height: 12, viewBox: "0 0 12 12", "aria-hidden": "true" });
        swatch.appendChild(s("rect", { width: 12, height: 12, rx: 3, fill: line.color }));
        li.appendChild(swatch);
        li.appendChild(h("span", null, seriesName(line.series)));
        return li;
      }),
    );

    replaceRows(
      ui.usageTotals,
      report.series.map((series) => {
        const tr = h("tr");
        tr.dataset.series = seriesName(series);
        cell(tr, series.kind);
        cell(tr, series.provider, "mono");
        cell(tr, series.model, "mono");
        const t = series.totals;
        for (const value of [t.requests, t.ok, t.failures, t.cancelled, t.tokens]) cell(tr, integer.format(value), "num");
        cell(tr, money(t.cost), "num");
        return tr;
      }),
    );
  }

  // ---------------------------------------------------------------- lanes, queues, process

  function fact(list, label, value) {
    const div = h("div");
    div.appendChild(h("dt", null, label));
    div.appendChild(h("dd", null, value));
    list.appendChild(div);
  }

  function meterCell(row, value, limit) {
    const td = cell(row, null);
    const meter = h("meter");
    meter.min = 0;
    meter.max = Math.max(1, limit);
    meter.value = Math.min(value, Math.max(1, limit));
    meter.high = Math.max(1, limit) * 0.8;
    td.appendChild(meter);
    td.appendChild(document.createTextNode(integer.format(value) + " / " + integer.format(limit)));
    return td;
  }

  function renderLanes(report) {
    const names = Object.keys(report.lanes).sort((a, b) => {
      const ia = LANE_ORDER.indexOf(a);
      const ib = LANE_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
    });
    replaceRows(
      ui.lanes,
      names.map((name) => {
        const lane = report.lanes[name];
        const tr = h("tr");
        tr.dataset.lane = name;
        cell(tr, name);
        meterCell(tr, lane.running, lane.max_concurrent);
        meterCell(tr, lane.queued, lane.queue_limit);
        cell(tr, integer.format(lane.refused), "num");
        return tr;
      }),
    );
    ui.queues.replaceChildren();
    fact(ui.queues, "Outbox (replies waiting)", integer.format(report.queues.outbox));
    fact(ui.queues, "Usage records unwritten", integer.format(report.queues.usage_unwritten));
    fact(ui.queues, "Active sessions", integer.format(report.queues.active_sessions));
    const p = report.process;
    ui.process.replaceChildren();
    fact(ui.process, "Uptime", duration(p.uptime_seconds));
    fact(ui.process, "CPU time", number.format(p.cpu_seconds) + " s");
    fact(ui.process, "Memory (RSS)", bytes(p.rss_bytes));
    fact(ui.process, "Cores", integer.format(p.cores));
  }

  // ---------------------------------------------------------------- errors

  function renderErrors(report) {
    const now = report.now;
    replaceRows(
      ui.errors,
      report.entries.map((entry) => {
        const tr = h("tr");
        tr.dataset.level = entry.level;
        tr.dataset.id = String(entry.id);
        const when = cell(tr, ago(now - entry.at));
        when.title = localTime(entry.at);
        cell(tr, null).appendChild(badge(entry.level, entry.level === "warning" ? "warn" : "bad"));
        cell(tr, entry.message, "message");
        const details = cell(tr, null, "wrap");
        const list = h("ul", "details");
        list.appendChild(h("li", null, entry.source));
        for (const key of Object.keys(entry.metadata).sort()) list.appendChild(h("li", null, key + "=" + entry.metadata[key]));
        details.appendChild(list);
        return tr;
      }),
    );
    ui.errorsCount.textContent = report.entries.length + (report.total > report.entries.length ? " latest of " + report.total : "");
    ui.errorsEmpty.hidden = report.entries.length > 0;
  }

  // ---------------------------------------------------------------- refresh loop

  let timer = null;
  let paused = false;
  let running = false;
  let again = false;
  let generation = 0;

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  }

  function usagePath() {
    const [hours, bucket] = ui.usageRange.value.split(":");
    return "/admin/usage?hours=" + encodeURIComponent(hours) + "&bucket=" + encodeURIComponent(bucket);
  }

  async function refresh() {
    if (!getKey()) return;
    if (running) {
      // Asked again meanwhile (a new range): read once more as soon as this read ends.
      again = true;
      return;
    }
    running = true;
    const mine = generation;
    if (ui.dashboard.dataset.refreshes === "0") setStatus("loading", "Loading…");
    try {
      const [bots, providers, usage, lanes, errors] = await Promise.all([
        api("/admin/bots"),
        api("/admin/providers"),
        api(usagePath()),
        api("/admin/lanes"),
        api("/admin/errors?limit=" + ERROR_LIMIT),
      ]);
      if (mine !== generation) return;
      renderBots(bots);
      renderProviders(providers);
      renderUsage(usage);
      renderLanes(lanes);
      renderErrors(errors);
      lastUsage = usage;
      ui.dashboard.dataset.refreshes = String(Number(ui.dashboard.dataset.refreshes) + 1);
      ui.updated.textContent = "Updated " + new Date().toLocaleTimeString();
      setStatus("ok", paused ? "Paused" : "Live");
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof AuthError) {
        signOut("The hub refused the key: " + error.message);
        return;
      }
      setStatus("error", "Refresh failed");
      ui.updated.textContent = String(error.message || error);
    } finally {
      running = false;
      if (again) {
        again = false;
        refresh();
      } else {
        schedule();
      }
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!paused && getKey()) timer = setTimeout(refresh, REFRESH_MS);
  }

  let lastUsage = null;

  function showDashboard() {
    ui.keyForm.hidden = true;
    ui.dashboard.hidden = false;
    ui.signOut.hidden = false;
    ui.pause.hidden = false;
  }

  function signOut(message) {
    generation += 1;
    clearTimeout(timer);
    timer = null;
    setKey("");
    ui.dashboard.hidden = true;
    ui.signOut.hidden = true;
    ui.pause.hidden = true;
    ui.dashboard.dataset.refreshes = "0";
    ui.updated.textContent = "";
    setStatus("idle", "Signed out");
    ui.keyMessage.textContent = message || "Enter the hub's admin key (admin.api_key). It is kept in this tab only, until the tab closes.";
    if (message) ui.keyMessage.dataset.tone = "bad";
    else delete ui.keyMessage.dataset.tone;
    ui.keyForm.hidden = false;
    ui.keyInput.value = "";
    ui.keyInput.focus();
  }

  ui.keyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = ui.keyInput.value.trim();
    if (!key) return;
    setKey(key);
    ui.keyInput.value = "";
    generation += 1;
    showDashboard();
    refresh();
  });

  ui.signOut.addEventListener("click", () => signOut(""));

  ui.pause.addEventListener("click", () => {
    paused = !paused;
    ui.pause.setAttribute("aria-pressed", String(paused));
    ui.pause.textContent = paused ? "Resume" : "Pause";
    if (paused) {
      clearTimeout(timer);
      if (ui.status.dataset.state === "ok") setStatus("ok", "Paused");
    } else {
      refresh();
    }
  });

  // A new range reads again at once; a new measure redraws what is there.
  ui.usageRange.addEventListener("change", () => refresh());
  ui.usageMetric.addEventListener("change", () => {
    if (lastUsage) renderUsage(lastUsage);
  });

  // A new width redraws the chart at its new size.
  let drawnWidth = 0;
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      const width = ui.usageChart.clientWidth;
      if (lastUsage && width && Math.abs(width - drawnWidth) > 8) {
        drawnWidth = width;
        renderUsage(lastUsage);
      }
    }).observe(ui.usageChart);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !paused && getKey()) refresh();
  });

  if (getKey()) {
    showDashboard();
    refresh();
  } else {
    signOut("");
  }
})();
