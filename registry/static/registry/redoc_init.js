// Starts ReDoc on /api/redoc/ from a static file, so that the page needs no inline script: the
// schema URL, ReDoc's settings and the page's CSP nonce come from the container's data attributes.
"use strict";
(function () {
  const container = document.getElementById("redoc-container");
  const settings = JSON.parse(container.dataset.settings || "{}");
  settings.nonce = container.dataset.nonce;
  Redoc.init(container.dataset.schemaUrl, settings, container);
})();
