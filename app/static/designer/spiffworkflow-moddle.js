/* A moddle descriptor for SpiffWorkflow's extension elements
   (namespace http://spiffworkflow.org/bpmn/schema/1.0/core, see SpiffWorkflow's spiffworkflow.xsd),
   so bpmn-js reads, edits and writes them back instead of dropping them. */
(function () {
  "use strict";
  function bodyType(name) {
    return { name: name, superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] };
  }
  window.PtspSpiffworkflowModdle = {
    name: "SpiffWorkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      {
        name: "Properties",
        superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }]
      },
      {
        name: "Property",
        superClass: ["Element"],
        properties: [
          { name: "name", type: "String", isAttr: true },
          { name: "value", type: "String", isAttr: true }
        ]
      },
      bodyType("CalledDecisionId"),
      bodyType("InstructionsForEndUser"),
      bodyType("MessagePayload"),
      bodyType("MessageVariable"),
      bodyType("PayloadExpression"),
      bodyType("VariableName"),
      bodyType("PreScript"),
      bodyType("PostScript"),
      {
        name: "UnitTests",
        superClass: ["Element"],
        properties: [{ name: "unitTests", type: "UnitTest", isMany: true }]
      },
      {
        name: "UnitTest",
        superClass: ["Element"],
        properties: [
          { name: "id", type: "String", isAttr: true },
          { name: "inputJson", type: "String" },
          { name: "expectedOutputJson", type: "String" }
        ]
      },
      {
        name: "ServiceTaskOperator",
        superClass: ["Element"],
        properties: [
          { name: "id", type: "String", isAttr: true },
          { name: "resultVariable", type: "String", isAttr: true },
          { name: "parameterList", type: "Parameters" },
          { name: "retry", type: "Retry" }
        ]
      },
      {
        name: "Parameters",
        superClass: ["Element"],
        properties: [{ name: "parameters", type: "Parameter", isMany: true }]
      },
      {
        name: "Parameter",
        superClass: ["Element"],
        properties: [
          { name: "id", type: "String", isAttr: true },
          { name: "type", type: "String", isAttr: true },
          { name: "value", type: "String", isAttr: true }
        ]
      },
      {
        name: "Retry",
        superClass: ["Element"],
        properties: [
          { name: "retries", type: "Integer", isAttr: true },
          { name: "backoff_base", type: "Integer", isAttr: true }
        ]
      }
    ]
  };
})();
