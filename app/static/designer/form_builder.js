/* The visual form builder: add, order and edit fields, choices and rules by clicking.
   The JSON Schema in the textarea is the one truth: every click rewrites it (and the preview
   follows), and typing in the textarea rebuilds the field list when the text is a schema.
   Choices are written as oneOf of {const, title}; a pattern's human label goes into the field's
   description (the message officers see for a pattern points there). Saving posts the textarea
   through the form editor's usual save. */
(function () {
  "use strict";
  var textarea = document.getElementById("form-schema");
  var host = document.getElementById("form-builder");
  var textsNode = document.getElementById("form-builder-texts");
  if (!textarea || !host || !textsNode) { return; }
  var T = JSON.parse(textsNode.textContent);
  function t(key) { return T[key] || key; }

  var TYPES = ["text", "longtext", "number", "date", "email", "choice", "yesno", "file", "group"];
  var TYPE_LABELS = {
    text: "Teks singkat", longtext: "Teks panjang", number: "Angka", date: "Tanggal", email: "Surel",
    choice: "Pilihan", yesno: "Ya/tidak", file: "Berkas unggahan", group: "Kelompok isian", other: "Lainnya (ubah di JSON)"
  };
  var PATTERNS = [
    { pattern: "^[0-9]{5}$", label: "Kode pos: 5 digit angka" },
    { pattern: "^[0-9]{16}$", label: "NIK: 16 digit angka" },
    { pattern: "^\\+?[0-9]{8,15}$", label: "Nomor telepon: 8 sampai 15 digit" },
    { pattern: "^[0-9]+$", label: "Angka saja" },
    { pattern: "^[A-Z]{1,2} ?[0-9]{1,4} ?[A-Z]{0,3}$", label: "Nomor polisi kendaraan" }
  ];
  var KEY = /^[a-z][a-z0-9_]{0,59}$/;
  var schema = null;
  var expanded = {};   // path -> true while the field's details are open
  var autoKey = {};    // path -> true while the key still follows the label (new fields)
  var idCounter = 0;

  // ----------------------------------------------------------------- helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function uid() { idCounter += 1; return "fb-" + idCounter; }
  function labelled(text, control, hint) {
    var id = control.id || (control.id = uid());
    var label = el("label", { "for": id, text: text });
    var wrap = el("div", { "class": "builder-control" }, [label, control]);
    if (hint) { wrap.appendChild(el("small", { "class": "muted", text: hint })); }
    return wrap;
  }
  function slug(text) {
    var s = String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 50);
    if (!s) { s = "isian"; }
    if (!/^[a-z]/.test(s)) { s = "isian_" + s; }
    return s;
  }
  function unique(base, taken) {
    var key = base; var n = 2;
    while (taken.indexOf(key) >= 0) { key = base + "_" + n; n += 1; }
    return key;
  }
  function resolve(s) {
    if (s && typeof s.$ref === "string" && s.$ref.indexOf("#/") === 0) {
      var node = schema;
      s.$ref.slice(2).split("/").forEach(function (part) { node = node && node[part]; });
      if (node && typeof node === "object") { return Object.assign({}, node, s); }
    }
    return s || {};
  }
  function isAttachment(s) {
    var r = resolve(s);
    return r.type === "object" && r.properties && r.properties.reference && r.properties.sha256;
  }
  function typeOf(s) {
    var r = resolve(s);
    if (isAttachment(s)) { return "file"; }
    if (r.type === "object") { return "group"; }
    if (Array.isArray(r.oneOf) && r.oneOf.every(function (o) { return o && "const" in o; })) { return "choice"; }
    if (Array.isArray(r.enum) && r.type !== "array") { return "choice"; }
    if (r.type === "boolean") { return "yesno"; }
    if (r.type === "number" || r.type === "integer") { return "number"; }
    if (r.type === "string" && !r.oneOf && !r.anyOf) {
      if (r.format === "date") { return "date"; }
      if (r.format === "email") { return "email"; }
      if (Number(r.maxLength || 0) > 300) { return "longtext"; }
      return "text";
    }
    return "other";
  }
  function newSchema(type, title, description) {
    var s = { title: title };
    if (description) { s.description = description; }
    switch (type) {
      case "longtext": s.type = "string"; s.maxLength = 2000; break;
      case "number": s.type = "number"; break;
      case "date": s.type = "string"; s.format = "date"; break;
      case "email": s.type = "string"; s.format = "email"; s.maxLength = 254; break;
      case "choice": s.type = "string"; s.oneOf = [{ "const": "pilihan_1", title: t("Pilihan 1") }]; break;
      case "yesno": s.type = "boolean"; break;
      case "file":
        s.type = "object"; s.additionalProperties = false; s.required = ["reference", "sha256"];
        s.properties = {
          reference: { title: "Referensi berkas unggahan", type: "string", minLength: 1, maxLength: 200 },
          sha256: { title: "Sidik SHA-256", type: "string", pattern: "^[0-9a-fA-F]{64}$" }
        };
        break;
      case "group": s.type = "object"; s.additionalProperties = false; s.required = []; s.properties = {}; break;
      default: s.type = "string"; s.maxLength = 200;
    }
    return s;
  }
  function requiredOf(container) {
    if (!Array.isArray(container.required)) { container.required = []; }
    return container.required;
  }
  function renameKey(container, oldKey, newKey) {
    var props = {};
    Object.keys(container.properties).forEach(function (k) { props[k === oldKey ? newKey : k] = container.properties[k]; });
    container.properties = props;
    if (Array.isArray(container.required)) {
      container.required = container.required.map(function (k) { return k === oldKey ? newKey : k; });
    }
  }
  function move(container, key, delta) {
    var keys = Object.keys(container.properties);
    var i = keys.indexOf(key); var j = i + delta;
    if (j < 0 || j >= keys.length) { return; }
    keys[i] = keys[j]; keys[j] = key;
    var props = {};
    keys.forEach(function (k) { props[k] = container.properties[k]; });
    container.properties = props;
  }
  function setNumber(target, name, raw, integer) {
    if (raw === "" || raw === null) { delete target[name]; return true; }
    var n = Number(raw);
    if (!isFinite(n) || (integer && Math.floor(n) !== n)) { return false; }
    target[name] = n;
    return true;
  }

  // ------------------------------------------------------------ write & read
  function sync() {
    textarea.value = JSON.stringify(schema, null, 2) + "\n";
    textarea.dispatchEvent(new CustomEvent("input", { detail: "builder" }));
  }
  function load() {
    var parsed;
    var notice = document.getElementById("form-builder-notice");
    try { parsed = JSON.parse(textarea.value); } catch (e) { parsed = null; }
    if (!parsed || typeof parsed !== "object" || parsed.type !== "object" || !parsed.properties
        || typeof parsed.properties !== "object" || Array.isArray(parsed.properties)) {
      notice.textContent = t("Pembuat formulir menunggu sampai JSON di bawah kembali sah.");
      notice.hidden = false;
      host.setAttribute("aria-disabled", "true");
      return;
    }
    notice.hidden = true;
    host.removeAttribute("aria-disabled");
    schema = parsed;
    render();
  }

  // ------------------------------------------------------------------ render
  function render(focusSelector) {
    var list = document.getElementById("form-builder-fields");
    var title = document.getElementById("builder-form-title");
    if (document.activeElement !== title) { title.value = schema.title || ""; }
    list.replaceChildren(renderList(schema, ""));
    if (focusSelector) {
      var target = host.querySelector(focusSelector);
      if (target) { target.focus(); if (target.select) { target.select(); } }
    }
  }

  function renderList(container, prefix) {
    var wrap = el("div", { "class": "builder-list" });
    var keys = Object.keys(container.properties || {});
    var ol = el("ol", { "class": "builder-fields" });
    keys.forEach(function (key, index) { ol.appendChild(renderField(container, key, index, keys.length, prefix)); });
    if (!keys.length) { wrap.appendChild(el("p", { "class": "muted small", text: t("Belum ada isian.") })); }
    wrap.appendChild(ol);
    var typeSelect = el("select", { "data-add-type": prefix || "/" },
      TYPES.map(function (type) { return el("option", { value: type, text: t(TYPE_LABELS[type]) }); }));
    var addButton = el("button", { type: "button", "class": "secondary", "data-add": prefix || "/",
                                   text: prefix ? t("Tambah isian ke kelompok") : t("Tambah isian") });
    addButton.addEventListener("click", function () {
      var type = typeSelect.value;
      var label = t("Isian baru");
      var key = unique(slug(label), Object.keys(container.properties));
      container.properties[key] = newSchema(type, label);
      var path = prefix + key;
      expanded[path] = true;
      autoKey[path] = true;
      sync();
      render('[data-path="' + path + '"] [data-edit=title]');
    });
    wrap.appendChild(el("div", { "class": "builder-add" }, [labelled(t("Jenis isian baru"), typeSelect), addButton]));
    return wrap;
  }

  function renderField(container, key, index, count, prefix) {
    var path = prefix + key;
    var s = container.properties[key];
    var type = typeOf(s);
    var required = requiredOf(container).indexOf(key) >= 0;
    var li = el("li", { "class": "builder-field", "data-path": path, "data-type": type });
    var name = el("strong", { "class": "builder-name", text: s.title || key });
    var badge = el("span", { "class": "builder-badge", text: required ? t("wajib") : "" });
    var head = el("div", { "class": "builder-head" }, [
      name, el("span", { "class": "muted small", text: " · " + t(TYPE_LABELS[type]) + " " }), badge]);
    var tools = el("span", { "class": "builder-tools" });
    function tool(text, label, action, disabled, attr) {
      var b = el("button", { type: "button", "class": "outline", "aria-label": label + ": " + (s.title || key),
                             title: label, text: text, disabled: disabled, "data-action": attr });
      b.addEventListener("click", action);
      tools.appendChild(b);
    }
    tool("↑", t("Naikkan"), function () { move(container, key, -1); sync(); render('[data-path="' + path + '"] [data-action=up]'); },
         index === 0, "up");
    tool("↓", t("Turunkan"), function () { move(container, key, 1); sync(); render('[data-path="' + path + '"] [data-action=down]'); },
         index === count - 1, "down");
    tool(expanded[path] ? t("Tutup") : t("Ubah"), t("Ubah"), function () {
      expanded[path] = !expanded[path]; render('[data-path="' + path + '"] [data-action=edit]');
    }, false, "edit");
    tool("✕", t("Hapus"), function () {
      delete container.properties[key];
      container.required = requiredOf(container).filter(function (k) { return k !== key; });
      sync(); render();
    }, false, "remove");
    head.appendChild(tools);
    li.appendChild(head);
    if (!expanded[path]) {
      if (type === "group") { li.appendChild(renderList(s, path + "/")); }
      return li;
    }

    var details = el("div", { "class": "builder-details" });
    // Label (the key follows it while the field is new).
    var titleInput = el("input", { type: "text", value: s.title || "", "data-edit": "title", maxlength: "200" });
    titleInput.addEventListener("input", function () {
      s.title = titleInput.value; name.textContent = titleInput.value || key; sync();
    });
    titleInput.addEventListener("change", function () {
      if (!autoKey[path] || !titleInput.value.trim()) { return; }
      var others = Object.keys(container.properties).filter(function (k) { return k !== key; });
      var newKey = unique(slug(titleInput.value), others);
      if (newKey === key) { return; }
      delete autoKey[path]; delete expanded[path];
      renameKey(container, key, newKey);
      expanded[prefix + newKey] = true; autoKey[prefix + newKey] = true;
      sync(); render();
    });
    details.appendChild(labelled(t("Label (seperti yang dibaca petugas)"), titleInput));

    var keyInput = el("input", { type: "text", value: key, "data-edit": "key", maxlength: "60", spellcheck: "false" });
    var keyError = el("small", { "class": "field-error", role: "alert", hidden: true });
    keyInput.addEventListener("change", function () {
      var newKey = keyInput.value.trim();
      if (newKey === key) { return; }
      if (!KEY.test(newKey) || Object.prototype.hasOwnProperty.call(container.properties, newKey)) {
        keyError.textContent = KEY.test(newKey) ? t("Nama data ini sudah dipakai.")
          : t("Nama data: huruf kecil, angka dan _ (diawali huruf).");
        keyError.hidden = false; keyInput.setAttribute("aria-invalid", "true");
        return;
      }
      delete autoKey[path]; delete expanded[path];
      renameKey(container, key, newKey);
      expanded[prefix + newKey] = true;
      sync(); render();
    });
    var keyControl = labelled(t("Nama data (kunci)"), keyInput, t("Dipakai proses dan laporan; ubah hanya bila perlu."));
    keyControl.appendChild(keyError);
    details.appendChild(keyControl);

    var typeSelect = el("select", { "data-edit": "type" }, TYPES.concat(type === "other" ? ["other"] : []).map(function (k) {
      return el("option", { value: k, text: t(TYPE_LABELS[k]), selected: k === type });
    }));
    typeSelect.addEventListener("change", function () {
      if (typeSelect.value === "other") { return; }
      container.properties[key] = newSchema(typeSelect.value, s.title || key, s.description);
      sync(); render('[data-path="' + path + '"] [data-edit=type]');
    });
    details.appendChild(labelled(t("Jenis isian"), typeSelect));

    var requiredBox = el("input", { type: "checkbox", "data-edit": "required", checked: required });
    requiredBox.addEventListener("change", function () {
      var list = requiredOf(container).filter(function (k) { return k !== key; });
      if (requiredBox.checked) { list.push(key); }
      container.required = list;
      badge.textContent = requiredBox.checked ? t("wajib") : "";
      sync();
    });
    details.appendChild(el("label", { "class": "builder-check" }, [requiredBox, document.createTextNode(" " + t("Wajib diisi"))]));

    var help = el("input", { type: "text", value: s.description || "", "data-edit": "description", maxlength: "500" });
    help.addEventListener("input", function () {
      if (help.value) { s.description = help.value; } else { delete s.description; }
      sync();
    });
    details.appendChild(labelled(t("Keterangan (bantuan di bawah isian)"), help));

    if (type === "text" || type === "longtext") { details.appendChild(textRules(s, path, help)); }
    if (type === "number") { details.appendChild(numberRules(s)); }
    if (type === "choice") { details.appendChild(choiceEditor(s, path)); }
    if (type === "other") { details.appendChild(el("p", { "class": "muted small", text: t("Isian ini memakai susunan yang hanya dapat diubah di JSON.") })); }
    li.appendChild(details);
    if (type === "group") { li.appendChild(renderList(s, path + "/")); }
    return li;
  }

  function rangeInputs(s, lowName, highName, lowLabel, highLabel, integer) {
    var box = el("div", { "class": "builder-range" });
    var error = el("small", { "class": "field-error", role: "alert", hidden: true });
    var low = el("input", { type: "number", step: integer ? "1" : "any", value: s[lowName] !== undefined ? s[lowName] : "", "data-edit": lowName });
    var high = el("input", { type: "number", step: integer ? "1" : "any", value: s[highName] !== undefined ? s[highName] : "", "data-edit": highName });
    function update() {
      var ok = setNumber(s, lowName, low.value, integer) && setNumber(s, highName, high.value, integer);
      var crossed = s[lowName] !== undefined && s[highName] !== undefined && s[lowName] > s[highName];
      error.hidden = ok && !crossed;
      error.textContent = !ok ? t("Isi angka yang sah.") : t("Batas terendah lebih besar dari batas tertinggi.");
      low.toggleAttribute("aria-invalid", !error.hidden); high.toggleAttribute("aria-invalid", !error.hidden);
      sync();
    }
    low.addEventListener("input", update);
    high.addEventListener("input", update);
    box.appendChild(labelled(lowLabel, low));
    box.appendChild(labelled(highLabel, high));
    box.appendChild(error);
    return box;
  }

  function numberRules(s) {
    var box = el("div", { "class": "builder-rules" });
    var integer = el("input", { type: "checkbox", "data-edit": "integer", checked: s.type === "integer" });
    integer.addEventListener("change", function () { s.type = integer.checked ? "integer" : "number"; sync(); });
    box.appendChild(el("label", { "class": "builder-check" }, [integer, document.createTextNode(" " + t("Hanya bilangan bulat"))]));
    box.appendChild(rangeInputs(s, "minimum", "maximum", t("Nilai terkecil"), t("Nilai terbesar"), false));
    return box;
  }

  function textRules(s, path, help) {
    var box = el("div", { "class": "builder-rules" });
    box.appendChild(rangeInputs(s, "minLength", "maxLength", t("Panjang paling sedikit (karakter)"),
                                t("Panjang paling banyak (karakter)"), true));
    var preset = el("select", { "data-edit": "pattern-preset" }, [el("option", { value: "", text: t("(bebas)") })]
      .concat(PATTERNS.map(function (p) {
        return el("option", { value: p.pattern, text: t(p.label), selected: s.pattern === p.pattern });
      }))
      .concat([el("option", { value: "custom", text: t("Pola sendiri…"),
                              selected: !!s.pattern && !PATTERNS.some(function (p) { return p.pattern === s.pattern; }) })]));
    var custom = el("input", { type: "text", value: s.pattern || "", "data-edit": "pattern", spellcheck: "false" });
    var customControl = labelled(t("Pola (ekspresi reguler)"), custom, t("Tulis juga penjelasannya di Keterangan: itulah yang dibaca petugas bila isian tidak cocok."));
    var error = el("small", { "class": "field-error", role: "alert", hidden: true });
    customControl.appendChild(error);
    customControl.hidden = preset.value !== "custom";
    preset.addEventListener("change", function () {
      if (preset.value === "custom") { customControl.hidden = false; custom.focus(); return; }
      customControl.hidden = true;
      if (preset.value) {
        s.pattern = preset.value;
        var label = t(PATTERNS.filter(function (p) { return p.pattern === preset.value; })[0].label);
        if (!s.description || PATTERNS.some(function (p) { return t(p.label) === s.description; })) {
          s.description = label; help.value = label;
        }
      } else { delete s.pattern; }
      custom.value = s.pattern || "";
      sync();
    });
    custom.addEventListener("input", function () {
      var ok = true;
      try { new RegExp(custom.value, "u"); } catch (e) { ok = false; }
      error.hidden = ok; error.textContent = ok ? "" : t("Pola ini bukan ekspresi reguler yang sah.");
      custom.toggleAttribute("aria-invalid", !ok);
      if (!ok) { return; }
      if (custom.value) { s.pattern = custom.value; } else { delete s.pattern; }
      sync();
    });
    box.appendChild(labelled(t("Bentuk isian"), preset));
    box.appendChild(customControl);
    return box;
  }

  function choiceEditor(s, path) {
    if (!Array.isArray(s.oneOf)) {  // an enum becomes oneOf with titles, the construct the renderer shows best
      s.oneOf = (s.enum || []).map(function (v) { return { "const": v, title: String(v) }; });
      delete s.enum;
    }
    var box = el("fieldset", { "class": "builder-choices" }, [el("legend", { text: t("Pilihan") })]);
    var ol = el("ol", {});
    s.oneOf.forEach(function (option, index) {
      var label = el("input", { type: "text", value: option.title || "", "data-edit": "choice-title", "aria-label": t("Label pilihan") + " " + (index + 1) });
      var value = el("input", { type: "text", value: option["const"], "data-edit": "choice-value", "class": "builder-code",
                                "aria-label": t("Nilai tersimpan pilihan") + " " + (index + 1), spellcheck: "false" });
      label.addEventListener("input", function () { option.title = label.value; sync(); });
      label.addEventListener("change", function () {
        if (option._auto || /^pilihan_[0-9]+$/.test(String(option["const"]))) {
          var others = s.oneOf.filter(function (o) { return o !== option; }).map(function (o) { return String(o["const"]); });
          option["const"] = unique(slug(label.value), others);
          value.value = option["const"];
          sync();
        }
      });
      value.addEventListener("change", function () {
        if (value.value.trim()) { option["const"] = value.value.trim(); sync(); } else { value.value = option["const"]; }
      });
      var up = el("button", { type: "button", "class": "outline", text: "↑", "aria-label": t("Naikkan") + ": " + (option.title || ""), disabled: index === 0 });
      var down = el("button", { type: "button", "class": "outline", text: "↓", "aria-label": t("Turunkan") + ": " + (option.title || ""), disabled: index === s.oneOf.length - 1 });
      var remove = el("button", { type: "button", "class": "outline", text: "✕", "aria-label": t("Hapus") + ": " + (option.title || ""), disabled: s.oneOf.length === 1 });
      function swap(delta) {
        var j = index + delta; var tmp = s.oneOf[j]; s.oneOf[j] = option; s.oneOf[index] = tmp; sync(); render();
      }
      up.addEventListener("click", function () { swap(-1); });
      down.addEventListener("click", function () { swap(1); });
      remove.addEventListener("click", function () { s.oneOf.splice(index, 1); sync(); render(); });
      ol.appendChild(el("li", { "class": "builder-choice" }, [label, value, up, down, remove]));
    });
    box.appendChild(ol);
    var add = el("button", { type: "button", "class": "secondary", "data-action": "add-choice", text: t("Tambah pilihan") });
    add.addEventListener("click", function () {
      var taken = s.oneOf.map(function (o) { return String(o["const"]); });
      var n = s.oneOf.length + 1;
      s.oneOf.push({ "const": unique("pilihan_" + n, taken), title: t("Pilihan") + " " + n });
      sync();
      render('[data-path="' + path + '"] .builder-choice:last-child [data-edit=choice-title]');
    });
    box.appendChild(add);
    return box;
  }

  // ------------------------------------------------------------------- wiring
  var formTitle = document.getElementById("builder-form-title");
  formTitle.addEventListener("input", function () {
    if (!schema) { return; }
    if (formTitle.value) { schema.title = formTitle.value; } else { delete schema.title; }
    sync();
  });
  textarea.addEventListener("input", function (event) {
    if (event.detail === "builder") { return; }
    load();
  });
  host.hidden = false;
  load();
  window.ptspFormBuilder = { schema: function () { return schema; } };
})();
