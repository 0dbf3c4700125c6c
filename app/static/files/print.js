/* Buttons marked data-print open the browser's print dialog (no inline scripts: CSP). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
