/* The heat map: a procedure's diagram (bpmn-js viewer) with each step coloured by the office's own
   history over a period: median or 90th-percentile working days, or the share of steps done late.
   Five colour classes from viridis (colour-blind safe, readable in greyscale), light = fast, dark = slow;
   the figures are on each step (badge) and in its tooltip, and in the table beside the diagram.
   One script for every place: a section [data-heatmap] with its own viewer (file page, dashboard), or
   with data-heat-overlay naming the page's bpmn-js instance (the designer's modeler: window.ptspModeler),
   painted over it while its "Peta panas" toggle is on. */
(function () {
  "use strict";
  var PALETTE = ["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"];
  var INK = ["#1a1a1a", "#1a1a1a", "#ffffff", "#ffffff", "#ffffff"];

  function number(value, lang, digits) {
    return Number(value).toLocaleString(lang === "en" ? "en-GB" : "id-ID",
      { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function classOf(value, top) {
    if (!(top > 0)) { return 0; }
    return Math.min(PALETTE.length - 1, Math.floor((value / top) * PALETTE.length));
  }

  function fetchOk(url, kind) {
    return window.fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(kind + " " + r.status); }
      return kind === "heat" ? r.json() : r.text();
    });
  }

  function setUp(section) {
    var overlay = section.getAttribute("data-heat-overlay");
    var holder = section.querySelector(".heat-diagram");
    var legend = section.querySelector(".heat-legend");
    var status = section.querySelector(".heat-status");
    var toggle = section.querySelector("input[data-heat-toggle]");
    var heatUrl = section.getAttribute("data-heat-url") || (holder && holder.getAttribute("data-heat-url"));
    var texts = JSON.parse(section.getAttribute("data-texts") || "{}");
    var lang = document.documentElement.getAttribute("lang") || "id";
    var viewer = null;
    var heat = null;
    var marked = [];
    var badges = [];
    function fail() {
      var target = holder || status;
      if (target) { target.textContent = (holder || section).getAttribute("data-error-text") || ""; }
    }
    if (typeof window.fetch !== "function") { fail(); return; }

    function metricValue(step, metric) {
      if (metric === "overdue_rate") { return step.overdue_rate === null ? 0 : step.overdue_rate * 100; }
      return step[metric] === null ? 0 : step[metric];
    }

    function clear() {
      var canvas = viewer.get("canvas");
      var overlays = viewer.get("overlays");
      marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
      badges.forEach(function (id) { overlays.remove(id); });
      marked = []; badges = [];
      legend.innerHTML = "";
      section.setAttribute("data-painted", "0");
    }

    function paint(metric) {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var overlays = viewer.get("overlays");
      clear();
      var names = Object.keys(heat.steps);
      var top = 0;
      names.forEach(function (name) { top = Math.max(top, metricValue(heat.steps[name], metric)); });
      var unit = metric === "overdue_rate" ? "%" : " " + texts.days;
      names.forEach(function (name) {
        var element = registry.get(name);
        if (!element) { return; }
        var step = heat.steps[name];
        var value = metricValue(step, metric);
        var cls = "heat-" + classOf(value, top);
        canvas.addMarker(name, cls);
        marked.push([name, cls]);
        var tip = step.title + " — " + texts.median + " " + number(step.median, lang, 2) + " " + texts.days +
          " · p90 " + number(step.p90, lang, 2) + " · " + texts.late + " " + step.overdue + "/" + step.count +
          " · n=" + step.count;
        var badge = document.createElement("div");
        badge.className = "heat-badge";
        badge.setAttribute("title", tip);
        badge.setAttribute("data-step", name);
        badge.textContent = number(value, lang, metric === "overdue_rate" ? 0 : 1) + unit + " · n=" + step.count;
        badges.push(overlays.add(name, { position: { bottom: -4, left: 0 }, html: badge }));
      });
      if (holder) { holder.setAttribute("data-painted", String(marked.length)); }
      section.setAttribute("data-painted", String(marked.length));
      PALETTE.forEach(function (colour, i) {
        var item = document.createElement("li");
        var swatch = document.createElement("span");
        swatch.className = "heat-swatch";
        swatch.style.background = colour;
        swatch.style.color = INK[i];
        item.appendChild(swatch);
        var low = top * i / PALETTE.length, high = top * (i + 1) / PALETTE.length;
        var digits = metric === "overdue_rate" ? 0 : 2;
        item.appendChild(document.createTextNode(" " + number(low, lang, digits) + "–" + number(high, lang, digits) + unit));
        legend.appendChild(item);
      });
      section.setAttribute("data-metric", metric);
    }

    function metric() {
      var checked = section.querySelector("input[name=heat-metric]:checked");
      return checked ? checked.value : "median";
    }

    function listen() {
      Array.prototype.forEach.call(section.querySelectorAll("input[name=heat-metric]"), function (input) {
        input.addEventListener("change", function () {
          if (heat && (!toggle || toggle.checked)) { paint(input.value); }
        });
      });
    }

    if (overlay) {
      // Over the page's own diagram: fetched when first switched on, cleared when switched off.
      viewer = window[overlay];
      if (!viewer || !toggle) { fail(); return; }
      var controls = section.querySelector(".heat-controls");
      listen();
      toggle.addEventListener("change", function () {
        if (controls) { controls.hidden = !toggle.checked; }
        if (!toggle.checked) { if (heat) { clear(); } return; }
        (heat ? Promise.resolve(heat) : fetchOk(heatUrl, "heat")).then(function (data) {
          heat = data;
          if (toggle.checked) { paint(metric()); }
        }).catch(fail);
      });
      return;
    }

    if (typeof window.BpmnJS !== "function") { fail(); return; }
    viewer = new window.BpmnJS({ container: holder });
    Promise.all([fetchOk(holder.getAttribute("data-xml-url"), "diagram"), fetchOk(heatUrl, "heat")])
      .then(function (results) {
        heat = results[1];
        return viewer.importXML(results[0]);
      }).then(function () {
        viewer.get("canvas").zoom("fit-viewport");
        paint(metric());
        listen();
      }).catch(fail);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-heatmap]"), setUp);
})();
