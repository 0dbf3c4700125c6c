"""The one way the application gets jsonschema.

jsonschema loads a checker for every format whose library is installed. The IRI formats'
checker (``rfc3987_syntax``) compiles a grammar at import: 1.6 s on every start of the CLI,
the web and the workers. No form, catalogue entry or API schema uses ``iri``/``iri-reference``,
so that library is treated as absent here (it is not a dependency either); every other format
the forms use (``date``, ``email``) and the rest jsonschema knows are still checked.
"""
from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None = "not installed" to the import system

from jsonschema import Draft202012Validator, FormatChecker, SchemaError  # noqa: E402

__all__ = ["Draft202012Validator", "FormatChecker", "SchemaError"]
