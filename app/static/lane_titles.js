/* Diagrams show each lane's title ("Loket Pelayanan") where the BPMN holds its key
   ("front_office"), which the engine needs. Display only: the diagram keeps the key.
   Titles come from this script tag's data-lane-titles (templates/_lane_titles.html). */
(function () {
  "use strict";
  var node = document.currentScript;
  var titles = node ? JSON.parse(node.getAttribute("data-lane-titles") || "{}") : {};

  function relabel(element, gfx) {
    if (!element || element.type !== "bpmn:Lane" || !gfx) { return; }
    var key = (element.businessObject && element.businessObject.name) || "";
    var title = titles[key];
    var label = gfx.querySelector("text.djs-label");
    if (!title || !label) { return; }
    var spans = label.querySelectorAll("tspan");
    if (spans.length) {
      spans[0].textContent = title;
      for (var i = 1; i < spans.length; i += 1) { spans[i].textContent = ""; }
    } else { label.textContent = title; }
    label.setAttribute("data-lane-key", key);
  }

  // After bpmn-js has drawn (priority below the renderer's 1000) a lane, or redrawn it.
  window.PtspLaneTitles = function (diagram) {
    var eventBus = diagram.get("eventBus");
    eventBus.on(["shape.added", "shape.changed"], 500, function (event) { relabel(event.element, event.gfx); });
  };
})();
