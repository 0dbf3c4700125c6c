/* The service catalogue: print buttons, and the procedure diagram shown read-only with
   bpmn-js's viewer (the XML of the latest deployed version, fetched from the page's endpoint). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var holder = document.getElementById("catalogue-diagram");
  if (!holder) { return; }
  function fail() { holder.textContent = holder.getAttribute("data-error-text") || ""; }
  if (typeof window.BpmnJS !== "function" || typeof window.fetch !== "function") { fail(); return; }
  var viewer = new window.BpmnJS({ container: holder });
  if (window.PtspLaneTitles) { window.PtspLaneTitles(viewer); }
  window.fetch(holder.getAttribute("data-xml-url"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("diagram " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () { viewer.get("canvas").zoom("fit-viewport"); })
    .catch(fail);
})();
