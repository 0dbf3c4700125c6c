"""The applicant's tracking PIN: six digits printed on the receipt, which open the public tracking page
and the complaint form for one file.

Stored as a keyed hash: HMAC-SHA256 under a key derived from the office's secret key, with a salt per
file. A six-digit PIN has a million values, so no hash, however slow, keeps it from someone holding
both the database and the time; what protects it is that a copy of the database alone cannot test a
guess without the secret key, which lives only in the service's settings. A keyed hash costs
microseconds where scrypt cost 100 ms of CPU per intake and per tracking attempt (a slow hash also
handed anyone guessing PINs a way to load the server).

Changing the secret key invalidates the PINs issued under it (as it does the permits' QR tokens): the
front desk reissues a PIN on the file's page. PINs stored before this scheme (werkzeug's scrypt hashes)
still open their files.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash

if TYPE_CHECKING:
    from app.files.models import ApplicationFile

PIN_DIGITS = 6
PIN_SCHEME = "pin-hmac-sha256"
_UNKNOWN_SALT = "0" * 16  # an unknown file still computes one digest: the answer takes as long


def new_tracking_pin() -> str:
    return f"{secrets.randbelow(10 ** PIN_DIGITS):0{PIN_DIGITS}d}"


def hash_tracking_pin(pin: str, secret_key: str) -> str:
    """What is stored for ``pin``: ``pin-hmac-sha256$<salt>$<digest>``."""
    salt = secrets.token_hex(8)
    return f"{PIN_SCHEME}${salt}${_digest(pin, salt, secret_key)}"


def pin_matches(file: ApplicationFile | None, pin: str, secret_key: str) -> bool:
    """True when ``pin`` is the tracking PIN of ``file``; an unknown file is refused in the same time as a
    wrong PIN."""
    stored = file.tracking_pin_hash if file is not None else None
    if not stored:
        _digest(pin, _UNKNOWN_SALT, secret_key)
        return False
    scheme, _, rest = stored.partition("$")
    if scheme != PIN_SCHEME:
        return check_password_hash(stored, pin)  # issued before PINs were keyed
    salt, _, digest = rest.partition("$")
    return hmac.compare_digest(_digest(pin, salt, secret_key), digest)


def _digest(pin: str, salt: str, secret_key: str) -> str:
    key = hmac.new(secret_key.encode(), b"ptsp tracking pin v1", hashlib.sha256).digest()
    return hmac.new(key, f"{salt}${pin}".encode(), hashlib.sha256).hexdigest()
