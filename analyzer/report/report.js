/* sprint-analyzer pages: draw the charts, link the time axes, sort tables, zoom to a step.
   Plain JavaScript, no library besides plotly.js; works from file:// with no network. */
(function () {
  "use strict";

  var root = document.documentElement;
  var payloadEl = document.getElementById("figure-data");
  var payload = payloadEl ? JSON.parse(payloadEl.textContent) : { figures: {}, config: {} };
  var coarsePointer = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

  /* ---------------------------------------------------------------- charts */

  function timePlots() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-time-axis].js-plotly-plot"));
  }

  /* Set a plotly attribute path ("yaxis.title.text") in a layout, copying what it touches. */
  function setPath(layout, path, value) {
    var keys = path.split(".");
    var node = layout;
    for (var i = 0; i < keys.length - 1; i += 1) {
      var next = node[keys[i]];
      node[keys[i]] = (next && typeof next === "object") ? Object.assign({}, next) : {};
      node = node[keys[i]];
    }
    node[keys[keys.length - 1]] = value;
  }

  function isNarrow(el) { return el.clientWidth < 600; }

  /* Narrow screens get the figure's own compact overrides (taller, shorter titles). */
  function adaptLayout(layout, el) {
    var compact = layout.meta && layout.meta.compact;
    if (compact && isNarrow(el)) {
      Object.keys(compact).forEach(function (path) { setPath(layout, path, compact[path]); });
    }
    // On touch screens a drag must scroll the page, not zoom the chart.
    if (coarsePointer) { layout.dragmode = false; }
    return layout;
  }

  function drawCharts() {
    var targets = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
    if (!targets.length) {
      root.setAttribute("data-charts", "none");
      return;
    }
    if (!window.Plotly) {
      root.classList.add("no-plotly");
      root.setAttribute("data-charts", "missing");
      return;
    }
    var drawn = targets.map(function (el) {
      var fig = payload.figures[el.getAttribute("data-figure")];
      if (!fig) { return Promise.resolve(); }
      shown.push({ el: el, fig: fig, narrow: isNarrow(el) });
      var layout = adaptLayout(Object.assign({}, fig.layout), el);
      return window.Plotly.newPlot(el, fig.data, layout, payload.config);
    });
    Promise.all(drawn).then(function () {
      linkTimeAxes(timePlots());
      window.addEventListener("resize", onResize);
      root.setAttribute("data-charts", "ready");
    }, function (err) {
      root.setAttribute("data-charts", "failed");
      throw err;
    });
  }

  /* A phone turned sideways (or a window resized) across the narrow limit: re-lay out. */
  var shown = [];
  var resizeTimer = null;
  function onResize() {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      shown.forEach(function (item) {
        var narrow = isNarrow(item.el);
        if (narrow === item.narrow) { return; }
        item.narrow = narrow;
        window.Plotly.react(item.el, item.fig.data, adaptLayout(Object.assign({}, item.fig.layout), item.el),
          payload.config);
      });
    }, 200);
  }

  /* Zooming one time chart zooms the others to the same span. */
  function linkTimeAxes(plots) {
    var syncing = false;
    plots.forEach(function (source) {
      source.on("plotly_relayout", function (event) {
        if (syncing) { return; }
        var update = null;
        if (event["xaxis.range[0]"] !== undefined) {
          update = { "xaxis.range": [event["xaxis.range[0]"], event["xaxis.range[1]"]] };
        } else if (event["xaxis.range"]) {
          update = { "xaxis.range": event["xaxis.range"].slice() };
        } else if (event["xaxis.autorange"]) {
          update = { "xaxis.autorange": true };
        }
        if (!update) { return; }
        syncing = true;
        var others = plots.filter(function (p) { return p !== source; });
        Promise.all(others.map(function (p) { return window.Plotly.relayout(p, update); }))
          .then(function () { syncing = false; }, function () { syncing = false; });
      });
    });
  }

  function setTimeRange(range) {
    var plots = timePlots();
    if (!plots.length) { return Promise.resolve(); }
    // Relayout the first; the link carries the range to the others.
    var update = range ? { "xaxis.range": range } : { "xaxis.autorange": true };
    return window.Plotly.relayout(plots[0], update);
  }

  /* ---------------------------------------------------------------- step buttons */

  function onZoomClick(event) {
    var button = event.target.closest("[data-zoom-start]");
    if (!button) { return; }
    var start = parseFloat(button.getAttribute("data-zoom-start"));
    var end = parseFloat(button.getAttribute("data-zoom-end"));
    if (!isFinite(start) || !isFinite(end)) { return; }
    var pad = Math.max(0.15, (end - start) * 0.6);
    if (window.Plotly) { setTimeRange([start - pad, end + pad]); }
    var video = document.getElementById("overlay-video");
    if (video && video.readyState > 0) {
      video.pause();
      video.currentTime = Math.max(0, start);
    }
    var charts = document.getElementById("timeline");
    if (charts) { charts.scrollIntoView({ behavior: "smooth", block: "start" }); }
  }

  function onResetClick(event) {
    if (event.target.closest("[data-zoom-reset]") && window.Plotly) { setTimeRange(null); }
  }

  /* ---------------------------------------------------------------- sortable tables */

  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    if (!numeric) { return raw.trim().toLowerCase(); }
    var number = parseFloat(raw);
    return isFinite(number) ? number : null;
  }

  function sortTable(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var numeric = th.getAttribute("data-type") === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, order) {
      return { row: row, value: cellValue(row, index, numeric), order: order };
    });
    rows.sort(function (a, b) {
      // Missing values always sink to the bottom; ties keep their order.
      if (a.value === null || b.value === null) {
        return (a.value === null) - (b.value === null) || a.order - b.order;
      }
      var cmp = a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
      return (ascending ? cmp : -cmp) || a.order - b.order;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function onSortClick(event) {
    var button = event.target.closest("th .sort");
    if (!button) { return; }
    sortTable(button.closest("table"), button.closest("th"));
  }

  /* ---------------------------------------------------------------- start */

  document.addEventListener("click", function (event) {
    onSortClick(event);
    onZoomClick(event);
    onResetClick(event);
  });
  root.classList.add("js");
  drawCharts();
}());
