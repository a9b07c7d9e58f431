// astcti configurator: the little behaviour the pages need, no build step.
// Every page works without it; it adds modal dialogs (focus kept inside,
// Escape cancels), row selection for the toolbar, Enter and double click
// on a row to edit it, and the arrow keys to move between rows. Back from
// a dialog (saved, removed or cancelled), the focus is where it was: on
// the row, or on Add.
"use strict";

// returnKey keeps, for the next page of this tab, what had the focus when
// a dialog was opened from a list: the row's edit URL, or "add".
const returnKey = "astcti-return";
const remember = (from) =>
  sessionStorage.setItem(returnKey, JSON.stringify({ path: location.pathname, from }));
const leaveFor = (url, from) => {
  remember(from);
  location.assign(url);
};

document.addEventListener("DOMContentLoaded", () => {
  // A dialog the server rendered open becomes modal. Escape (the
  // "cancel" event) and Cancel go back to the list.
  for (const d of document.querySelectorAll("dialog[data-modal]")) {
    if (d.open) d.close();
    d.showModal();
    d.dataset.shown = "";
    d.addEventListener("cancel", (e) => {
      e.preventDefault();
      location.assign(d.dataset.cancel);
    });
    const bad = d.querySelector('[aria-invalid="true"]');
    if (bad) bad.focus();
  }

  const add = document.querySelector(".toolbar a[accesskey]");
  if (add) add.addEventListener("click", () => remember("add"));
  let back = null;
  if (!document.querySelector("dialog[data-shown]")) {
    try { back = JSON.parse(sessionStorage.getItem(returnKey)); } catch { back = null; }
    sessionStorage.removeItem(returnKey);
    if (back && back.path !== location.pathname) back = null;
    if (back && back.from === "add" && add) add.focus();
  }

  const list = document.querySelector("table[data-list]");
  if (!list) return;
  const rows = Array.from(list.querySelectorAll("tbody tr"));
  const buttons = document.querySelectorAll(".toolbar button[data-action]");
  let selected = null;
  const select = (row) => {
    if (selected) selected.removeAttribute("aria-selected");
    selected = row;
    row.setAttribute("aria-selected", "true");
    for (const b of buttons) b.disabled = false;
  };
  for (const b of buttons) {
    b.addEventListener("click", () => {
      if (selected) leaveFor(selected.dataset[b.dataset.action], selected.dataset.edit);
    });
  }
  rows.forEach((row, i) => {
    row.addEventListener("click", () => select(row));
    row.addEventListener("focus", () => select(row));
    row.addEventListener("dblclick", () => leaveFor(row.dataset.edit, row.dataset.edit));
    row.addEventListener("keydown", (e) => {
      if (e.target !== row) return;
      switch (e.key) {
        case "Enter":
          e.preventDefault();
          leaveFor(row.dataset.edit, row.dataset.edit);
          break;
        case "Delete":
          e.preventDefault();
          leaveFor(row.dataset.remove, row.dataset.edit);
          break;
        case "ArrowDown":
          e.preventDefault();
          if (rows[i + 1]) rows[i + 1].focus();
          break;
        case "ArrowUp":
          e.preventDefault();
          if (rows[i - 1]) rows[i - 1].focus();
          break;
      }
    });
    if (back && back.from === row.dataset.edit) row.focus();
  });
});
