// Progressive help for the JSON Schema forms (app/templates/forms/fields.html); every form
// also works without it: one blank row per table, a typed choice taken when its value is typed.
(function () {
  "use strict";

  function renumber(fieldset) {
    var rows = fieldset.querySelectorAll(":scope > .row-item");
    var min = parseInt(fieldset.getAttribute("data-min-items") || "0", 10);
    var max = parseInt(fieldset.getAttribute("data-max-items") || "0", 10);
    rows.forEach(function (row) {
      var remove = row.querySelector(":scope > .row-remove");
      if (remove) { remove.hidden = rows.length <= Math.max(min, 1); }
    });
    var add = fieldset.querySelector(":scope > .row-add");
    if (add) { add.hidden = max > 0 && rows.length >= max; }
  }

  function nextIndex(fieldset) {
    var highest = -1;
    fieldset.querySelectorAll(":scope > .row-item").forEach(function (row) {
      var n = parseInt(row.getAttribute("data-row"), 10);
      if (n > highest) { highest = n; }
    });
    return highest + 1;
  }

  function addRow(fieldset) {
    var template = fieldset.querySelector(":scope > template.row-template");
    var index = String(nextIndex(fieldset));
    var html = template.innerHTML.split("__index__").join(index);
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    fieldset.insertBefore(row, template);
    renumber(fieldset);
    var first = row.querySelector("input, select, textarea");
    if (first) { first.focus(); }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    if (target.classList.contains("row-add")) {
      addRow(target.closest("fieldset.rows"));
    } else if (target.classList.contains("row-remove")) {
      var fieldset = target.closest("fieldset.rows");
      target.closest(".row-item").remove();
      renumber(fieldset);
      var add = fieldset.querySelector(":scope > .row-add");
      if (add) { add.focus(); }
    }
  });

  // Typing a value of a typed alternative chooses it.
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.dataset.choice) {
      var radio = document.getElementById(target.dataset.choice);
      if (radio) { radio.checked = true; }
    }
  });

  document.querySelectorAll("fieldset.rows").forEach(function (fieldset) {
    var add = fieldset.querySelector(":scope > .row-add");
    if (add) { add.hidden = false; }
    renumber(fieldset);
  });

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
