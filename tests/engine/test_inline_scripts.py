"""Straight-line scripts and conditions run in the calling process (app/engine/sandbox/straight_line.py),
with exactly the result the script process would give; everything else still goes to the pool."""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.clock import SYSTEM_CLOCK, FixedClock
from app.config import Settings
from app.container import Container
from app.engine.sandbox import PooledEnvironment, SandboxLimits, ScriptRejected, make_script_engine
from app.engine.sandbox.data import decode, dumps, encode, loads, within
from app.engine.sandbox.straight_line import MAX_DATA_CHARS, MAX_DATA_NODES, MAX_NODES, runs_inline
from app.publisher import RecordingPublisher
from app.sla.calendar import WorkingCalendar
from app.sla.script_helpers import script_helpers
from tests.engine.test_building_permit_diagram import BPMN_FILE, PROCESS_ID, complete
from tests.samples import (
    CHECK_COMPLETE,
    CHECK_INCOMPLETE,
    DRAFT,
    HANDOVER,
    PAYMENT,
    REGISTRATION,
    RESUBMISSION,
    SIGN_APPROVE,
    SURVEY,
)

HELPERS = script_helpers(WorkingCalendar(), SYSTEM_CLOCK)


def environment(inline: bool) -> PooledEnvironment:
    env = make_script_engine(HELPERS, inline=inline).environment
    assert isinstance(env, PooledEnvironment)
    return env


@pytest.fixture(scope="module")
def pooled() -> PooledEnvironment:
    env = environment(inline=False)
    env.execute("ready = 1", {})  # start the script processes ahead of the tests
    return env


@pytest.fixture(scope="module")
def here() -> PooledEnvironment:
    return environment(inline=True)


class PoolCalls:
    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def pool_calls(pooled: PooledEnvironment, monkeypatch: pytest.MonkeyPatch) -> Iterator[PoolCalls]:
    """Counts the calls to the shared script pool (every engine here uses the same one)."""
    calls = PoolCalls()
    pool = pooled.pool
    real = pool.run

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.count += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pool, "run", counting)
    yield calls


# ---------------------------------------------------------------------------
# Which sources run here.

INLINE_EXEC = [
    'outcome = "granted"',
    "pass",
    "a = b = 1",
    "x = amount * 2 + 1 - 3 / 4 // 1",
    "ok = not (a and b or c)",
    "grade = 'high' if score >= 80 else 'low'",
    "y = -x\nz = +x",
    "same = a == b != c < d <= e > f >= g",
    "x = None\ny = True\nz = 1.5\nw = 'text'",
    "# a comment\noutcome = 'refused'",
    "'a docstring'\nx = 1",
    "x = " + " + ".join(["1"] * 30),
    "\n".join(["pass"] * 50),
    "\n".join(f"v{i} = {i}" for i in range(49)),
    "x = 'x' * 100000000",  # refused by the guard, in this process as in the pool
    "x = " + repr("y" * 10_000),
    f"x = {2**64 - 1}",
]
INLINE_EVAL = [
    "documents_complete == True",
    'decision == "setuju"',
    "  decision == 'tolak'  \n",
    "a > 1 and b < 2",
    "fee * 2",
]
POOLED_EXEC = [
    "x = len(items)",                   # call
    "x = today()",                      # helper call
    "x = s.upper",                      # attribute
    "x = d['k']",                       # subscript
    "x = xs[1:2]",                      # slice
    "for i in range(3):\n    pass",     # loop
    "while False:\n    pass",           # loop
    "x = [i for i in xs]",              # comprehension
    "x = {k: 1 for k in xs}",           # comprehension
    "x = lambda: 1",                    # lambda
    "x = f'{a}'",                       # f-string
    "x = [1, 2]",                       # display
    "x = {'a': 1}",                     # display
    "x = (1, 2)",                       # display
    "x = 2 ** 10",                      # power
    "x = 'a%s' % b",                    # %-formatting
    "x = 1 << 3",                       # shift
    "x = a | b",                        # bitwise or
    "x = ~a",                           # invert
    "x = a in xs",                      # in
    "x = a not in xs",                  # not in
    "x = a is None",                    # is
    "x += 1",                           # augmented assignment
    "(x := 1)",                         # walrus
    "a, b = 1, 2",                      # tuple target
    "d['k'] = 1",                       # subscript target
    "_private = 1",                     # private name
    "x = _private",                     # private name
    "x = __builtins__",                 # private name
    "x = " + repr("y" * 10_001),        # string too long
    f"x = {2**64}",                     # int too large
    f"x = {-(2**64)}",                  # int too large
    "x = b'bytes'",                     # bytes
    "x = 1j",                           # complex
    "x = ...",                          # ellipsis
    "if a:\n    x = 1",                 # if statement
    "del a",                            # del
    "assert a",                         # assert
    "import os",                        # import
    "def f():\n    pass",               # def
    "x = " + " + ".join(["1"] * (MAX_NODES // 2)),  # too many nodes
    "\n".join("pass" for _ in range(51)),              # too many statements
    "x = (",                            # syntax error: the pool says what is wrong
    "big = xs + xs\nsame = big == ys",  # builds and compares
    "ok = a * 2 > b",                   # builds and compares
]
POOLED_EVAL = [
    "len(items) > 0",
    "x.get('k')",
    "a in ('x', 'y')",
    "2 ** 100",
    "[i for i in xs]",
    "outcome = 1",  # a statement is not an expression
    "fee + 1 > 0",  # builds and compares
]


@pytest.mark.parametrize("source", INLINE_EXEC)
def test_straight_line_scripts_run_inline(source: str) -> None:
    assert runs_inline(source, "exec")


@pytest.mark.parametrize("source", INLINE_EVAL)
def test_straight_line_expressions_run_inline(source: str) -> None:
    assert runs_inline(source, "eval")


@pytest.mark.parametrize("source", POOLED_EXEC)
def test_other_scripts_go_to_the_pool(source: str) -> None:
    assert not runs_inline(source, "exec")


@pytest.mark.parametrize("source", POOLED_EVAL)
def test_other_expressions_go_to_the_pool(source: str) -> None:
    assert not runs_inline(source, "eval")


def test_not_text_or_unknown_mode_goes_to_the_pool() -> None:
    assert not runs_inline(None, "exec")
    assert not runs_inline(b"x = 1", "exec")
    assert not runs_inline("x = 1", "single")


# ---------------------------------------------------------------------------
# Parity with the script process.

CONTEXTS: list[dict[str, Any]] = [
    {},
    {"a": 1, "b": 2.5, "c": None, "s": "text", "flag": True},
    {"d": date(2026, 3, 16), "e": date(2026, 3, 1), "dt": datetime(2026, 3, 16, 8, 30), "t": time(8, 0)},
    {"nested": {"when": date(2026, 1, 2), "list": [1, {"deep": datetime(2026, 1, 2, 3, 4)}], "none": None}},
    {"tup": (1, 2), "keys": {1: "one", 2.5: "x", None: "n"}, "xs": [1, 2], "ys": [3]},
    {"big": 2**8000, "small": 3, "f": 0.1, "neg": -0.0, "inf": float("inf")},
    {"a": 1, "s": "x" * 600_000},
]

SCRIPTS = [
    'outcome = "granted"',
    "x = a + b\ny = a - b\nz = a * b\nw = a / b\nv = a // b",
    "x = 1 / 0",
    "x = 1 // 0",
    "x = missing + 1",
    "before = 1\nx = missing",
    "x = a < s",
    "x = s * 3",
    "x = s * 2",                        # over max_size with the 600,000-character s
    "x = s + s",
    "x = big * big",                    # int product over max_int_bits
    "x = big * small",
    "x = big / small",
    "x = big - big\ny = -big",
    "copy = d\nlater = d - e",
    "same = nested\nalso = nested",
    "both = xs + ys\nfirst = xs",
    "k = keys\nt = tup\nu = tup + tup",
    "x = f * 3\ny = inf * 2\nz = neg",
    "x = dt - e",
    "x = t < t",
    "x = a and s or c\ny = not flag\nz = a if flag else b",
    "x = nested == nested",
    "today = 1",
    "x = today",                        # a helper: not kept in task data
    "x = len",                          # a builtin: not kept either
    "pass",
]

EXPRESSIONS = [
    "a == 1",
    "d",
    "d - e",
    "dt",
    "t",
    "nested",
    "tup",
    "keys",
    "xs + ys",
    "a / 0",
    "missing",
    "a < s",
    "s * 2",
    "big * big",
    "today",
    "len",
    "f * 3",
    "neg",
    "flag and a",
    "c",
]


def run(env: PooledEnvironment, op: str, source: str, context: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    data = copy.deepcopy(context)
    try:
        result = env.execute(source, data) if op == "exec" else env.evaluate(source, data)
    except Exception as err:
        return ("error", type(err), str(err), getattr(err, "script_lineno", None)), None, data
    return ("ok", type(result), result), _types(result), data


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {f"{key!r}:{type(key).__name__}": _types(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, *(_types(item) for item in value)]
    return type(value).__name__


def _check_parity(pooled: PooledEnvironment, here: PooledEnvironment, op: str, source: str) -> None:
    assert runs_inline(source, op), source
    for context in CONTEXTS:
        want = run(pooled, op, source, context)
        got = run(here, op, source, context)
        assert got[0] == want[0], (source, context.keys())
        assert got[1] == want[1], (source, context.keys())
        assert got[2] == want[2] and _types(got[2]) == _types(want[2]), (source, context.keys())
        if want[0][0] == "error":
            assert got[2] == context  # unchanged on error, both ways
            assert want[2] == context


@pytest.mark.parametrize("source", SCRIPTS)
def test_scripts_give_what_the_pool_gives(pooled: PooledEnvironment, here: PooledEnvironment,
                                          pool_calls: PoolCalls, source: str) -> None:
    _check_parity(pooled, here, "exec", source)
    assert pool_calls.count == len(CONTEXTS)  # the pooled runs only


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_expressions_give_what_the_pool_gives(pooled: PooledEnvironment, here: PooledEnvironment,
                                              pool_calls: PoolCalls, source: str) -> None:
    _check_parity(pooled, here, "eval", source)
    assert pool_calls.count == len(CONTEXTS)


def test_shared_values_come_back_unshared(here: PooledEnvironment) -> None:
    """From a script process nothing in the task data is shared; the same here."""
    data: dict[str, Any] = {"nested": {"k": [1]}, "xs": [{"a": 1}]}
    original = data["nested"]
    here.execute("copy = nested\nmore = xs + xs", data)
    assert data == {"nested": {"k": [1]}, "xs": [{"a": 1}], "copy": {"k": [1]}, "more": [{"a": 1}, {"a": 1}]}
    assert data["copy"] is not data["nested"] and data["nested"] is not original
    assert data["more"][0] is not data["more"][1] and data["more"][0] is not data["xs"][0]
    value = here.evaluate("nested", data)
    assert value == data["nested"] and value is not data["nested"]


def test_the_callers_data_is_not_touched(here: PooledEnvironment) -> None:
    inner = {"when": date(2026, 1, 2)}
    data: dict[str, Any] = {"inner": inner, "blob": "x" * 1_500_000}
    with pytest.raises(ScriptRejected, match="characters of text"):
        here.execute("more = blob", data)  # the data check fails after the dates were converted
    assert data["inner"] is inner and inner == {"when": date(2026, 1, 2)}
    here.execute("x = 1", data)
    assert data["inner"] == {"when": "2026-01-02"} and inner == {"when": date(2026, 1, 2)}


class Opaque:
    pass


@pytest.mark.parametrize("op,source", [("exec", "x = 1"), ("eval", "a")])
def test_unencodable_task_data_is_refused_both_ways(pooled: PooledEnvironment, here: PooledEnvironment,
                                                   op: str, source: str) -> None:
    for env in (pooled, here):
        data: dict[str, Any] = {"a": 1, "thing": Opaque()}
        before = dict(data)
        with pytest.raises(ScriptRejected, match="cannot be passed to or from a diagram script"):
            if op == "exec":
                env.execute(source, data)
            else:
                env.evaluate(source, data)
        assert data == before


def test_an_int_json_cannot_print_fails_alike(pooled: PooledEnvironment, here: PooledEnvironment) -> None:
    errors = []
    for env in (pooled, here):
        with pytest.raises(ValueError) as caught:
            env.execute("x = 1", {"huge": 10**5000})
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_decode_reads_what_the_wire_reads() -> None:
    value = {"d": date(2026, 1, 2), (1, 2): {1: "x", None: [time(1, 2)]}, "s": {1, (2, 3)}, "f": frozenset("ab"),
             "td": timedelta(1, 2, 3), "__sandbox_type__": "date", "v": "x", "tup": (1, [2], (3,)), "n": [None, 0.5]}
    assert decode(encode(value)) == loads(dumps({"v": encode(value)}))["v"] == value
    assert _types(decode(encode(value))) == _types(value)


# ---------------------------------------------------------------------------
# Hostile straight-line scripts are refused here as in the pool.

@pytest.mark.parametrize("source,context", [
    ('a = "x" * 100000000', {}),
    ("a = b * b", {"b": 2**6000}),
    ("a = s + s + s + s + s + s", {"s": "y" * 900_000}),
])
def test_hostile_straight_line_scripts_are_refused_alike(pooled: PooledEnvironment, here: PooledEnvironment,
                                                         pool_calls: PoolCalls, source: str,
                                                         context: dict[str, Any]) -> None:
    assert runs_inline(source, "exec")
    messages = []
    for env in (pooled, here):
        data = dict(context)
        with pytest.raises(ScriptRejected) as caught:
            env.execute(source, data)
        assert data == context
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert pool_calls.count == 1


def test_comparing_what_plus_built_goes_to_the_pool_whose_deadline_stops_it() -> None:
    """``+`` doubles a list of two large values in a few lines (each item shared, within max_size);
    comparing two such lists walks the large values once per item, in one C-level call. Each half
    alone is straight-line; together they go to a script process, which is stopped at its deadline."""
    doublings = 9
    build = ["a = x + y", "b = y + x"] + ["a = a + a", "b = b + b"] * doublings
    source = "\n".join([*build, "same = a == b"])
    assert runs_inline("\n".join(build), "exec")
    assert runs_inline("same = a == b", "exec")
    assert not runs_inline(source, "exec")

    env = make_script_engine(HELPERS, SandboxLimits(max_seconds=0.5), inline=True).environment
    data = {"x": [list(range(200_000))], "y": [list(range(200_000))]}
    started = monotonic()
    with pytest.raises(ScriptRejected, match=r"longer than 0\.5 s"):
        env.execute(source, data)
    assert monotonic() - started < 10
    assert set(data) == {"x", "y"}


def test_straight_line_sources_on_large_task_data_go_to_the_pool(here: PooledEnvironment, pool_calls: PoolCalls) -> None:
    """The data a script is given is not bounded on the way in (only what it keeps is checked): 63
    chained comparisons of two 300,000-value lists held this process for seconds. Past
    MAX_DATA_NODES values (or MAX_DATA_CHARS characters) of task data or external context, a
    straight-line source runs in a script process, whose deadline bounds it."""
    source = "same = " + " == ".join(["x", "y"] * 32)
    assert runs_inline(source, "exec")
    half = MAX_DATA_NODES // 2
    small = {"x": list(range(half - 10)), "y": list(range(half - 10))}
    large = {"x": list(range(half)), "y": list(range(half))}
    long_text = {"x": "a" * (MAX_DATA_CHARS // 2), "y": "a" * (MAX_DATA_CHARS // 2 + 1)}
    assert runs_inline(source, "exec", small, {})
    assert not runs_inline(source, "exec", large, {})
    assert not runs_inline(source, "exec", long_text, {})
    assert not runs_inline(source, "exec", {}, large)  # the external context counts alike

    scope = dict(small)
    here.execute(source, scope)
    assert (scope["same"], pool_calls.count) == (True, 0)
    for data, same in ((large, True), (long_text, False)):
        scope = dict(data)
        here.execute(source, scope)
        assert scope["same"] is same
    assert pool_calls.count == 2
    assert here.evaluate("x == y", {"x": 1}, {"y": list(range(MAX_DATA_NODES))}) is False
    assert pool_calls.count == 3


@pytest.mark.parametrize(("value", "nodes", "chars", "fits"), [
    (None, 1, 0, True),
    ("abc", 1, 3, True),
    ("abcd", 1, 3, False),
    ([1, 2, 3], 4, 0, True),
    ([1, 2, 3], 3, 0, False),
    ({"k": [1, (2, 3)], "t": {4}}, 10, 2, True),
    ({"k": [1, (2, 3)], "t": {4}}, 9, 2, False),
    ({"k": [1, (2, 3)], "t": {4}}, 10, 1, False),
    ([date(2026, 1, 1), timedelta(1)], 3, 0, True),
])
def test_within_counts_every_value_and_character(value: Any, nodes: int, chars: int, fits: bool) -> None:
    assert within(value, nodes, chars) is fits


def test_within_stops_at_its_bound_however_large_the_data() -> None:
    huge = [[0] * 1000] * 100_000  # 100 million values, shared: a full walk would take seconds
    started = monotonic()
    assert within(huge, MAX_DATA_NODES, MAX_DATA_CHARS) is False
    assert monotonic() - started < 1.0


# ---------------------------------------------------------------------------
# The building permit, end to end: fewer trips to the pool, the same outcome.

def _walk(inline: bool, incomplete_first: bool) -> BpmnWorkflow:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_FILE))
    wf = BpmnWorkflow(parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID),
                      script_engine=make_script_engine(HELPERS, inline=inline))
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update(file_number="PBG-2026-000123", file_serial="2026/000123", resubmission_days=14)
    wf.do_engine_steps()
    complete(wf, "register_application", REGISTRATION)
    if incomplete_first:
        complete(wf, "check_documents", CHECK_INCOMPLETE)
        complete(wf, "receive_resubmission", RESUBMISSION)
    complete(wf, "check_documents", CHECK_COMPLETE)
    complete(wf, "field_survey", SURVEY)
    complete(wf, "confirm_payment", PAYMENT)
    complete(wf, "draft_permit", DRAFT)
    complete(wf, "sign_permit", SIGN_APPROVE)
    complete(wf, "hand_over_permit", HANDOVER)
    assert wf.is_completed()
    return wf


def _history(wf: BpmnWorkflow) -> list[tuple[str, Any]]:
    done = sorted(wf.get_tasks(state=TaskState.COMPLETED), key=lambda t: t.last_state_change)
    return [(t.task_spec.name, json.dumps(t.data, sort_keys=True, default=str)) for t in done]


@pytest.mark.parametrize("incomplete_first,pooled_count,inline_count", [
    # the gateways, permit_number and outcome run here; the fee script (calls) and the
    # resubmission timer (iso_days) still go to the pool
    (False, 5, 1),
    (True, 7, 2),
])
def test_building_permit_walk_uses_the_pool_less(pool_calls: PoolCalls, incomplete_first: bool,
                                                 pooled_count: int, inline_count: int) -> None:
    pooled_wf = _walk(inline=False, incomplete_first=incomplete_first)
    assert pool_calls.count == pooled_count  # every script and condition
    pool_calls.count = 0
    inline_wf = _walk(inline=True, incomplete_first=incomplete_first)
    assert pool_calls.count == inline_count
    assert inline_wf.data == pooled_wf.data
    assert inline_wf.data["outcome"] == "granted" and inline_wf.data["fee"] == 600000
    assert _history(inline_wf) == _history(pooled_wf)


# ---------------------------------------------------------------------------
# The setting.

@pytest.mark.parametrize("raw,inline", [("0", False), ("false", False), ("1", True), (None, True)])
def test_setting_ptsp_inline_scripts(settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch,
                                     pool_calls: PoolCalls, tmp_path: Path, raw: str | None, inline: bool) -> None:
    if raw is None:
        monkeypatch.delenv("PTSP_INLINE_SCRIPTS", raising=False)
    else:
        monkeypatch.setenv("PTSP_INLINE_SCRIPTS", raw)
    configured = Settings.from_env(database_url=settings.database_url, var_dir=settings.var_dir,
                                   broker_url=settings.broker_url)
    assert configured.inline_scripts is inline
    c = Container(configured, clock=clock, publisher=RecordingPublisher())
    try:
        env = c.runtime.script_engine.environment
        pool_calls.count = 0  # the catalogue's worked examples ran while the container was built
        assert isinstance(env, PooledEnvironment) and env.inline is inline
        data: dict[str, Any] = {"decision": "setuju"}
        env.execute('outcome = "granted"', data)
        assert env.evaluate('decision == "setuju"', data) is True
        assert data == {"decision": "setuju", "outcome": "granted"}
        assert pool_calls.count == (0 if inline else 2)
    finally:
        c.db.dispose()
