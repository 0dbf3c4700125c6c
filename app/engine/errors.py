"""Errors the engine reports to its callers; each message is meant for a person.

They are domain errors (``app/errors.py``): the web answers them with their status without each
view catching them.
"""
from __future__ import annotations

from app import errors
from app.i18n import N_


class EngineError(errors.Conflict):
    """Base of every error a caller of the engine can cause (409 unless a subclass says otherwise)."""


class NotFound(errors.NotFound, EngineError):
    pass


class TaskNotReady(EngineError):
    message = N_("Langkah ini belum dapat diselesaikan.")


class TaskAlreadyDone(EngineError):
    message = N_("Langkah ini sudah selesai atau ditutup oleh proses; tidak ada yang disimpan.")


class ConcurrentUpdate(EngineError):
    """Someone else changed the same instance at the same moment; nothing was saved."""

    message = N_("Berkas ini diubah orang lain pada saat yang sama; tidak ada yang disimpan. Muat ulang dan coba lagi.")


class InstanceNotRunning(EngineError):
    message = N_("Proses berkas ini tidak sedang berjalan.")
