"""Where a browser may be sent back to after a form: same-site paths only.

Browsers and werkzeug drop tab, CR and LF from a URL before they read it, so
``/\\t/evil.example`` becomes ``//evil.example`` (another site) after any check
on the raw text. The target is therefore refused outright when it holds any
control character or whitespace, and checked after parsing: no scheme, no
host, a path starting with exactly one ``/`` and no backslash.
"""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``."""
    if not target or len(target) > 2000:
        return default
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return default
    return target
