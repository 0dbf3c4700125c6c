/* The process page: one checkbox chooses every running file. */
(function () {
  "use strict";
  var all = document.getElementById("select-all-files");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll("input[name=instance]").forEach(function (box) { box.checked = all.checked; });
  });
})();
