"""The JSON Schema of one catalogue entry (processes/catalogue/<process_id>.json)."""
from __future__ import annotations

from typing import Any

_TEXT = {"type": "object", "additionalProperties": False, "required": ["id", "en"],
         "properties": {"id": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}}}
_PATH = {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$"}
_ID = {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"}

ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["process_id", "kind", "name", "summary", "file_prefix", "registration", "document_check",
                 "procedure", "duration", "fee", "product", "complaints"],
    "properties": {
        "process_id": _ID,
        "kind": {"enum": ["permit", "bundle"]},
        "permits": {"type": "array", "minItems": 2, "uniqueItems": True, "items": _ID},
        "name": {"$ref": "#/$defs/text"},
        "summary": {"$ref": "#/$defs/text"},
        "file_prefix": {"type": "string", "pattern": "^[A-Z]{2,6}$"},
        "data_key": _ID,
        "registration": {"$ref": "#/$defs/step"},
        "requirements": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["key", "label", "required"],
            "properties": {"key": _ID, "label": {"$ref": "#/$defs/text"}, "required": {"type": "boolean"},
                           "check_field": _ID}}},
        "document_check": {"$ref": "#/$defs/step"},
        "procedure": {"type": "object", "additionalProperties": False, "required": ["steps"],
                      "properties": {"steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/text"}}}},
        "duration": {"type": "object", "additionalProperties": False, "required": ["working_days", "basis", "note"],
                     "properties": {"working_days": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "basis": {"$ref": "#/$defs/text"}, "note": {"$ref": "#/$defs/text"}}},
        "fee": {"type": "object", "additionalProperties": False,
                "required": ["kind", "formula", "tariffs", "inputs", "script_tasks", "variables", "exemptions",
                             "worked_examples"],
                "properties": {
                    "kind": {"enum": ["pbg", "weighted_index", "itemised", "road_area", "free", "sum"]},
                    "formula": {"$ref": "#/$defs/text"},
                    "tariffs": {"type": "array", "items": {"$ref": "#/$defs/text"}},
                    "inputs": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False, "required": ["name", "step", "label"],
                        "properties": {"name": _PATH, "step": _ID, "label": {"$ref": "#/$defs/text"}}}},
                    "script_tasks": {"type": "array", "minItems": 1, "items": _ID},
                    "variables": {"type": "object", "additionalProperties": False, "required": ["fee"],
                                  "properties": {"fee": _ID, "breakdown": _ID}},
                    "exemptions": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False, "required": ["key", "rule"],
                        "properties": {"key": _ID, "rule": {"$ref": "#/$defs/text"}}}},
                    "worked_examples": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "additionalProperties": False, "required": ["title", "inputs", "expected"],
                        "properties": {"title": {"$ref": "#/$defs/text"}, "inputs": {"type": "object"},
                                       "expected": {"type": "object", "required": ["fee"]}, "exemption": _ID}}},
                }},
        "product": {"type": "object", "additionalProperties": False, "required": ["name", "validity"],
                    "properties": {
                        "name": {"$ref": "#/$defs/text"},
                        "number_format": {"type": "string", "pattern": r"^[0-9A-Z/.-]*\{(file_number|file_serial)\}$"},
                        "validity": {"$ref": "#/$defs/text"},
                        "conditions_from": _PATH, "valid_from_from": _PATH, "valid_until_from": _PATH,
                        "validity_years_from": _PATH, "location_from": _PATH,
                        "details": {"type": "array", "items": {
                            "type": "object", "additionalProperties": False, "required": ["label", "from"],
                            "properties": {"label": {"$ref": "#/$defs/text"}, "from": _PATH}}},
                    }},
        "complaints": {"type": "object", "additionalProperties": False,
                       "required": ["channels", "response_working_days", "handled_by"],
                       "properties": {"channels": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/text"}},
                                      "response_working_days": {"type": "integer", "minimum": 1, "maximum": 30},
                                      "handled_by": {"$ref": "#/$defs/text"}}},
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "bundle"}}},
         "then": {"required": ["permits"], "not": {"required": ["requirements"]}},
         "else": {"required": ["requirements"], "not": {"required": ["permits"]}}},
    ],
    "$defs": {
        "text": _TEXT,
        "step": {"type": "object", "additionalProperties": False, "required": ["task", "form"],
                 "properties": {"task": _ID, "form": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+\.json$"}}},
    },
}
