// astcti configurator, the Live page: reads /live.json every 2 seconds
// and updates the page in place. The page is readable without it (the
// server rendered it); this only keeps it current. Every text from the
// server goes in with textContent, never as HTML: operator names and pause
// reasons are typed by people. One request at a time: the next is asked
// for once the last has ended, and none while the tab is hidden.
"use strict";

(() => {
  const root = document.getElementById("live");
  if (!root) return;
  const every = 2000;
  const $ = (id) => document.getElementById(id);
  const text = (id, s) => {
    const el = $(id);
    if (el.textContent !== s) el.textContent = s;
  };
  const show = (id, on) => {
    const el = $(id);
    if (el.hidden === on) el.hidden = !on;
  };
  const cell = (tr, s, cls) => {
    const td = document.createElement("td");
    td.textContent = s;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  };
  const none = (tbody, cols, s) => {
    const tr = document.createElement("tr");
    tr.className = "none";
    cell(tr, s).colSpan = cols;
    tbody.appendChild(tr);
  };
  // fill replaces tbody's rows when what they show changed, and only then:
  // a screen reader is not told of a table that did not change.
  const shown = new Map();
  const fill = (id, rows, cols, empty, row) => {
    const key = JSON.stringify(rows);
    if (shown.get(id) === key) return;
    shown.set(id, key);
    const tbody = $(id);
    tbody.replaceChildren();
    if (rows.length === 0) none(tbody, cols, empty);
    for (const r of rows) {
      const tr = document.createElement("tr");
      row(tr, r);
      tbody.appendChild(tr);
    }
  };

  const seat = (tr, s) => {
    cell(tr, s.operator);
    cell(tr, s.mac, "mono");
    cell(tr, s.interface, "mono");
    const ul = document.createElement("ul");
    ul.className = "queues";
    for (const q of s.queues) {
      const li = document.createElement("li");
      li.className = "member-" + q.state;
      li.textContent = q.queue + ": " + q.state;
      ul.appendChild(li);
    }
    cell(tr, "").appendChild(ul);
    cell(tr, s.pause, s.paused ? "paused" : "");
    cell(tr, s.pause_since);
  };
  const call = (tr, c) => {
    cell(tr, c.service);
    cell(tr, String(c.calls));
    cell(tr, String(c.answered));
  };

  const down = (msg) => {
    text("live-down", msg);
    show("live-down", true);
    show("live-data", false);
    text("live-checked", "");
  };

  const render = (v) => {
    if (!v.reached) {
      down(v.error);
      return;
    }
    show("live-down", false);
    show("live-data", true);
    text("live-checked", "Read from the server at " + v.checked + ".");
    const state = $("link-state");
    text("link-state", v.link.state);
    state.classList.toggle("link-up", v.link.up);
    state.classList.toggle("link-down", !v.link.up);
    text("link-since", v.link.since);
    text("link-error", v.link.last_error);
    text("link-version", v.link.version);
    text("config-file", v.config.file);
    text("config-since", v.config.since);
    text("config-summary", v.config.summary);
    show("config-refused", Boolean(v.config.refused));
    text("config-refused-file", v.config.refused_file || "");
    text("config-refused-error", v.config.refused || "");
    text("seats-count", String(v.seats_total));
    text("seats-paused", String(v.seats_paused));
    text("seats-matching", String(v.seats_matching));
    show("seats-more", v.seats_matching > v.seats.length);
    fill("seats", v.seats, 6, "No seat logged in.", seat);
    fill("calls", v.calls, 3, "No call in progress.", call);
  };

  const refresh = async () => {
    if (document.hidden) {
      setTimeout(refresh, every);
      return;
    }
    try {
      const r = await fetch(root.dataset.src, {
        headers: { Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (r.status === 401) {
        // The session ended: say so, and stop asking.
        show("live-down", false);
        show("live-data", false);
        show("live-session", true);
        return;
      }
      if (!r.ok) throw new Error("it answered " + r.status);
      render(await r.json());
    } catch (e) {
      down("The configurator cannot be reached (" + e.message + "): trying again.");
    }
    setTimeout(refresh, every);
  };
  setTimeout(refresh, every);
})();
