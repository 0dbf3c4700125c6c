"""A script process of the pool: ``python -m app.engine.sandbox.worker MEMORY_MB``.

Reads length-prefixed JSON requests on stdin, runs each in a :class:`SandboxEnvironment`
and answers on the original stdout (stray output goes to stderr). Its address space is
capped at start and its CPU time before every request, so even a script the app's
deadline somehow missed cannot run on; the app kills and replaces it past the deadline.
"""
from __future__ import annotations

import os
import resource
import sys
from collections.abc import Callable
from typing import Any

from app.engine.sandbox.budgets import SandboxLimits
from app.engine.sandbox.data import dumps, encode, loads
from app.engine.sandbox.environment import SandboxEnvironment, script_lineno
from app.engine.sandbox.policy import ScriptRejected
from app.engine.sandbox.pool import MAX_CALL_BYTES, MAX_MESSAGE_BYTES, error_from_wire, error_to_wire


class Channel:
    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in = fd_in
        self.fd_out = fd_out

    def read(self) -> Any:
        size = int.from_bytes(self._exact(4), "big")
        if size > MAX_MESSAGE_BYTES:
            raise SystemExit(2)
        return loads(self._exact(size))

    def _exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = os.read(self.fd_in, n - len(buf))
            if not chunk:
                raise SystemExit(0)  # the app closed the pipe
            buf += chunk
        return bytes(buf)

    def write(self, message: dict[str, Any]) -> None:
        payload = dumps(message)
        view = memoryview(len(payload).to_bytes(4, "big") + payload)
        while view:
            view = view[os.write(self.fd_out, view):]


def _host_proxy(channel: Channel, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        payload = {"call": name, "args": encode(list(args)), "kwargs": encode(kwargs)}
        if len(dumps(payload)) > MAX_CALL_BYTES:
            raise ScriptRejected(f"{name}(): the arguments are too large.")
        channel.write(payload)
        reply = channel.read()
        if "raise" in reply:
            raise error_from_wire(reply["raise"])
        return reply["value"]

    call.__name__ = name
    return call


def _limit_memory(memory_mb: int) -> None:
    try:
        with open("/proc/self/statm", "rb") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        size = 0
    cap = size + memory_mb * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _limit_cpu(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 2
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def main() -> None:
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    fd_out = os.dup(1)
    os.dup2(2, 1)  # print() from anywhere cannot corrupt the pipe
    channel = Channel(0, fd_out)
    _limit_memory(memory_mb)
    environments: dict[tuple[Any, ...], SandboxEnvironment] = {}
    channel.write({"ready": True})
    while True:
        request = channel.read()
        limits = SandboxLimits(**request["limits"])
        names = tuple(request["host"])
        env = environments.get((limits, names))
        if env is None:
            if len(environments) > 32:
                environments.clear()
            helpers = {name: _host_proxy(channel, name) for name in names}
            env = environments[(limits, names)] = SandboxEnvironment(helpers=helpers, limits=limits)
        _limit_cpu(limits.max_seconds)
        context = request["context"]
        try:
            if request["op"] == "exec":
                env.execute(request["source"], context, request["external"])
                reply: dict[str, Any] = {"ok": encode(context)}
            else:
                reply = {"ok": encode(env.evaluate(request["source"], context, request["external"]))}
        except MemoryError:
            reply = error_to_wire(ScriptRejected("the script ran out of memory."), None)
        except Exception as err:
            reply = error_to_wire(err, script_lineno(err.__traceback__))
        channel.write(reply)


if __name__ == "__main__":
    main()
