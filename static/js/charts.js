// Draw the Plotly figures of a page: every <div class="plot" data-figure="{data, layout, config}">
// (or data-src="url" answering that JSON) gets Plotly.newPlot. No inline scripts (CSP).
(function () {
  "use strict";

  function draw(el, figure) {
    var config = Object.assign({ responsive: true, displaylogo: false }, figure.config || {});
    return window.Plotly.newPlot(el, figure.data || [], figure.layout || {}, config).then(function () {
      el.classList.add("plot-ready");
    });
  }

  function fail(el, message) {
    el.classList.add("plot-failed");
    el.textContent = message;
  }

  function render(el) {
    if (el.dataset.figure) {
      try {
        return draw(el, JSON.parse(el.dataset.figure));
      } catch (err) {
        fail(el, "This chart could not be drawn.");
        throw err;
      }
    }
    if (el.dataset.src) {
      return fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status + " " + r.statusText); } return r.json(); })
        .then(function (figure) { return draw(el, figure); })
        .catch(function () { fail(el, "This chart could not be loaded."); });
    }
    return null;
  }

  function start() {
    if (!window.Plotly) {
      document.querySelectorAll(".plot").forEach(function (el) { fail(el, "Charts need plotly.js, which did not load."); });
      return;
    }
    document.querySelectorAll(".plot[data-figure], .plot[data-src]").forEach(render);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
