"""JSON Schema forms: what a schema says about one field, shared by rendering (render.py),
reading submitted values back (values.py) and the form check (check.py)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/x``)."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    if not isinstance(ref, str) or not ref.startswith("#/"):
        raise ValueError(f"only local $ref are supported in forms, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    merged = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return resolve(merged, root)



STORED = ("reference", "sha256")  # filled by the server from the upload, never typed


def is_attachment(schema: Mapping[str, Any]) -> bool:
    props = schema.get("properties", {})
    return schema.get("type") == "object" and "reference" in props and "sha256" in props


def choice_alternatives(schema: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]] | None:
    """The keyword ("oneOf"/"anyOf") and its alternatives, if the schema is a choice."""
    for keyword in ("oneOf", "anyOf"):
        if isinstance(schema.get(keyword), list) and schema[keyword]:
            return keyword, [a for a in schema[keyword] if isinstance(a, Mapping)]
    return None


def is_constant(alternative: Mapping[str, Any]) -> bool:
    return "const" in alternative or (isinstance(alternative.get("enum"), list) and len(alternative["enum"]) == 1)


def constant_of(alternative: Mapping[str, Any]) -> Any:
    return alternative["const"] if "const" in alternative else alternative["enum"][0]


def options_of(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, label) of the constants a field may take: enum, const, or the constant
    alternatives of oneOf/anyOf (labelled by their titles)."""
    choice = choice_alternatives(schema)
    if choice:
        return [(as_text(constant_of(a)), str(a.get("title") or humanize(as_text(constant_of(a)))))
                for a in choice[1] if is_constant(a)]
    if isinstance(schema.get("enum"), list):
        return [(as_text(v), humanize(as_text(v))) for v in schema["enum"]]
    if "const" in schema and not isinstance(schema["const"], bool):
        return [(as_text(schema["const"]), humanize(as_text(schema["const"])))]
    return []


def as_text(value: Any) -> str:
    """A constant as the browser sends it back (JSON booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_choice(schema: Mapping[str, Any]) -> bool:
    return bool(choice_alternatives(schema)) or isinstance(schema.get("enum"), list) or (
        "const" in schema and not isinstance(schema["const"], bool))


def humanize(value: str) -> str:
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:] if len(text) > 2 else text



def type_of(schema: Mapping[str, Any]) -> str | None:
    """The schema's type; of a list such as ["string", "null"] the first that is not null."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "const" in schema:
        kind = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(schema["const"]))
    return kind if isinstance(kind, str) else None

