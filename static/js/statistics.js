// While a project's statistics are computed in the background, ask the server every few seconds
// whether they are ready and reload the page when they are (#stats-status[data-poll-url]).
(function () {
  "use strict";
  var INTERVAL_MS = 4000;
  var GIVE_UP_MS = 30 * 60 * 1000;

  function start() {
    var box = document.getElementById("stats-status");
    if (!box || !box.dataset.pollUrl) { return; }
    var began = Date.now();

    function poll() {
      if (Date.now() - began > GIVE_UP_MS) {
        box.querySelector("strong").textContent = "Still computing.";
        return;
      }
      fetch(box.dataset.pollUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (state && state.ready) {
            window.location.reload();
          } else if (state && state.error && !state.computing) {
            box.querySelector("strong").textContent = "The computation failed.";
          } else {
            window.setTimeout(poll, INTERVAL_MS);
          }
        })
        .catch(function () { window.setTimeout(poll, INTERVAL_MS * 2); });
    }
    window.setTimeout(poll, INTERVAL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
