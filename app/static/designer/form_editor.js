/* The form editor: the preview follows the schema as it is typed (the server renders it
   with the same templates officers see); it works without JavaScript on save too. */
(function () {
  "use strict";
  var form = document.getElementById("form-editor");
  var schema = document.getElementById("form-schema");
  var preview = document.getElementById("form-preview");
  if (!form || !schema || !preview || typeof window.fetch !== "function") { return; }
  var url = form.getAttribute("data-preview-url");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var sent = 0;

  function refresh() {
    var body = new URLSearchParams();
    body.set("schema", schema.value);
    body.set("csrf_token", token);
    var mine = ++sent;
    window.fetch(url, { method: "POST", credentials: "same-origin", body: body, headers: { "X-CSRFToken": token } })
      .then(function (response) { return response.text(); })
      .then(function (html) { if (mine === sent) { preview.innerHTML = html; } })
      .catch(function () { /* keep the last preview */ });
  }

  schema.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 300);
  });
  schema.addEventListener("keydown", function (event) {
    if (event.key === "Tab" && !event.shiftKey) {  // indent instead of leaving the editor
      event.preventDefault();
      var start = schema.selectionStart;
      schema.setRangeText("  ", start, schema.selectionEnd, "end");
      schema.dispatchEvent(new Event("input"));
    }
  });
})();
