"""Values for a JSON Schema form, generated from the schema, and a filler that puts them into
the rendered page the way an officer would (type, choose, tick, attach).

A field the page offers no way to fill (no input, or no option holding the value the schema
allows) raises ``Unfillable`` naming the form and the field.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from re import _constants as sre_constants  # type: ignore[attr-defined]  # the stdlib's own parser
from re import _parser as sre_parse  # type: ignore[attr-defined]  # (sre_parse is deprecated)
from typing import Any

from app.files.nik import nik_birth_date

PDF = b"%PDF-1.7\n" + b"dokumen persyaratan " * 50
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


class Unfillable(AssertionError):
    def __init__(self, form: str, path: str, reason: str) -> None:
        self.form, self.path = form, path
        super().__init__(f"form {form}: field {path!r} cannot be filled: {reason}")


# ---------------------------------------------------------------------------
# Regular expression -> one matching string (the smallest repeat counts, first alternatives).
def example_for(pattern: str) -> str:
    parsed = sre_parse.parse(pattern)
    text = _emit(parsed)
    if not re.search(pattern, text):
        raise ValueError(f"no example found for pattern {pattern!r} (tried {text!r})")
    return text


def _emit(items: Any) -> str:
    out = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.ANY:
            out.append("a")
        elif op is sre_constants.IN:
            out.append(_char_in(arg))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, high, sub = arg
            count = max(low, 1) if high != 0 else 0
            out.append("".join(_emit(sub) for _ in range(count)))
        elif op is sre_constants.SUBPATTERN:
            out.append(_emit(arg[-1]))
        elif op is sre_constants.BRANCH:
            out.append(_emit(arg[1][0]))
        elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            continue
        else:
            raise ValueError(f"pattern construct {op} is not supported by the example generator")
    return "".join(out)


def _char_in(items: Any) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    for op, arg in items:
        if negate:
            break
        if op is sre_constants.LITERAL:
            return chr(arg)
        if op is sre_constants.RANGE:
            low, high = arg
            # a digit range: avoid a leading zero where another digit is allowed
            return chr(low + 1) if chr(low) == "0" and high > low else chr(low)
        if op is sre_constants.CATEGORY:
            return {sre_constants.CATEGORY_DIGIT: "1", sre_constants.CATEGORY_SPACE: " "}.get(arg, "a")
    for candidate in "a1A_":
        if re.fullmatch(f"[{''.join('^' if negate else '')}{_class_text(items)}]", candidate):
            return candidate
    return "a"


def _class_text(items: Any) -> str:
    return "".join(re.escape(chr(a)) for op, a in items if op is sre_constants.LITERAL)


# ---------------------------------------------------------------------------
def resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return resolve({**node, **{k: v for k, v in schema.items() if k != "$ref"}}, root)


def is_attachment(schema: Mapping[str, Any]) -> bool:
    props = schema.get("properties", {})
    return schema.get("type") == "object" and "reference" in props and "sha256" in props


class Attachment:
    """An upload: the filler attaches a file; the server fills reference and sha256."""

    def __init__(self, details: dict[str, Any]) -> None:
        self.details = details


class ValueGenerator:
    """Schema -> a valid value. ``today`` for dates; ``overrides`` set top-level properties
    (e.g. the gateway-deciding ``decision``)."""

    def __init__(self, root: Mapping[str, Any], today: date, overrides: Mapping[str, Any] | None = None) -> None:
        self.root = root
        self.today = today
        self.overrides = dict(overrides or {})

    def form(self) -> dict[str, Any]:
        value = self.value(self.root, "", top=True)
        assert isinstance(value, dict)
        return value

    def value(self, schema: Mapping[str, Any], path: str, top: bool = False) -> Any:
        schema = resolve(schema, self.root)
        name = path.rsplit("/", 1)[-1]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return self.value({**{k: v for k, v in schema.items() if k != key}, **schema[key][0]}, path)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next(k for k in kind if k != "null")
        if kind == "object" or "properties" in schema:
            return self.object(schema, path, top)
        if kind == "array":
            items = resolve(schema.get("items", {}), self.root)
            count = max(int(schema.get("minItems", 0)), 1)
            if "enum" in items:
                return list(items["enum"][:count])
            return [self.value(items, f"{path}/{i}") for i in range(count)]
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            return self.number(schema, kind)
        return self.string(schema, name)

    def object(self, schema: Mapping[str, Any], path: str, top: bool) -> Any:
        props = schema.get("properties", {})
        values: dict[str, Any] = {}
        required = list(schema.get("required", []))
        for name in required:
            if name in props:
                values[name] = self.value(props[name], f"{path}/{name}".lstrip("/"))
        if top:
            values.update(self.overrides)
        if isinstance(values.get("nik"), str) and "birth_date" in values:
            # A NIK encodes the date of birth and sex; the office checks they agree.
            born = nik_birth_date(values["nik"], self.today)
            if born:
                values["birth_date"] = born[0].isoformat()
                if "sex" in values:
                    values["sex"] = born[1]
        # if/then: when the values meet the "if", also give what "then" requires.
        condition = schema.get("if")
        if condition and _matches(condition, values):
            then = schema.get("then", {})
            for name in then.get("required", []):
                if name not in values and name in props:
                    merged = {**resolve(props[name], self.root), **then.get("properties", {}).get(name, {})}
                    values[name] = self.value(merged, f"{path}/{name}".lstrip("/"))
        if is_attachment(schema):
            return Attachment({k: v for k, v in values.items() if k not in ("reference", "sha256")})
        return values

    def number(self, schema: Mapping[str, Any], kind: str) -> int | float:
        low = schema.get("minimum", schema.get("exclusiveMinimum", None))
        high = schema.get("maximum", schema.get("exclusiveMaximum", None))
        candidate = 10 if low is None or low <= 10 else low
        if high is not None and candidate > high:
            candidate = high
        if "exclusiveMinimum" in schema and candidate <= schema["exclusiveMinimum"]:
            candidate = schema["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in schema and candidate >= schema["exclusiveMaximum"]:
            candidate = schema["exclusiveMaximum"] - (1 if kind == "integer" else 0.5)
        return int(candidate) if kind == "integer" else candidate

    def string(self, schema: Mapping[str, Any], name: str) -> str:
        fmt = schema.get("format")
        if fmt == "date":
            return self.today.isoformat()
        if fmt == "email":
            return "pemohon@example.go.id"
        if "pattern" in schema:
            return example_for(schema["pattern"])
        low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 200))
        text = f"Isian {name.replace('_', ' ')}"
        while len(text) < low:
            text += " lengkap"
        return text[:high]


def _matches(condition: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    for name in condition.get("required", []):
        if name not in values:
            return False
    for name, sub in condition.get("properties", {}).items():
        if name in values and "const" in sub and values[name] != sub["const"]:
            return False
    return True


# ---------------------------------------------------------------------------
def leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(field name on the page, value) for every input to fill."""
    if isinstance(value, Attachment):
        return [(path, value), *leaves(value.details, path)]
    if isinstance(value, dict):
        out = []
        for key, inner in value.items():
            out.extend(leaves(inner, f"{path}/{key}" if path else key))
        return out
    if isinstance(value, list) and value and all(isinstance(v, (dict, Attachment)) for v in value):
        out = []
        for index, inner in enumerate(value):
            out.extend(leaves(inner, f"{path}/{index}"))
        return out
    return [(path, value)]


def fill(page: Any, form_selector: str, form_name: str, values: dict[str, Any]) -> None:
    """Put ``values`` into the form on the page, as an officer would; Unfillable otherwise."""
    form = page.locator(form_selector)
    for path, value in leaves(values):
        field = form.locator(f'[name="{path}"]')
        if isinstance(value, Attachment):
            field = form.locator(f'input[type=file][name="{path}"]')
            if field.count() == 0:
                raise Unfillable(form_name, path, "no file input on the page")
            accept = field.first.get_attribute("accept") or ".pdf"
            upload = ({"name": f"{path.replace('/', '-')}.pdf", "mimeType": "application/pdf", "buffer": PDF}
                      if ".pdf" in accept else
                      {"name": f"{path.replace('/', '-')}.png", "mimeType": "image/png", "buffer": PNG})
            field.first.set_input_files(files=[upload])
            continue
        if field.count() == 0:
            raise Unfillable(form_name, path, "no input on the page")
        first = field.first
        tag = first.evaluate("e => e.tagName.toLowerCase()")
        kind = (first.get_attribute("type") or "").lower()
        if tag == "select":
            options = first.locator("option").evaluate_all("os => os.map(o => o.value)")
            if str(value) not in options:
                raise Unfillable(form_name, path, f"no option {value!r} among {options}")
            first.select_option(str(value))
        elif kind == "radio":
            choice = form.locator(f'input[type=radio][name="{path}"][value="{value}"]')
            if choice.count() == 0:
                offered = field.evaluate_all("es => es.map(e => e.value)")
                raise Unfillable(form_name, path, f"no choice {value!r} among {offered}")
            choice.check()
        elif kind == "checkbox" and isinstance(value, list):
            for item in value:
                box = form.locator(f'input[type=checkbox][name="{path}"][value="{item}"]')
                if box.count() == 0:
                    raise Unfillable(form_name, path, f"no box for {item!r}")
                box.check()
        elif kind == "checkbox":
            first.set_checked(bool(value))
        elif isinstance(value, list):
            first.fill("\n".join(str(v) for v in value))
        else:
            if not first.is_editable():
                raise Unfillable(form_name, path, "the input is not editable")
            first.fill(str(value))
