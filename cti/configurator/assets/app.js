// astcti configurator: the little behaviour the pages need, no build step.
// Every page works without it; it adds modal dialogs (focus kept inside,
// Escape cancels), row selection for the toolbar, Enter and double click
// on a row to edit it, and the arrow keys to move between rows.
"use strict";

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
      if (selected) location.assign(selected.dataset[b.dataset.action]);
    });
  }
  rows.forEach((row, i) => {
    row.addEventListener("click", () => select(row));
    row.addEventListener("focus", () => select(row));
    row.addEventListener("dblclick", () => location.assign(row.dataset.edit));
    row.addEventListener("keydown", (e) => {
      if (e.target !== row) return;
      switch (e.key) {
        case "Enter":
          e.preventDefault();
          location.assign(row.dataset.edit);
          break;
        case "Delete":
          e.preventDefault();
          location.assign(row.dataset.remove);
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
  });
});
