"""Errors the engine reports to its callers; each message is meant for a person."""
from __future__ import annotations


class EngineError(Exception):
    """Base of every error a caller of the engine can cause."""


class NotFound(EngineError):
    pass


class TaskNotReady(EngineError):
    pass


class TaskAlreadyDone(EngineError):
    pass


class ConcurrentUpdate(EngineError):
    """Someone else changed the same instance at the same moment; nothing was saved."""


class InstanceNotRunning(EngineError):
    pass
