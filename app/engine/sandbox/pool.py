"""Script processes: a budget nothing inside a script can outlive.

The guards and the line tracer stop most runaway scripts, but they only run between
Python lines: one C-level call (``a == b`` on two lists nested 28 deep) can hold the
interpreter, and every thread of the process, for as long as it likes. So scripts and
expressions run in a small pool of pre-started, persistent script processes
(``python -m app.engine.sandbox.worker``), each under ``resource`` limits on its address
space and CPU time. The calling thread waits on a pipe (without the GIL, so the rest of
the web process keeps answering) until a hard wall-clock deadline; past it the script
process is killed and replaced, and the script fails with :class:`ScriptRejected` -- the
step's transaction then leaves the instance in ``error`` (retry with ``ptsp retry``).

Only JSON-able data crosses the pipe (see :mod:`app.engine.sandbox.data`): the task data
in, the new task data (or the expression's value) out. Helpers injected by the host
(the date and working-day helpers over the office calendar) run here, in the calling
process: the script process asks for them by name over the same pipe.
"""
from __future__ import annotations

import atexit
import builtins
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from app.engine.sandbox.budgets import SandboxLimits
from app.engine.sandbox.data import decode, dumps, encode, loads
from app.engine.sandbox.environment import SandboxEnvironment, script_lineno
from app.engine.sandbox.policy import ScriptRejected
from app.engine.sandbox.straight_line import runs_inline

GRACE_SECONDS = 0.5  # past the script's own time budget before the process is killed
START_SECONDS = 60.0  # a new script process must say it is ready within this
BUSY_SECONDS = 30.0  # a script waits at most this for a free script process
MAX_MESSAGE_BYTES = 256 * 2**20
MAX_CALL_BYTES = 64 * 1024  # arguments of one host helper call

# Plain Python errors a script can raise, rebuilt by name in the caller's process.
_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (
        ArithmeticError, AssertionError, AttributeError, IndexError, KeyError, LookupError,
        NameError, NotImplementedError, OverflowError, RecursionError, RuntimeError,
        StopIteration, TypeError, UnboundLocalError, UnicodeError, ValueError, ZeroDivisionError,
    )
}


def error_to_wire(err: BaseException, lineno: int | None) -> dict[str, Any]:
    if isinstance(err, ScriptRejected):
        return {"rejected": err.reason, "lineno": err.lineno or lineno}
    args = [a for a in err.args if isinstance(a, (str, int, float, bool)) or a is None]
    return {"failed": type(err).__name__, "args": args, "lineno": lineno}


def error_from_wire(reply: Mapping[str, Any]) -> Exception:
    if "rejected" in reply:
        return ScriptRejected(str(reply["rejected"]), reply.get("lineno"))
    name = str(reply.get("failed"))
    cls = _ERRORS.get(name)
    err: Exception = cls(*reply.get("args", [])) if cls else RuntimeError(f"{name}: {reply.get('args')}")
    err.script_lineno = reply.get("lineno")  # type: ignore[attr-defined]
    return err


def _builtin_error(name: str) -> bool:
    return isinstance(getattr(builtins, name, None), type)


class _Overrun(Exception):
    pass


class _Died(Exception):
    pass


class ScriptProcess:
    """One persistent script process and its two pipe ends (length-prefixed JSON)."""

    def __init__(self, memory_mb: int) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "app.engine.sandbox.worker", str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.fd_in = self.proc.stdin.fileno()
        self.fd_out = self.proc.stdout.fileno()
        self.jobs = 0
        ready = self.receive(time.monotonic() + START_SECONDS)
        if ready.get("ready") is not True:
            self.kill()
            raise RuntimeError("the script process did not start")

    def send(self, payload: bytes) -> None:
        data = len(payload).to_bytes(4, "big") + payload
        view = memoryview(data)
        while view:
            written = os.write(self.fd_in, view)
            view = view[written:]

    def receive(self, deadline: float) -> Any:
        size = int.from_bytes(self._read(4, deadline), "big")
        if size > MAX_MESSAGE_BYTES:
            raise _Died(f"a message of {size} bytes")
        return loads(self._read(size, deadline))

    def _read(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Overrun
            ready, _, _ = select.select([self.fd_out], [], [], remaining)
            if not ready:
                raise _Overrun
            chunk = os.read(self.fd_out, min(n - len(buf), 1 << 20))
            if not chunk:
                raise _Died("end of file")
            buf += chunk
        return bytes(buf)

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.forget()

    def forget(self) -> None:
        """Close our pipe ends (in a forked child the process belongs to the parent)."""
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def alive(self) -> bool:
        return self.proc.poll() is None


class ScriptPool:
    """At most ``size`` script processes, started on first use and kept; one script at a time each."""

    def __init__(self, size: int, memory_mb: int) -> None:
        if size < 1:
            raise ValueError("a script pool needs at least one process")
        self.size = size
        self.memory_mb = memory_mb
        self._reset()
        _POOLS.add(self)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Condition()
        self._idle: list[ScriptProcess] = []
        self._count = 0  # started and not yet killed

    # -- running -----------------------------------------------------------------------------

    def run(self, request: dict[str, Any], host: Mapping[str, Callable[..., Any]], seconds: float) -> Any:
        """Send ``request`` to a free script process, serve its helper calls, return its reply.
        Raises :class:`ScriptRejected` when the process overruns ``seconds`` (plus a grace) or dies."""
        payload = dumps(request)
        worker = self._acquire()
        healthy = False
        deadline = time.monotonic() + seconds + GRACE_SECONDS
        try:
            worker.send(payload)
            while True:
                message = worker.receive(deadline)
                if "call" not in message:
                    healthy = True
                    return message
                asked = time.monotonic()
                answer = dumps(_serve_call(host, message))
                deadline += time.monotonic() - asked  # our own helpers' time is not the script's
                worker.send(answer)
        except _Overrun:
            raise ScriptRejected(
                f"the script ran longer than {seconds:g} s and was stopped (its process was ended).") from None
        except (_Died, OSError, ValueError) as err:
            raise ScriptRejected(
                f"the script process ended unexpectedly ({err or 'killed'}; out of memory or CPU time?).") from None
        finally:
            self._release(worker, healthy)

    def warm(self) -> None:
        """Start the missing processes now (in the background), so no script waits for one."""
        threading.Thread(target=self._fill, name="script-pool-warm", daemon=True).start()

    def _fill(self) -> None:
        while True:
            with self._lock:
                if self._count >= self.size:
                    return
                self._count += 1
            self._add_new()

    def _add_new(self) -> None:
        try:
            worker = ScriptProcess(self.memory_mb)
        except Exception:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise
        with self._lock:
            self._idle.append(worker)
            self._lock.notify()

    def _acquire(self) -> ScriptProcess:
        if self._pid != os.getpid():  # forked: the processes belong to the parent
            self._forget_all()
        deadline = time.monotonic() + BUSY_SECONDS
        with self._lock:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._count -= 1
                    worker.forget()
                if self._count < self.size:
                    self._count += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._lock.wait(remaining):
                    raise ScriptRejected("every script process is busy; try again in a moment.")
        try:
            return ScriptProcess(self.memory_mb)
        except Exception:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise

    def _release(self, worker: ScriptProcess, healthy: bool) -> None:
        if healthy:
            worker.jobs += 1
            with self._lock:
                self._idle.append(worker)
                self._lock.notify()
            return
        worker.kill()
        with self._lock:
            self._count -= 1
        self.warm()  # replace it now, off this request's path

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()

    def _forget_all(self) -> None:
        for worker in self._idle:
            worker.forget()
        self._reset()


def _serve_call(host: Mapping[str, Callable[..., Any]], message: Mapping[str, Any]) -> dict[str, Any]:
    func = host.get(str(message["call"]))
    try:
        if func is None:
            raise ScriptRejected(f"{message['call']}() is not available in diagram scripts.")
        return {"value": encode(func(*message.get("args", []), **message.get("kwargs", {})))}
    except Exception as err:  # the helper's error becomes the script's error
        wire = error_to_wire(err, None)
        if "failed" in wire and not _builtin_error(wire["failed"]):
            wire = {"failed": "RuntimeError", "args": [f"{wire['failed']}: {err}"], "lineno": None}
        return {"raise": wire}


_POOLS: weakref.WeakSet[ScriptPool] = weakref.WeakSet()
_SHARED: dict[tuple[int, int], ScriptPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(size: int, memory_mb: int) -> ScriptPool:
    """One pool per size and memory limit in this process (every app and engine shares it)."""
    with _SHARED_LOCK:
        pool = _SHARED.get((size, memory_mb))
        if pool is None:
            pool = _SHARED[(size, memory_mb)] = ScriptPool(size, memory_mb)
        return pool


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool._forget_all()


def _close_all() -> None:
    for pool in list(_POOLS):
        if pool._pid == os.getpid():
            pool.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all)


_PLAIN = (str, int, float, bool, type(None))


class PooledEnvironment(SandboxEnvironment):
    """:class:`SandboxEnvironment` whose scripts and expressions run in a script process.

    With ``inline``, a straight-line script or expression on small task data (:func:`runs_inline`: no
    loops, no calls, bounded work; see straight_line.py) runs in this process instead, with the same
    result: the task data crosses the same check and the same wire form (:func:`decode`), errors
    come back as the pool would rebuild them, and the task data is changed only on success.
    """

    def __init__(self, pool: ScriptPool, helpers: Mapping[str, Callable[..., Any]] | None = None,
                 limits: SandboxLimits | None = None, inline: bool = False) -> None:
        super().__init__(helpers=helpers, limits=limits)
        self.pool = pool
        self.inline = inline
        self._limits_wire = asdict(self.limits)
        self._host_names = sorted(self.host_helpers)

    def _wire(self, context: dict[str, Any], external_context: dict[str, Any] | None) -> tuple[Any, Any]:
        """The task data and external context as they cross to a script process; data that
        cannot cross (a function, an object...) is refused, whichever way the script runs."""
        try:
            return encode(context), encode(external_context or {})
        except TypeError as err:
            raise ScriptRejected(str(err)) from None

    def _send(self, op: str, source: str, context: dict[str, Any],
              external_context: dict[str, Any] | None) -> Any:
        wire_context, wire_external = self._wire(context, external_context)
        request = {"op": op, "source": source, "context": wire_context, "external": wire_external,
                   "limits": self._limits_wire, "host": self._host_names}
        reply = self.pool.run(request, self.host_helpers, self.limits.max_seconds)
        if "ok" not in reply:
            raise error_from_wire(reply)
        return reply["ok"]

    def _here(self, op: str, source: str, context: dict[str, Any],
              external_context: dict[str, Any] | None) -> Any:
        """:meth:`_send` run in this process: what the script process would do and answer."""
        wire_context, wire_external = self._wire(context, external_context)
        # A fresh copy as the script process reads it: the caller's data is never touched.
        scope, external = decode(wire_context), decode(wire_external)
        try:
            if op == "exec":
                before = dict(scope)
                SandboxEnvironment.execute(self, source, scope, external)
                for key, value in list(scope.items()):
                    # ``y = d`` or ``y = xs + ys`` shares values; from a script process nothing is shared.
                    if type(value) not in _PLAIN and value is not before.get(key, _PLAIN):
                        scope[key] = decode(encode(value))
                return scope
            return decode(encode(SandboxEnvironment.evaluate(self, source, scope, external)))
        except MemoryError:  # as the worker answers it and the pool rebuilds it
            raise error_from_wire(error_to_wire(ScriptRejected("the script ran out of memory."), None)) from None
        except Exception as err:
            raise error_from_wire(error_to_wire(err, script_lineno(err.__traceback__))) from None

    def _run_op(self, op: str, source: str, context: dict[str, Any],
                external_context: dict[str, Any] | None) -> Any:
        if self.inline and runs_inline(source, op, context, external_context or {}):
            return self._here(op, source, context, external_context)
        return self._send(op, source, context, external_context)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        return self._run_op("eval", expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        new = self._run_op("exec", script, context, external_context)
        # Nothing changes in the task data unless the whole script succeeded.
        context.clear()
        context.update(new)
        return True
