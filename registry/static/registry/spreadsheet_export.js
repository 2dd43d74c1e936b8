// django-import-export's export page: its "Select all" box called onSelectToggleChange (from the
// library's export_selectable_fields.js) in an onchange attribute, which the CSP refuses.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const toggle of document.querySelectorAll("input.select-toggle")) {
    toggle.addEventListener("change", onSelectToggleChange);
  }
});
