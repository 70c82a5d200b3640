
(function () {
  "use strict";
  var table = document.getElementById("class-table");

  // the scatter: hovering, focusing or clicking a point writes its class into the readout below it
  function signed(v) { var x = parseFloat(v); return (x > 0 ? "+" : "") + x.toFixed(1); }
  var scatters = Array.prototype.slice.call(document.querySelectorAll("svg.scatter"));
  scatters.forEach(function (svg) {
    var pick = document.getElementById("pick-" + svg.id.split("-")[1]);
    var chosen = null;
    function show(point, keep) {
      if (keep) {
        if (chosen) { chosen.classList.remove("chosen"); }
        chosen = point;
        point.classList.add("chosen");
      }
      var status = point.classList.contains("pt-affected") ? "; affected" :
        point.classList.contains("pt-explained") ? "; drop explained by multi-labels" : "";
      pick.textContent = point.getAttribute("data-name") + " (" + point.getAttribute("data-key") + "): " +
        signed(point.getAttribute("data-x")) + " points under original labels, " +
        signed(point.getAttribute("data-y")) + " under multi-labels" + status;
      pick.setAttribute("data-name", point.getAttribute("data-name"));
    }
    function restore() {
      if (chosen) { show(chosen, false); }
    }
    svg.addEventListener("mouseover", function (ev) { if (ev.target.classList.contains("pt")) { show(ev.target, false); } });
    svg.addEventListener("focusin", function (ev) { if (ev.target.classList.contains("pt")) { show(ev.target, false); } });
    svg.addEventListener("click", function (ev) { if (ev.target.classList.contains("pt")) { show(ev.target, true); } });
    svg.addEventListener("mouseleave", restore);
  });
  if (!table) {
    if (/[?&]selftest=1(&|$)/.test(window.location.search)) {
      window.addEventListener("load", function () {
        document.getElementById("selftest").textContent = JSON.stringify(views({ ok: true, checks: {} }));
      });
    }
    return;
  }
  var tbody = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var rows = Array.prototype.slice.call(tbody.rows);
  var filter = document.getElementById("filter");
  var groupFilter = document.getElementById("group-filter");
  var statusFilter = document.getElementById("status-filter");
  var count = document.getElementById("count");
  var state = { column: -1, ascending: true };

  function value(row, i, numeric) {
    var cell = row.cells[i];
    if (!numeric) { return cell.textContent.toLowerCase(); }
    var v = cell.getAttribute("data-v");
    return v === null || v === "" ? null : parseFloat(v);
  }

  function sortBy(i, ascending) {
    var numeric = heads[i].getAttribute("data-type") === "num";
    var keyed = rows.map(function (row, position) { return { row: row, key: value(row, i, numeric), position: position }; });
    keyed.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) { return a.position - b.position; }
        return a.key === null ? 1 : -1;  // missing values last in both directions
      }
      var order = numeric ? a.key - b.key : a.key.localeCompare(b.key);
      if (order === 0) { return a.position - b.position; }
      return ascending ? order : -order;
    });
    rows = keyed.map(function (k) { return k.row; });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    tbody.appendChild(fragment);
    heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
    heads[i].setAttribute("aria-sort", ascending ? "ascending" : "descending");
    state.column = i;
    state.ascending = ascending;
  }

  function applyFilters() {
    var text = filter ? filter.value.trim().toLowerCase() : "";
    var group = groupFilter ? groupFilter.value : "";
    var onlyMarked = statusFilter ? statusFilter.checked : false;
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!text || row.getAttribute("data-search").indexOf(text) !== -1) &&
        (!group || row.getAttribute("data-group") === group) &&
        (!onlyMarked || row.getAttribute("data-status") !== "");
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    if (count) { count.textContent = "showing " + shown + " of " + rows.length + " rows"; }
  }

  heads.forEach(function (head, i) {
    if (head.getAttribute("aria-sort") === "ascending") { state.column = i; }
    head.querySelector("button").addEventListener("click", function () {
      sortBy(i, state.column === i ? !state.ascending : true);
    });
  });
  [filter, groupFilter, statusFilter].forEach(function (input) {
    if (input) { input.addEventListener(input.type === "checkbox" ? "change" : "input", applyFilters); }
  });
  applyFilters();

  if (/[?&]selftest=1(&|$)/.test(window.location.search)) { window.addEventListener("load", selftest); }

  function columnOf(key) {
    for (var i = 0; i < heads.length; i++) { if (heads[i].getAttribute("data-key") === key) { return i; } }
    return -1;
  }
  function visibleValues(i, numeric) {
    return rows.filter(function (r) { return !r.hidden; }).map(function (r) { return value(r, i, numeric); });
  }
  function ordered(values, ascending) {
    var present = values.filter(function (v) { return v !== null; });
    for (var k = 1; k < present.length; k++) {
      var order = typeof present[k] === "number" ? present[k] - present[k - 1] : present[k].localeCompare(present[k - 1]);
      if (ascending ? order < 0 : order > 0) { return false; }
    }
    return values.slice(present.length).every(function (v) { return v === null; });
  }
  function selftest() {
    var out = { checks: {} };
    try {
      views(out);
      var numeric = columnOf("delta_multilabel") >= 0 ? columnOf("delta_multilabel") : columnOf("delta_original");
      if (numeric < 0) { numeric = columnOf("acc_original"); }
      var button = heads[numeric].querySelector("button");
      button.click();
      out.checks.first_click_sorts = ordered(visibleValues(numeric, true), state.ascending);
      out.first_click = state.ascending ? "ascending" : "descending";
      button.click();
      out.checks.second_click_reverses = ordered(visibleValues(numeric, true), state.ascending) &&
        out.first_click !== (state.ascending ? "ascending" : "descending");
      out.top_after_second_click = rows[0].cells[columnOf("class_name")].textContent;
      var name = columnOf("class_name");
      heads[name].querySelector("button").click();
      out.checks.text_sorts = ordered(visibleValues(name, false), true);
      out.first_by_name = rows[0].cells[name].textContent;
      out.rows = rows.length;
      if (filter) {
        filter.value = rows[0].cells[columnOf("class_key")].textContent.toLowerCase();
        filter.dispatchEvent(new Event("input"));
        var visible = rows.filter(function (r) { return !r.hidden; }).length;
        out.checks.filter_narrows = visible >= 1 && visible < rows.length;
        filter.value = "";
        filter.dispatchEvent(new Event("input"));
        out.checks.filter_clears = rows.every(function (r) { return !r.hidden; });
      }
      out.scripts = document.getElementsByTagName("script").length;
      out.images = Array.prototype.map.call(document.images, function (img) { return img.complete && img.naturalWidth > 0; });
      out.ok = Object.keys(out.checks).every(function (k) { return out.checks[k] === true; });
    } catch (err) {
      out.ok = false;
      out.error = String(err && err.stack || err);
    }
    document.getElementById("selftest").textContent = JSON.stringify(out);
  }

  // what the interactive views show, for the browser test: every scatter point identifies its class
  function views(out) {
    out.scatter = scatters.map(function (svg) {
      var points = Array.prototype.slice.call(svg.querySelectorAll(".pt"));
      var pick = document.getElementById("pick-" + svg.id.split("-")[1]);
      var identified = 0;
      points.forEach(function (p) {
        p.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
        if (pick.getAttribute("data-name") === p.getAttribute("data-name") &&
            pick.textContent.indexOf(p.getAttribute("data-name")) === 0) { identified += 1; }
      });
      var clicked = null;
      var affected = svg.querySelector(".pt-affected") || points[0];
      if (affected) {
        affected.dispatchEvent(new MouseEvent("click", { bubbles: true }));
        svg.dispatchEvent(new MouseEvent("mouseleave"));
        clicked = pick.getAttribute("data-name");
      }
      return { points: points.length, identified: identified, clicked: clicked };
    });
    if (scatters.length) {
      out.checks.scatter_identifies = out.scatter.every(function (s) { return s.points > 0 && s.identified === s.points; });
    }
    var matrix = document.getElementById("matrix-table");
    if (matrix) {
      out.matrix = {
        rows: matrix.tBodies[0].rows.length,
        groups: matrix.tHead.rows[0].cells.length - 1,
        cells: matrix.querySelectorAll("td.cell[data-v]").length,
        affected: matrix.querySelectorAll("td.cell.affected").length,
        improved: matrix.querySelectorAll("td.cell.improved").length,
        first: matrix.tBodies[0].rows.length ? matrix.tBodies[0].rows[0].cells[0].textContent : null,
        tradeoff: Array.prototype.map.call(document.querySelectorAll("#tradeoff .tp"), function (g) {
          return g.getAttribute("data-name");
        })
      };
    }
    out.seeds = Array.prototype.map.call(document.querySelectorAll(".seeds"), function (s) {
      return s.querySelectorAll("[data-seed]").length;
    });
    out.headline = Array.prototype.map.call(document.querySelectorAll("#headline .big"), function (b) {
      return b.getAttribute("data-kind") + " " + b.querySelector("b").textContent;
    });
    out.thumbnails = Array.prototype.filter.call(document.querySelectorAll("figure.thumb img"), function (img) {
      return img.complete && img.naturalWidth > 0;
    }).length;
    out.scripts = document.getElementsByTagName("script").length;
    out.images = Array.prototype.map.call(document.images, function (img) { return img.complete && img.naturalWidth > 0; });
    return out;
  }
})();
