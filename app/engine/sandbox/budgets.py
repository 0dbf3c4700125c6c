"""Budgets of one run: limits, the per-run counters the guards and the tracer charge."""
from __future__ import annotations

import contextvars
import os
import time as _time
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from app.engine.sandbox.policy import ScriptRejected


@dataclass(frozen=True)
class SandboxLimits:
    """Budgets of one script or expression run."""

    max_lines: int = 100_000
    max_seconds: float = 2.0
    max_range: int = 100_000
    max_size: int = 1_000_000
    max_alloc: int = 5_000_000
    max_int_bits: int = 8_192
    max_memory_mb: int = 256
    max_data_nodes: int = 500_000
    max_data_depth: int = 64
    max_data_chars: int = 2_000_000


DEFAULT_LIMITS = SandboxLimits()

# ---------------------------------------------------------------------------
# Run state (per thread / context): budgets read by guards and the tracer.


class Run:
    __slots__ = ("alloc", "deadline", "limits", "lines", "rss_start")

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.lines = 0
        self.alloc = 0
        self.deadline = _time.monotonic() + limits.max_seconds
        self.rss_start: int | None = None

    def step(self, lineno: int | None = None) -> None:
        self.lines += 1
        if self.lines > self.limits.max_lines:
            raise ScriptRejected(
                f"the script ran more than {self.limits.max_lines:,} lines (an endless loop?).", lineno
            )
        if not self.lines & 127:
            self.check_resources()

    def check_resources(self) -> None:
        if _time.monotonic() > self.deadline:
            raise ScriptRejected(f"the script ran longer than {self.limits.max_seconds:g} s.")
        rss = _rss_bytes()
        if self.rss_start is None:
            self.rss_start = rss
        elif rss - self.rss_start > self.limits.max_memory_mb * 2**20:
            raise ScriptRejected(f"the script used more than {self.limits.max_memory_mb} MB of memory.")


def guard_tick() -> None:
    """Called at the top of every loop body: counts like a line."""
    run = current_run.get()
    if run is None:
        return
    run.step()


current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar("sandbox_run", default=None)

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def limits_now() -> SandboxLimits:
    run = current_run.get()
    return run.limits if run is not None else DEFAULT_LIMITS


def charge(n: int, what: str) -> None:
    """Account for ``n`` items/characters about to be built by ``what``."""
    limits = limits_now()
    if n > limits.max_size:
        raise ScriptRejected(f"{what} would build {n:,} items/characters; the limit is {limits.max_size:,}.")
    run = current_run.get()
    if run is not None:
        run.alloc += n
        if run.alloc > limits.max_alloc:
            raise ScriptRejected(f"the script built more than {limits.max_alloc:,} items/characters in total.")


def sized(value: Any) -> int | None:
    try:
        return len(value)
    except Exception:  # objects without a length
        return None


def text_size(obj: Any, limit: int) -> int:
    """Rough upper bound of ``len(str(obj))``, stopping once it passes ``limit``."""
    total = 0
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, (bytes, bytearray)):
            total += 4 * len(item) + 3
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 3
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total > limit:
                return total
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            if total > limit:
                return total
            stack.extend(item)
        else:
            total += 64
        if total > limit:
            return total
    return total


def content_size(seq: Any, limit: int) -> int:
    """Items plus characters inside ``seq``, walking nested lists, tuples, sets and dicts
    (a nested container counts 1 plus its contents, a string its length, anything else 1);
    stops as soon as the count passes ``limit``, so the walk costs at most ``limit`` steps."""
    if isinstance(seq, (str, bytes, bytearray)):
        return len(seq)
    total = 0
    stack: list[Any] = []
    items = list(seq.items()) if isinstance(seq, dict) else seq
    if len(items) > limit:
        return len(items)
    stack.extend(items)
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) or 1
        elif isinstance(item, (list, tuple, set, frozenset, dict)):
            total += 1
            inner = list(item.items()) if isinstance(item, dict) else item
            if total + len(inner) > limit:
                return total + len(inner)
            stack.extend(inner)
        else:
            total += 1
        if total > limit:
            return total
    return total


def check_text(obj: Any, what: str) -> None:
    if isinstance(obj, (str, int, float, bool, date, time, timedelta)) or obj is None:
        return
    limit = limits_now().max_size
    if text_size(obj, limit) > limit:
        raise ScriptRejected(f"{what} would build a text longer than {limit:,} characters.")


