// The workspace's behaviour, under the Content-Security-Policy (no inline script, no eval):
// - a date picker beside every ISO date field (a native date input opened by a button; the text field
//   keeps YYYY-MM-DD whatever the browser's locale shows);
// - branching logic: after an htmx request answers #branching-state, the fields it names are hidden;
// - the error summary takes the focus when a page shows one.
"use strict";

function addDatePickers(root) {
  for (const input of root.querySelectorAll("input[data-date-picker]:not([data-picker-ready])")) {
    input.setAttribute("data-picker-ready", "");
    if (input.disabled || input.readOnly) continue;
    const wrap = document.createElement("span");
    wrap.className = "date-picker-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    const native = document.createElement("input");
    native.type = "date";
    native.className = "date-picker-native";
    native.tabIndex = -1;
    native.setAttribute("aria-hidden", "true");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small";
    button.textContent = "Pick";
    const label = input.labels && input.labels[0] ? input.labels[0].textContent.replace(/[\s:*]+$/, "").trim() : "date";
    button.setAttribute("aria-label", "Pick a date for " + label);
    button.addEventListener("click", () => {
      if (/^\d{4}-\d{2}-\d{2}$/.test(input.value)) native.value = input.value;
      if (typeof native.showPicker === "function") native.showPicker(); else native.focus();
    });
    native.addEventListener("change", () => {
      if (native.value) {
        input.value = native.value;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        input.focus();
      }
    });
    wrap.appendChild(native);
    wrap.appendChild(button);
  }
}

function applyBranching() {
  // The answer replaces #branching-state itself (outerHTML): htmx's event may name it, its old self or
  // its parent, so look it up in the document.
  const state = document.getElementById("branching-state");
  if (!state) return;
  const form = document.getElementById(state.dataset.form);
  if (!form) return;
  const hidden = new Set((state.dataset.hidden || "").split(" ").filter(Boolean));
  for (const field of form.querySelectorAll("[data-field]")) {
    field.hidden = hidden.has(field.dataset.field);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  addDatePickers(document);
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
document.addEventListener("htmx:afterSettle", (event) => {
  addDatePickers(event.target);
  applyBranching();
});

// Rows entered on their parent's page (a line's baseline lesions, a biopsy's NGS variants): "Add a ..."
// appends a copy of the formset's empty row (<template id="row-template-PREFIX">) numbered after the
// others, and counts it in the formset's TOTAL_FORMS; the first input of the new row takes the focus.
document.addEventListener("click", (event) => {
  const button = event.target.closest ? event.target.closest("[data-add-row]") : null;
  if (!button) return;
  const prefix = button.dataset.addRow;
  const template = document.getElementById("row-template-" + prefix);
  const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  const section = document.getElementById("rows-" + prefix);
  if (!template || !total || !section) return;
  const index = parseInt(total.value, 10) || 0;
  const holder = document.createElement("div");
  holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
  const row = holder.firstElementChild;
  section.querySelector(".row-list").appendChild(row);
  total.value = String(index + 1);
  addDatePickers(row);
  const first = row.querySelector("input:not([type=hidden]), select, textarea");
  if (first) first.focus();
});
