/* The heat map: a procedure's diagram (bpmn-js viewer) with each step coloured by the office's own
   history over a period: median or 90th-percentile working days, or the share of steps done late.
   Five colour classes from viridis (colour-blind safe, readable in greyscale), light = fast, dark = slow;
   the figures are on each step (badge) and in its tooltip, and in the table beside the diagram. */
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

  function setUp(section) {
    var holder = section.querySelector(".heat-diagram");
    var legend = section.querySelector(".heat-legend");
    var texts = JSON.parse(section.getAttribute("data-texts") || "{}");
    var lang = document.documentElement.getAttribute("lang") || "id";
    function fail() { holder.textContent = holder.getAttribute("data-error-text") || ""; }
    if (typeof window.BpmnJS !== "function" || typeof window.fetch !== "function") { fail(); return; }
    var viewer = new window.BpmnJS({ container: holder });
    var heat = null;
    var marked = [];
    var badges = [];

    function metricValue(step, metric) {
      if (metric === "overdue_rate") { return step.overdue_rate === null ? 0 : step.overdue_rate * 100; }
      return step[metric] === null ? 0 : step[metric];
    }

    function paint(metric) {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var overlays = viewer.get("overlays");
      marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
      badges.forEach(function (id) { overlays.remove(id); });
      marked = []; badges = [];
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
      holder.setAttribute("data-painted", String(marked.length));
      legend.innerHTML = "";
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

    Promise.all([
      window.fetch(holder.getAttribute("data-xml-url"), { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error("diagram " + r.status); }
        return r.text();
      }),
      window.fetch(holder.getAttribute("data-heat-url"), { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error("heat " + r.status); }
        return r.json();
      })
    ]).then(function (results) {
      heat = results[1];
      return viewer.importXML(results[0]);
    }).then(function () {
      viewer.get("canvas").zoom("fit-viewport");
      var checked = section.querySelector("input[name=heat-metric]:checked");
      paint(checked ? checked.value : "median");
      Array.prototype.forEach.call(section.querySelectorAll("input[name=heat-metric]"), function (input) {
        input.addEventListener("change", function () { paint(input.value); });
      });
    }).catch(fail);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-heatmap]"), setUp);
})();
