"""The one check every diagram's bytes pass before any XML parser reads them.

A byte search for ``<!DOCTYPE`` is not enough: a document that declares
``encoding="UTF-7"`` (or UTF-16, EBCDIC, ...) spells its DTD in bytes that do
not contain it, and the parser decodes it back. Diagrams are therefore UTF-8
only: the bytes must decode as UTF-8, the XML declaration may name no other
encoding, and the DTD check runs on the decoded text. :func:`no_doctype_after_parse`
checks the parsed tree too, so nothing the parser saw as a DTD survives.
"""
from __future__ import annotations

import re

from lxml import etree

_DECLARED_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
UTF8_NAMES = {"utf-8", "utf8"}


class HostileXml(ValueError):
    """Refused bytes; ``reason`` is one of ``not_utf8``, ``encoding``, ``dtd``; ``detail`` says more."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(detail)


def check_xml_bytes(content: bytes) -> str:
    """The decoded text of ``content``, or :class:`HostileXml` when it is not plain UTF-8 XML without a DTD."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HostileXml("not_utf8", f"not UTF-8 encoded ({exc.reason} at byte {exc.start})") from exc
    body = text.removeprefix("\ufeff")
    declared = _DECLARED_ENCODING.match(body)
    if declared and declared.group(1).strip().lower() not in UTF8_NAMES:
        raise HostileXml("encoding", f"declares encoding {declared.group(1)!r}; only UTF-8 is accepted")
    if _DTD.search(body):
        raise HostileXml("dtd", "DTDs and entity declarations are not allowed in diagrams")
    return text


def no_doctype_after_parse(root: etree._Element) -> None:
    """:class:`HostileXml` when the parsed document still carries a DTD or internal subset."""
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise HostileXml("dtd", "DTDs and entity declarations are not allowed in diagrams")
