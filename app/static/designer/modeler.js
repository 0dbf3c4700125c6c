/* The designer's BPMN modeler: bpmn-js with a side panel of our own that sets the
   spiffworkflow properties the engine reads (lane, form, due time, segregation of
   duties, escalation role, waiting on the applicant), draft saving, validation with
   problems marked on the canvas, deploy, and .bpmn download/upload.
   Configuration comes from the JSON block the page embeds (no inline script: CSP). */
(function () {
  "use strict";

  var configNode = document.getElementById("designer-config");
  var canvasNode = document.getElementById("designer-canvas");
  if (!configNode || !canvasNode) { return; }
  var config = JSON.parse(configNode.textContent || "{}");
  var texts = config.texts || {};
  var csrf = (document.getElementById("designer-csrf") || {}).value || "";
  var statusNode = document.getElementById("designer-status");

  function t(key) { return texts[key] || key; }
  function fill(template, n) { return String(template).replace("{n}", String(n)); }
  function problems(n) { return fill(n === 1 ? config.problemText : config.problemsText, n); }

  function status(message, kind) {
    statusNode.textContent = message || "";
    statusNode.className = "designer-status" + (kind ? " designer-status-" + kind : "");
  }

  if (typeof window.BpmnJS !== "function" || typeof window.fetch !== "function") {
    status(t("Diagram tidak dapat dibuka."), "error");
    return;
  }

  // bpmn-js's own texts (palette, context pad, replace menu) in the page's language.
  var bpmnTexts = config.bpmnTexts || {};
  function translate(template, replacements) {
    var text = bpmnTexts[template] || template;
    return text.replace(/{([^}]+)}/g, function (_, key) {
      return replacements && key in replacements ? replacements[key] : "{" + key + "}";
    });
  }

  var modeler = new window.BpmnJS({
    container: canvasNode,
    moddleExtensions: { spiffworkflow: window.PtspSpiffworkflowModdle },
    additionalModules: [{ translate: ["value", translate] }]
  });
  if (window.PtspLaneTitles) { window.PtspLaneTitles(modeler); }
  // A handle for people debugging in the console and for the browser tests.
  window.ptspModeler = modeler;

  var registry = modeler.get("elementRegistry");
  var modeling = modeler.get("modeling");
  var moddle = modeler.get("moddle");
  var canvas = modeler.get("canvas");
  var overlays = modeler.get("overlays");
  var selection = modeler.get("selection");
  var eventBus = modeler.get("eventBus");

  var HUMAN = ["bpmn:UserTask", "bpmn:ManualTask"];
  var SPIFF_PROPERTIES = "spiffworkflow:Properties";
  var SPIFF_PROPERTY = "spiffworkflow:Property";

  // ---------------------------------------------------------------- requests
  function postJson(url, body) {
    return window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      }, function () {
        return { status: response.status, data: null };
      });
    });
  }

  function currentXml() {
    return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  }

  function failed(error) {
    status(t("Permintaan gagal") + (error && error.message ? ": " + error.message : ""), "error");
  }

  // ---------------------------------------------------------------- spiffworkflow:properties
  function propertiesOf(bo) {
    var ext = bo.get("extensionElements");
    var values = ext ? ext.get("values") || [] : [];
    for (var i = 0; i < values.length; i++) {
      if (values[i].$type === SPIFF_PROPERTIES) { return values[i]; }
    }
    return null;
  }

  function getProperty(element, name) {
    var props = propertiesOf(element.businessObject);
    var list = props ? props.get("properties") || [] : [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].name === name) { return list[i].value; }
    }
    return "";
  }

  function setProperty(element, name, value) {
    var bo = element.businessObject;
    value = value === null || value === undefined ? "" : String(value);
    var ext = bo.get("extensionElements");
    if (!ext) {
      if (!value) { return; }
      ext = moddle.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      modeling.updateProperties(element, { extensionElements: ext });
    }
    var props = propertiesOf(bo);
    if (!props) {
      if (!value) { return; }
      props = moddle.create(SPIFF_PROPERTIES, { properties: [] });
      props.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: (ext.get("values") || []).concat([props]) });
    }
    var list = props.get("properties") || [];
    var existing = null;
    for (var i = 0; i < list.length; i++) {
      if (list[i].name === name) { existing = list[i]; }
    }
    if (!value) {
      if (existing) {
        modeling.updateModdleProperties(element, props, {
          properties: list.filter(function (p) { return p !== existing; })
        });
      }
      return;
    }
    if (existing) {
      modeling.updateModdleProperties(element, existing, { value: value });
    } else {
      var created = moddle.create(SPIFF_PROPERTY, { name: name, value: value });
      created.$parent = props;
      modeling.updateModdleProperties(element, props, { properties: list.concat([created]) });
    }
  }

  // ---------------------------------------------------------------- lanes
  function lanes() {
    return registry.filter(function (e) { return e.type === "bpmn:Lane"; });
  }

  function hasChildLanes(lane) {
    return (lane.children || []).some(function (c) { return c.type === "bpmn:Lane"; });
  }

  function laneOf(element) {
    var found = null;
    lanes().forEach(function (lane) {
      var refs = lane.businessObject.get("flowNodeRef") || [];
      if (refs.indexOf(element.businessObject) !== -1 && (!found || lane.height < found.height)) { found = lane; }
    });
    return found;
  }

  function participantOf(element) {
    var node = element.parent;
    while (node && node.type !== "bpmn:Participant") { node = node.parent; }
    return node || null;
  }

  function createLane(element, key) {
    var participant = participantOf(element);
    if (!participant) { return null; }
    var existing = lanes().filter(function (l) { return participantOf(l) === participant && !hasChildLanes(l); });
    var lane;
    if (existing.length) {
      existing.sort(function (a, b) { return (b.y + b.height) - (a.y + a.height); });
      lane = modeling.addLane(existing[0], "bottom");
    } else {
      lane = modeling.addLane(participant, "bottom");
    }
    modeling.updateProperties(lane, { name: key });
    return lane;
  }

  function moveToLane(element, key) {
    var participant = participantOf(element);
    var target = lanes().filter(function (l) {
      return l.businessObject.name === key && !hasChildLanes(l) && (!participant || participantOf(l) === participant);
    })[0];
    if (!target) { target = createLane(element, key); }
    if (!target) {
      status(config.noPool || "", "error");
      return;
    }
    var dy = (target.y + target.height / 2) - (element.y + element.height / 2);
    if (Math.abs(dy) > 0.5) { modeling.moveShape(element, { x: 0, y: Math.round(dy) }); }
  }

  // ---------------------------------------------------------------- the side panel
  var panelForm = document.getElementById("designer-panel-form");
  var panelEmpty = document.getElementById("designer-panel-empty");
  var fields = {
    lane: document.getElementById("prop-lane"),
    form: document.getElementById("prop-form"),
    formLabel: document.getElementById("prop-form-label"),
    due: document.getElementById("prop-due"),
    separate: document.getElementById("prop-separate"),
    escalation: document.getElementById("prop-escalation"),
    waiting: document.getElementById("prop-waiting")
  };
  var current = null;

  function options(select, items, selected, withNone) {
    select.textContent = "";
    if (withNone) {
      var none = document.createElement("option");
      none.value = "";
      none.textContent = t("(tidak ada)");
      select.appendChild(none);
    }
    var chosen = Array.isArray(selected) ? selected : [selected];
    var seen = false;
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.key;
      option.textContent = item.label && item.label !== item.key ? item.label + " (" + item.key + ")" : item.key;
      option.selected = chosen.indexOf(item.key) !== -1;
      seen = seen || option.selected;
      select.appendChild(option);
    });
    chosen.forEach(function (value) {  // keep a value the lists do not know, so it shows (and validation names it)
      if (value && !items.some(function (i) { return i.key === value; })) {
        var unknown = document.createElement("option");
        unknown.value = value;
        unknown.textContent = value + " (?)";
        unknown.selected = true;
        select.appendChild(unknown);
      }
    });
  }

  function userTasks() {
    return registry.filter(function (e) { return e.type === "bpmn:UserTask"; });
  }

  var panelPlain = document.getElementById("designer-panel-plain");
  var plainTask = null;
  document.getElementById("designer-make-user-task").addEventListener("click", function () {
    if (!plainTask) { return; }
    var replaced = modeler.get("bpmnReplace").replaceElement(plainTask, { type: "bpmn:UserTask" });
    selection.select(replaced);
  });

  function showPanel(element) {
    current = element && HUMAN.indexOf(element.type) !== -1 ? element : null;
    // A plain task is done by nobody: say so and offer to make it an officer's step.
    plainTask = element && element.type === "bpmn:Task" ? element : null;
    panelPlain.hidden = !plainTask;
    panelForm.hidden = !current;
    panelEmpty.hidden = !!current || !!plainTask;
    if (!current) { return; }
    var bo = current.businessObject;
    document.getElementById("designer-panel-name").textContent = bo.name || "";
    document.getElementById("designer-panel-id").textContent = bo.id;
    var lane = laneOf(current);
    options(fields.lane, config.lanes, lane ? lane.businessObject.name || "" : "", true);
    var isUser = current.type === "bpmn:UserTask";
    fields.formLabel.hidden = !isUser;
    options(fields.form, config.forms.map(function (f) { return { key: f, label: f }; }),
      getProperty(current, "formJsonSchemaFilename"), true);
    fields.due.value = getProperty(current, "dueWorkingDays");
    var separate = getProperty(current, "separateFrom").split(",").map(function (s) { return s.trim(); })
      .filter(Boolean);
    options(fields.separate, userTasks().filter(function (e) { return e.id !== current.id; }).map(function (e) {
      return { key: e.id, label: e.businessObject.name || e.id };
    }), separate, false);
    options(fields.escalation, config.escalationRoles, getProperty(current, "escalationRole"), true);
    fields.waiting.checked = getProperty(current, "waitingOnApplicant") === "true";
  }

  function onChange(node, apply) {
    node.addEventListener("change", function () {
      if (!current) { return; }
      var element = current;
      apply(element);
      showPanel(registry.get(element.id));
    });
  }

  onChange(fields.lane, function (element) { if (fields.lane.value) { moveToLane(element, fields.lane.value); } });
  onChange(fields.form, function (element) { setProperty(element, "formJsonSchemaFilename", fields.form.value); });
  onChange(fields.due, function (element) {
    var value = fields.due.value.trim();
    setProperty(element, "dueWorkingDays", /^\d+$/.test(value) ? String(parseInt(value, 10)) : value);
  });
  onChange(fields.separate, function (element) {
    var chosen = Array.prototype.filter.call(fields.separate.options, function (o) { return o.selected; })
      .map(function (o) { return o.value; });
    setProperty(element, "separateFrom", chosen.join(","));
  });
  onChange(fields.escalation, function (element) { setProperty(element, "escalationRole", fields.escalation.value); });
  onChange(fields.waiting, function (element) {
    setProperty(element, "waitingOnApplicant", fields.waiting.checked ? "true" : "");
  });

  eventBus.on("selection.changed", function (event) {
    var chosen = event.newSelection || [];
    showPanel(chosen.length === 1 ? chosen[0] : null);
  });
  eventBus.on("commandStack.changed", function () {
    if (current) { showPanel(registry.get(current.id) || null); }
  });

  // ---------------------------------------------------------------- problems on the canvas
  var problemsList = document.getElementById("designer-problems");
  var problemsSection = document.getElementById("designer-problems-section");
  var marked = [];

  function clearProblems() {
    overlays.remove({ type: "ptsp-problem" });
    marked.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "ptsp-invalid"); } });
    marked = [];
    problemsList.textContent = "";
    problemsSection.hidden = true;
  }

  function showProblems(problems) {
    clearProblems();
    problemsSection.hidden = !(problems && problems.length);
    (problems || []).forEach(function (problem) {
      var item = document.createElement("li");
      item.className = "problem";
      item.setAttribute("data-element-id", problem.element_id || "");
      var where = document.createElement("code");
      where.textContent = problem.where || problem.element_id || (problem.element_type || "diagram");
      if (problem.element_id) { where.title = problem.element_id; }
      item.appendChild(where);
      item.appendChild(document.createTextNode(" " + problem.message));
      problemsList.appendChild(item);
      var element = problem.element_id ? registry.get(problem.element_id) : null;
      if (!element) { return; }
      item.classList.add("problem-linked");
      item.addEventListener("click", function () {
        selection.select(element);
        if (typeof canvas.scrollToElement === "function") { canvas.scrollToElement(element); }
      });
      if (marked.indexOf(element.id) === -1) {
        canvas.addMarker(element.id, "ptsp-invalid");
        marked.push(element.id);
        var badge = document.createElement("span");
        badge.className = "ptsp-problem-badge";
        badge.textContent = "!";
        badge.title = problem.message;
        overlays.add(element.id, "ptsp-problem", { position: { top: -10, right: 10 }, html: badge });
      } else {
        var existing = overlays.get({ element: element.id, type: "ptsp-problem" })[0];
        if (existing && existing.html && existing.html.firstChild) {
          existing.html.firstChild.title += "\n" + problem.message;
        }
      }
    });
  }

  // ---------------------------------------------------------------- actions
  function validate() {
    status("…");
    return currentXml().then(function (xml) {
      return postJson(config.validateUrl, { xml: xml });
    }).then(function (response) {
      if (!response.data) { throw new Error(String(response.status)); }
      showProblems(response.data.problems);
      if (response.data.ok) {
        status(t("Diagram siap dipasang."), "ok");
      } else {
        status(problems(response.data.problems.length), "error");
      }
    }).catch(failed);
  }

  function deploy() {
    status("…");
    return currentXml().then(function (xml) {
      return postJson(config.deployUrl, { xml: xml });
    }).then(function (response) {
      if (!response.data) { throw new Error(String(response.status)); }
      showProblems(response.data.problems);
      if (!response.data.ok) {
        status(problems((response.data.problems || []).length), "error");
        return;
      }
      var outcome = (response.data.outcomes || [])[0];
      if (!outcome) { return; }
      config.baseVersion = outcome.version;
      var source = document.getElementById("modeler-source");
      if (source) { source.textContent = "(" + fill(config.versionText, outcome.version) + ")"; }
      if (window.history && window.history.replaceState && outcome.process_id) {
        window.history.replaceState(null, "", "?process=" + encodeURIComponent(outcome.process_id) + "&version=" + outcome.version);
      }
      statusNode.textContent = "";
      statusNode.className = "designer-status designer-status-ok";
      var text = fill(outcome.created ? config.deployedText : config.unchangedText, outcome.version);
      var link = document.createElement("a");
      link.href = outcome.url;
      link.textContent = text;
      link.setAttribute("data-testid", "deployed-link");
      statusNode.appendChild(link);
    }).catch(failed);
  }

  function saveDraft() {
    status("…");
    return currentXml().then(function (xml) {
      return postJson(config.draftUrl, { xml: xml, base_version: config.baseVersion });
    }).then(function (response) {
      if (!response.data) { throw new Error(String(response.status)); }
      if (!response.data.ok) { status(response.data.error, "error"); return; }
      status(t("Draf disimpan.") + " #" + response.data.id, "ok");
      if (window.history && window.history.replaceState) { window.history.replaceState(null, "", response.data.url); }
    }).catch(failed);
  }

  function download() {
    return currentXml().then(function (xml) {
      var blob = new Blob([xml], { type: "application/xml" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = (config.processId || "diagram") + ".bpmn";
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    }).catch(failed);
  }

  // The whole diagram in view, to the right of the palette (which would hide lane labels and
  // the start event), never enlarged beyond 100 %.
  // The palette names its tools for screen readers only; show the same name on hover.
  function paletteTooltips() {
    Array.prototype.forEach.call(canvasNode.querySelectorAll(".djs-palette .entry[aria-label]"), function (entry) {
      entry.title = entry.getAttribute("aria-label");
    });
  }
  eventBus.on("palette.changed", paletteTooltips);

  function fitClearOfPalette() {
    paletteTooltips();
    canvas.zoom("fit-viewport");
    var box = canvas.viewbox();
    var inner = box.inner;
    if (!inner || !inner.width || !inner.height) { return; }
    var palette = canvasNode.querySelector(".djs-palette");
    var gap = 16;
    var left = palette ? palette.getBoundingClientRect().right - canvasNode.getBoundingClientRect().left + gap : gap;
    var scale = Math.min((box.outer.width - left - gap) / inner.width, (box.outer.height - 2 * gap) / inner.height, 1);
    if (!(scale > 0)) { return; }
    canvas.viewbox({ x: inner.x - left / scale, y: inner.y - gap / scale,
                     width: box.outer.width / scale, height: box.outer.height / scale });
  }

  function open(xml) {
    clearProblems();
    return modeler.importXML(xml).then(function (result) {
      fitClearOfPalette();
      showPanel(null);
      var warnings = (result && result.warnings) || [];
      status(warnings.length ? warnings.length + " warning(s): " + warnings[0].message : "", warnings.length ? "warn" : "");
    });
  }

  var upload = document.getElementById("designer-upload");
  upload.addEventListener("change", function () {
    var file = upload.files && upload.files[0];
    upload.value = "";
    if (!file) { return; }
    if (file.size > config.maxBytes) {
      status(file.name + ": " + file.size + " > " + config.maxBytes, "error");
      return;
    }
    file.text().then(open).catch(function (error) {
      status(t("Diagram tidak dapat dibuka.") + " " + (error && error.message ? error.message : ""), "error");
    });
  });

  document.getElementById("designer-validate").addEventListener("click", validate);
  document.getElementById("designer-deploy").addEventListener("click", deploy);
  document.getElementById("designer-save-draft").addEventListener("click", saveDraft);
  document.getElementById("designer-download").addEventListener("click", download);

  window.fetch(config.xmlUrl, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("diagram " + response.status); }
      return response.text();
    })
    .then(open)
    .then(function () { document.body.setAttribute("data-modeler-ready", "true"); })
    .catch(function (error) {
      status(t("Diagram tidak dapat dibuka.") + " " + (error && error.message ? error.message : ""), "error");
    });
})();
