// The fleet status page. Data only from the daemon's admin API, with the token typed into the login form, kept in
// this script's memory (never in storage, a cookie or a URL) and sent as a bearer header. Updates: the page polls
// GET /v1/status/version (a few dozen bytes) and fetches GET /v1/status only when it changed.
// The DOM is built with createElement/textContent only: the page's CSP requires Trusted Types, so HTML strings
// cannot be injected at all.
"use strict";

(function () {
  const POLL_MS = 1000;      // version checks; a change shows within this plus one GET /v1/status
  const MAX_ROWS = 2000;     // node rows drawn at once; narrow the filter for the rest
  const PHASE_ORDER = ["preupgrade", "prepared", "upgraded", "completed", "failed"];

  let token = null;          // the admin token: memory only
  let version = null;        // the last GET /v1/status/version seen
  let status = null;         // the last GET /v1/status
  let lastReports = null;    // node -> last_report_at of the previous render, to mark what changed
  let changed = new Set();
  let detailNode = null;
  let timer = null;
  let session = 0;           // one polling loop per login: a loop of an earlier login stops by itself
  let failingSince = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key.startsWith("data-")) node.setAttribute(key, value);
        else node[key] = value;
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function time(iso) {
    if (!iso) return "never";
    return iso.replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, " UTC");
  }

  function bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.detail) || ("HTTP " + status));
      this.status = status;
    }
  }

  async function api(path) {
    const response = await fetch(path, {
      headers: { "Authorization": "Bearer " + token, "Accept": "application/json" },
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  // --- login ----------------------------------------------------------------------------------------------------

  function showLogin(message) {
    token = null; version = null; status = null; lastReports = null; detailNode = null;
    session += 1;
    if (timer) clearTimeout(timer);
    timer = null;
    $("fleet").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("connection").textContent = "";
    $("token").value = "";
    $("token").focus();
  }

  async function login(event) {
    event.preventDefault();
    const typed = $("token").value.trim();
    $("token").value = "";
    if (!typed) return;
    token = typed;
    $("login-error").textContent = "Checking the token...";
    try {
      await api("/v1/status/version");
    } catch (e) {
      const why = e.status === 401 ? "The daemon refused this token: it is not the admin token."
        : e.status === 403 ? "This is a node's token; the page needs the admin token."
        : "The daemon could not be asked: " + e.message;
      showLogin(why);
      return;
    }
    $("login").hidden = true;
    $("login-error").textContent = "";
    $("fleet").hidden = false;
    $("logout").hidden = false;
    poll(session);
  }

  // --- updates --------------------------------------------------------------------------------------------------

  async function poll(mine) {
    timer = null;
    if (mine !== session) return;
    try {
      const seen = (await api("/v1/status/version")).version;
      if (mine !== session) return;
      if (seen !== version) {
        const fetched = await api("/v1/status");
        if (mine !== session) return;
        version = seen;
        status = fetched;
        const started = performance.now();
        render();
        if (detailNode) await showDetail(detailNode, false);
        document.body.dataset.renderMs = String(Math.round(performance.now() - started));
        document.body.dataset.version = version;
      }
      failingSince = null;
      connection();
    } catch (e) {
      if (mine !== session) return;
      if (e.status === 401) { showLogin("The daemon no longer accepts the token (restarted with a new one?)."); return; }
      if (failingSince === null) failingSince = new Date();
      connection(e);
    }
    if (mine === session) timer = setTimeout(() => poll(mine), POLL_MS);
  }

  function connection(error) {
    const box = $("connection");
    box.className = error ? "error" : "";
    if (error) {
      box.textContent = "Cannot reach the daemon since " + failingSince.toISOString().slice(11, 19) +
        " UTC (" + error.message + "); retrying. Shown: the fleet as of " + time(status && status.generated_at) + ".";
    } else {
      box.textContent = "Live: checks for changes every " + POLL_MS / 1000 + " s. Fleet as of " +
        time(status && status.generated_at) + ".";
    }
  }

  // --- rendering ------------------------------------------------------------------------------------------------

  function unresolved(node) { return node.inhibitors.filter((i) => !i.accepted); }
  function accepted(node) { return node.inhibitors.filter((i) => i.accepted); }

  const byName = new Intl.Collator("en", { numeric: true }).compare;

  function render() {
    status.nodes.sort((a, b) => byName(a.name, b.name));  // compute-2 before compute-10
    const previous = lastReports;
    lastReports = new Map(status.nodes.map((n) => [n.name, n.last_report_at]));
    changed = new Set();
    if (previous) {
      for (const [name, at] of lastReports) if (previous.get(name) !== at) changed.add(name);
    }
    renderSummary();
    renderRoles();
    renderTransfers();
    renderFilters();
    renderNodes();
  }

  function renderSummary() {
    const mon = status.ceph_mon;
    const nodes = status.nodes;
    const onNew = nodes.filter((n) => n.os === "new").length;
    const blocked = nodes.filter((n) => unresolved(n).length).length;
    const failed = nodes.filter((n) => n.phase === "failed" || n.error).length;
    const monTotal = mon.running.length + mon.leased.length;
    const cards = [
      ["Nodes on the new OS", onNew + " / " + nodes.length, "", "summary-new-os"],
      ["Ceph monitors running", monTotal ? mon.running.length + " / " + monTotal + " (min " + mon.min + ")" : "none",
        mon.ok ? "" : "bad", "summary-ceph-mon"],
      ["Leases held", String(status.leases.length), "", "summary-leases"],
      ["Nodes with inhibitors", String(blocked), blocked ? "warn" : "", "summary-inhibited"],
      ["Nodes failed or in error", String(failed), failed ? "bad" : "", "summary-failed"],
    ];
    $("summary").replaceChildren(...cards.map(([label, value, state, id]) =>
      el("div", { class: "card " + state, id },
        el("div", { class: "label", text: label }), el("div", { class: "value", text: value }))));
    if (mon.leased.length) {
      $("summary").append(el("p", { class: "note", text: "ceph-mon hosts leased (down): " + mon.leased.join(", ") }));
    }
    // Issue 15: the pause, monitors not counted as live, the Ceph OSD flags the upgrade holds.
    const pause = status.paused;
    if (pause) {
      $("summary").append(el("p", { class: "note bad", id: "summary-paused", text: "Paused since " +
        time(pause.since) + " by " + pause.by + " (rule " + pause.rule + (pause.node ? ", node " + pause.node : "") +
        "): " + pause.reason + ". No new lease until resumed; nodes already down carry on." }));
    }
    const notLive = Object.entries(mon.not_live || {});
    if (notLive.length) {
      $("summary").append(el("p", { class: "note warn", id: "summary-not-live", text: "ceph-mon hosts not counted " +
        "as live: " + notLive.map(([name, why]) => name + " (" + why + ")").join("; ") }));
    }
    const flags = status.ceph_osd_flags || [];
    if (flags.length) {
      $("summary").append(el("p", { class: "note warn", id: "summary-osd-flags", text: "Ceph OSD flags set by " +
        "the upgrade: " + flags.map((f) => f.flag + (f.state === "held" ? " held by " : " being cleared by ") +
        f.node + " since " + time(f.since)).join("; ") }));
    }
  }

  function renderRoles() {
    const phases = new Map();
    for (const n of status.nodes) {
      const counts = phases.get(n.role) || new Map();
      const phase = n.phase || "not reported";
      counts.set(phase, (counts.get(phase) || 0) + 1);
      phases.set(n.role, counts);
    }
    const rows = status.roles.map((r) => {
      const counts = phases.get(r.role) || new Map();
      const order = [...PHASE_ORDER, "not reported"].filter((p) => counts.has(p));
      return el("tr", { "data-role": r.role },
        el("th", { text: r.role, scope: "row" }), el("td", { text: r.nodes }),
        el("td", { text: r.old_os }), el("td", { text: r.new_os }), el("td", { text: r.unknown_os }),
        el("td", { text: r.leased }), el("td", { text: r.one_by_one ? "yes" : "no" }),
        el("td", null, ...order.map((p) => el("span", { class: "phase " + p.replace(" ", "-"),
          text: p + " " + counts.get(p) }))),
        el("td", { text: r.allowed_down === undefined ? "" : (r.down || 0) + " down of " + r.allowed_down +
          (r.budget === null ? "" : " (budget " + r.budget + ", " + r.budget_source + ")") }),
        el("td", { text: r.keep_old_os ? "kept: " + r.keep_old_os.reason : "" }));
    });
    $("roles").tBodies[0].replaceChildren(...rows);
  }

  function renderTransfers() {
    const rows = status.transfers.map((t) => el("tr", { "data-transfer": t.id },
      el("td", { text: t.id }), el("td", { text: t.role }), el("td", { text: t.source }),
      el("td", { text: t.target }), el("td", { text: t.items.join(", ") }),
      el("td", null, el("span", { class: "state " + t.state, text: t.state })),
      el("td", { text: time(t.created_at) }), el("td", { text: t.sealed_at ? time(t.sealed_at) : "" }),
      el("td", { text: t.forced_reason || "" })));
    if (!rows.length) rows.push(el("tr", null, el("td", { colSpan: 9, class: "empty", text: "No transfer yet." })));
    $("transfers").tBodies[0].replaceChildren(...rows);
  }

  function fillSelect(select, values) {
    const chosen = select.value;
    const first = select.options[0];
    select.replaceChildren(first, ...values.map((v) => el("option", { value: v, text: v })));
    select.value = values.includes(chosen) ? chosen : "";
  }

  function renderFilters() {
    fillSelect($("filter-role"), status.roles.map((r) => r.role));
    const seen = new Set(status.nodes.map((n) => n.phase || "not reported"));
    fillSelect($("filter-phase"), [...PHASE_ORDER, "not reported"].filter((p) => seen.has(p)));
  }

  function matches(n, f) {
    if (f.role && n.role !== f.role) return false;
    if (f.phase && (n.phase || "not reported") !== f.phase) return false;
    if (f.os && n.os !== f.os) return false;
    if (f.inhibited && !unresolved(n).length && !n.error && n.phase !== "failed") return false;
    if (f.text) {
      const hay = [n.name, n.role, n.error || "", ...n.inhibitors.map((i) => (i.title || "") + " " + (i.key || ""))]
        .join(" ").toLowerCase();
      if (!hay.includes(f.text)) return false;
    }
    return true;
  }

  function renderNodes() {
    if (!status) return;
    const f = {
      text: $("filter-text").value.trim().toLowerCase(), role: $("filter-role").value,
      phase: $("filter-phase").value, os: $("filter-os").value, inhibited: $("filter-inhibited").checked,
    };
    const shown = status.nodes.filter((n) => matches(n, f));
    const rows = shown.slice(0, MAX_ROWS).map(nodeRow);
    $("nodes").tBodies[0].replaceChildren(...rows);
    $("node-count").textContent = "(" + shown.length + " of " + status.nodes.length + ")";
    $("nodes-more").hidden = shown.length <= MAX_ROWS;
    $("nodes-more").textContent = (shown.length - MAX_ROWS) + " more nodes: narrow the filter to see them.";
  }

  function inhibitorList(node) {
    const open = unresolved(node), ok = accepted(node);
    const cell = el("td", { class: open.length ? "inhibited" : "" });
    if (!open.length && !ok.length) cell.append("none");
    if (open.length) cell.append(el("strong", { text: open.length + " unresolved" }));
    if (ok.length) cell.append(el("span", { class: "accepted", text: " " + ok.length + " accepted" }));
    if (node.inhibitors.length) {
      const list = el("ul");
      for (const i of node.inhibitors.slice(0, 3)) {
        list.append(el("li", { class: i.accepted ? "accepted" : "", text: (i.title || i.key || "(untitled)") +
          (i.accepted ? " (accepted)" : "") }));
      }
      if (node.inhibitors.length > 3) list.append(el("li", { text: "+" + (node.inhibitors.length - 3) + " more" }));
      cell.append(list);
    }
    return cell;
  }

  function nodeRow(n) {
    const open = el("button", { type: "button", class: "link", text: n.name, title: "Show " + n.name + "'s timeline" });
    open.addEventListener("click", () => showDetail(n.name, true));
    const phase = n.phase || "not reported";
    return el("tr", { "data-node": n.name, class: changed.has(n.name) ? "changed" : "" },
      el("td", null, open, n.ceph_mon ? el("span", { class: "badge", text: "ceph-mon" }) : null),
      el("td", { text: n.role }),
      el("td", null, el("span", { class: "phase " + phase.replace(" ", "-"), text: phase }),
        n.error ? el("div", { class: "error-text", text: n.error.split("\n")[0] }) : null),
      el("td", { class: "os " + n.os, text: (n.os_release || "?") + " (" + n.os + ")" }),
      el("td", { class: "when", text: n.lease ? "since " + time(n.lease.since) : "" }),
      inhibitorList(n),
      el("td", { text: n.items.length ? n.items.length + (n.items.length === 1 ? " item, " : " items, ") +
        bytes(n.stored_bytes) : "none", title: n.items.map((i) => i.item + " " + bytes(i.size)).join("\n") }),
      el("td", { class: "when", text: time(n.last_report_at) }));
  }

  // --- one node's detail: its timeline --------------------------------------------------------------------------

  async function showDetail(name, scroll) {
    detailNode = name;
    const box = $("detail");
    let view;
    try {
      view = await api("/v1/nodes/" + encodeURIComponent(name) + "/status");
    } catch (e) {
      box.hidden = false;
      box.replaceChildren(el("h2", { text: name }), el("p", { class: "error", text: e.message }));
      return;
    }
    if (detailNode !== name) return;
    const node = status && status.nodes.find((n) => n.name === name);
    const close = el("button", { type: "button", text: "Close" });
    close.addEventListener("click", () => { detailNode = null; box.hidden = true; });
    const timeline = el("table", { id: "timeline" },
      el("thead", null, el("tr", null, ...["Reported", "Phase", "OS", "Leapp run", "Inhibitors", "Reports", "Error"]
        .map((h) => el("th", { text: h })))),
      el("tbody", null, ...view.timeline.slice().reverse().map((r) => el("tr", null,
        el("td", { text: time(r.at) }), el("td", { text: r.phase || "" }), el("td", { text: r.os_release || "" }),
        el("td", { text: r.leapp_run_id || "" }), el("td", { text: r.reports.filter((x) => x.inhibitor).length }),
        el("td", { text: r.reports.length }), el("td", { class: "error-text", text: r.error || "" })))));
    const inhibitors = node ? node.inhibitors : [];
    box.replaceChildren(...[
      el("div", { class: "detail-head" }, el("h2", { text: name + (node ? " (" + node.role + ")" : "") }), close),
      el("p", { text: "Phase " + (view.phase || "not reported") + ", OS " + (view.os_release || "unknown") +
        ", last report " + time(view.updated_at) + "." }),
      view.error ? el("pre", { class: "error-text", text: view.error }) : null,
      el("h3", { text: "Inhibitors" }),
      inhibitors.length ? el("ul", null, ...inhibitors.map((i) => el("li", { class: i.accepted ? "accepted" : "" },
        el("strong", { text: i.title || "(untitled)" }), " ", el("code", { text: i.key || "" }),
        i.accepted ? " (accepted)" : "", i.remediation ? el("div", { text: "Remediation: " + i.remediation }) : null)))
        : el("p", { text: "None." }),
      el("h3", { text: "Timeline (newest first)" }), timeline,
      view.older_reports ? el("p", { class: "note", text: view.older_reports.count + " older reports from " +
        time(view.older_reports.first_at) + " to " + time(view.older_reports.last_at) + " (phases " +
        view.older_reports.phases.join(", ") + ") are summarised only." }) : null].filter(Boolean));
    box.hidden = false;
    if (scroll) box.scrollIntoView();
  }

  // --- wiring ---------------------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("login").addEventListener("submit", login);
    $("logout").addEventListener("click", () => showLogin("Logged out."));
    for (const id of ["filter-text", "filter-role", "filter-phase", "filter-os", "filter-inhibited"]) {
      $(id).addEventListener("input", renderNodes);
    }
    showLogin("");
  });
})();
