"""The errors a user can cause, one base for every room: each carries its HTTP status, a code for
the API and a message for a person (Indonesian; its English is in the .po catalogue).

A service raises them and changes nothing; ``app/web/error_handlers.py`` answers them (an error page
with the right status and the message, or the API's JSON error body under ``/api/``), so a view
catches one only when it answers differently (e.g. shows the form again with the fields marked).
The engine keeps its own errors (``app/engine/errors.py``), which are domain errors too.
"""
from __future__ import annotations

from typing import Any, ClassVar

from app.i18n import N_, gettext


class DomainError(Exception):
    """Base of every error a user can cause; nothing was changed. ``str(error)`` is the detail for
    logs and the API (English); :meth:`user_message` is what a person reads."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    # Indonesian (English in the .po catalogue); subclasses give their own.
    message: ClassVar[str] = N_("Permintaan ini tidak dapat diproses.")

    def user_message(self) -> str:
        """The message in the reader's language."""
        return gettext(self.message, **self.message_params())

    def message_params(self) -> dict[str, Any]:
        return {}


class NotFound(DomainError):
    status, code = 404, "not_found"
    message = N_("Yang dicari tidak ditemukan.")


class Forbidden(DomainError):
    status, code = 403, "forbidden"
    message = N_("Anda tidak berwenang melakukan ini.")


class Conflict(DomainError):
    """The thing changed meanwhile (another user won the race) or is no longer in a state that allows it."""

    status, code = 409, "conflict"
    message = (N_("Sudah diubah orang lain atau tidak lagi dalam keadaan yang sesuai; tidak ada yang disimpan. "
               "Muat ulang dan coba lagi."))


class Invalid(DomainError):
    status, code = 422, "validation_failed"
    message = N_("Isian tidak dapat diterima; periksa kembali.")
