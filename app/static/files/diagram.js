/* The file page's diagram: bpmn-js's navigated viewer, with the steps done and the
   steps open now marked (ids from the JSON block the page embeds). */
(function () {
  "use strict";
  var holder = document.getElementById("file-diagram");
  var marksNode = document.getElementById("file-diagram-marks");
  if (!holder || !marksNode) { return; }

  function fail() { holder.textContent = holder.getAttribute("data-error-text") || ""; }

  if (typeof window.BpmnJS !== "function" || typeof window.fetch !== "function") { fail(); return; }
  var marks = JSON.parse(marksNode.textContent || "{}");
  var viewer = new window.BpmnJS({ container: holder });
  if (window.PtspLaneTitles) { window.PtspLaneTitles(viewer); }

  window.fetch(holder.getAttribute("data-xml-url"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("diagram " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      function mark(ids, marker) {
        (ids || []).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, marker); }
        });
      }
      mark(marks.done, "ptsp-done");
      mark(marks.current, "ptsp-current");
    })
    .catch(fail);
})();
