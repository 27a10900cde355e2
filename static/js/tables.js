// Sortable, filterable tables (no inline scripts under the CSP): a <table class="sortable"> sorts by
// a heading's column when it is clicked (th[data-sort="num"|"text"], cells' data-value); a
// .table-tools[data-table=id] box filters its rows by text (tr[data-search]) and by flag (tr[data-flagged]).
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell ? (cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim()) : "";
    if (!numeric) { return raw.toLowerCase(); }
    return raw === "" ? null : parseFloat(raw);
  }

  function sortBy(table, th, index) {
    var numeric = th.dataset.sort === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }  // empty cells last, either way
      if (y === null) { return -1; }
      var order = x < y ? -1 : (x > y ? 1 : 0);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function filter(tools, table) {
    var text = tools.querySelector(".table-filter");
    var flagged = tools.querySelector(".table-flagged");
    var needle = text ? text.value.trim().toLowerCase() : "";
    var onlyFlagged = flagged && flagged.checked;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var show = (!needle || (row.dataset.search || "").indexOf(needle) !== -1) &&
                 (!onlyFlagged || row.dataset.flagged === "1");
      row.hidden = !show;
    });
  }

  function start() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("th[data-sort]").forEach(function (th, index) {
        th.tabIndex = 0;
        th.classList.add("sort-head");
        var go = function () { sortBy(table, th, th.cellIndex); };
        th.addEventListener("click", go);
        th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
      });
    });
    document.querySelectorAll(".table-tools[data-table]").forEach(function (tools) {
      var table = document.getElementById(tools.dataset.table);
      if (!table) { return; }
      tools.querySelectorAll("input").forEach(function (input) {
        input.addEventListener("input", function () { filter(tools, table); });
        input.addEventListener("change", function () { filter(tools, table); });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
