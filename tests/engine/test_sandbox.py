from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.clock import FixedClock
from app.engine import sandbox
from app.engine.sandbox import (
    PooledEnvironment,
    SandboxEnvironment,
    SandboxLimits,
    SandboxScriptEngine,
    ScriptRejected,
    check_source,
    make_script_engine,
    policy,
    round_down,
    round_half_up,
)
from app.sla.calendar import WorkingCalendar
from app.sla.script_helpers import script_helpers

FIXTURE = Path(__file__).parent / "fixtures" / "sandbox_script.bpmn"
# Monday 16 March 2026, 08:00 in Jakarta
MONDAY_MORNING = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
CALENDAR = WorkingCalendar()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_MORNING)


@pytest.fixture(params=["inline", "process"])
def env(request: pytest.FixtureRequest, clock: FixedClock) -> SandboxEnvironment:
    """Every rule holds in this process and in the script processes production uses."""
    env = make_script_engine(script_helpers(CALENDAR, clock), isolation=request.param).environment
    env.execute("ready = 1", {})  # production starts its script processes ahead of scripts
    return env


@pytest.fixture
def inline_env(clock: FixedClock) -> SandboxEnvironment:
    return SandboxEnvironment(helpers=script_helpers(CALENDAR, clock))


def helper_names(env: SandboxEnvironment) -> set[str]:
    return set(env.helpers) | set(sandbox.GUARDS) | {"__builtins__"}


# ---------------------------------------------------------------------------
# Escape attempts: each must fail AND leave no trace (no marker file, no leak).

ESCAPES: dict[str, str] = {
    "import": 'import os\nos.system("touch {marker}")',
    "from_import": 'from os import system\nsystem("touch {marker}")',
    "dunder_import": '__import__("os").system("touch {marker}")',
    "open_read": 'leak = open("/etc/passwd").read()',
    "open_write": 'open("{marker}", "w").write("x")',
    "subclasses": (
        "for c in ().__class__.__bases__[0].__subclasses__():\n"
        "    if c.__name__ == '_wrap_close':\n"
        "        c.__init__.__globals__['system']('touch {marker}')\n"
    ),
    "lambda_globals": '(lambda: 0).__globals__["__builtins__"]["open"]("{marker}", "w")',
    "helper_globals": 'today.__globals__["os"].system("touch {marker}")',
    "str_format": 'leak = "{{0.__class__}}".format(1)',
    "str_format_map": 'leak = "{{x.__class__.__mro__}}".format_map({{"x": 1}})',
    "str_type_format": 'leak = str.format("{{0.__class__}}", 1)',
    "fstring_dunder": 'leak = f"{{(1).__class__}}"',
    "getattr": 'leak = getattr(1, "__class__")',
    "vars": "leak = vars()",
    "globals": "leak = globals()",
    "locals": "leak = locals()",
    "dir": "leak = dir()",
    "exec": "exec(\"open('{marker}', 'w')\")",
    "eval": 'leak = eval("1")',
    "compile": 'leak = compile("1", "", "eval")',
    "type": "leak = type(1)",
    "object": "leak = object()",
    "generator_frame": "g = (x for x in [1])\nleak = g.gi_frame.f_globals",
    "generator_frame_only": "g = (x for x in [1])\nleak = g.gi_frame",
    "helper_attribute_write": "round_down.x = 1",
    "helper_attribute_read": "leak = round_down.x",
    "method_attribute": 'f = "a".upper\nleak = f.x',
    "timezone_object": "leak = now().tzinfo.utcoffset",
    "private_variable": "leak = _getattr_",
    "builtins_name": "leak = __builtins__",
    "class_def": "class A:\n    pass\nleak = A",
    "try_swallow": "try:\n    while True:\n        pass\nexcept:\n    pass\nleak = 1",
    "with_statement": "with x:\n    pass",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_attempt_fails_without_side_effect(env: SandboxEnvironment, tmp_path: Path, name: str) -> None:
    marker = tmp_path / "pwned"
    script = ESCAPES[name].format(marker=marker)
    ctx: dict[str, Any] = {"x": 1}
    started = time.monotonic()
    with pytest.raises(ScriptRejected) as caught:
        env.execute(script, ctx)
    assert time.monotonic() - started < 2
    assert not marker.exists()
    assert "leak" not in ctx
    assert not helper_names(env) & set(ctx)
    message = str(caught.value)
    assert message.startswith("Script rejected")
    assert caught.value.lineno is not None


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("import os", "import statements are not allowed"),
        ('__import__("os")', '"__import__" is an invalid variable name'),
        ('open("/etc/passwd")', "open() is not available"),
        ('"{0.__class__}".format(1)', "str.format is not allowed"),
        ("getattr(1, 'real')", "getattr() is not available"),
        ("type(1)", "type() is not available"),
        ("round_down.x = 1", "a function cannot be changed"),
        ("y = round_down.x", '".x" on a function is not allowed'),
        ("x = 1\ny = 2\nz = (1).__class__", "(line 3)"),
    ],
)
def test_rejection_messages_say_what_was_refused(env: SandboxEnvironment, script: str, words: str) -> None:
    with pytest.raises(ScriptRejected) as caught:
        env.execute(script, {})
    assert words in str(caught.value)


def test_endless_loop_stops_quickly_with_line_number(env: SandboxEnvironment) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptRejected) as caught:
        env.execute("x = 1\nwhile True: pass", {})
    assert time.monotonic() - started < 2
    assert "more than 100,000 lines" in str(caught.value)
    assert caught.value.lineno == 2


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    pass",
        "while 1:\n    continue",
        "def f():\n    while True:\n        yield 1\nx = sum(f())",
        "x = 0\nwhile True:\n    x = x + 1",
        "x = [y for a in range(100000) for y in range(100000)]",
        "f = lambda n: n\nx = sorted(range(100000), key=f)\nwhile True: x = sorted(x, key=f)",
    ],
)
def test_step_budget(env: SandboxEnvironment, script: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptRejected):
        env.execute(script, {})
    assert time.monotonic() - started < 3


def test_expression_budget(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptRejected):
        env.evaluate("[y for a in range(100000) for y in range(100000)]", {})


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("x = list(range(10**12))", "range() of 1,000,000,000,000 items"),
        ("x = 'a' * 10**9", "'*' would build"),
        ("x = [0] * 10**9", "'*' would build"),
        ("x = 10 ** 10 ** 6", "'**' would build an integer"),
        ("x = 7\ny = x ** x ** x", "'**' would build an integer"),
        ("x = 1 << 10**7", "'<<' would build an integer"),
        ("x = 10**200\nwhile True: x = x * x", "'*' would build an integer"),
        ("s = 'ab' * 1000\nwhile True: s = s + s", "'+' would build"),
        ("s = 'ab' * 1000\nwhile True: s += s", "'+' would build"),
        ("s = 'ab' * 1000\nwhile True: s = f'{s}{s}'", "f-string"),
        ("s = 'ab' * 1000\nwhile True: s = s.replace('a', s)", "str.replace"),
        ("x = 'a'.ljust(10**9)", "str.ljust"),
        ("x = '-'.join(['a' * 1000] * 10000)", "'*' would build 10,000,000"),  # the list really holds 10M characters
        ("xs = ['a' * 1000] * 900\nx = '-'.join(xs + xs)", "str.join"),
        ("x = f'{1:>999999}'", "widths and precisions above"),
        ("w = 10**9\nx = f'{1:>{w}}'", "must be literal"),
        ("x = '%999999d' % 1", "%-format widths"),
        ("x = '%*d' % (10**9, 1)", "'*' widths"),
        ("xs = [1]\nwhile True: xs.extend(xs)", "list.extend"),
        ("xs = [[0] * 1000] * 500\ns = str(xs)", "str() would build"),
        ("xs = [[0] * 1000] * 500\ns = f'{xs}'", "f-string would build"),
        ("x = (1).to_bytes(10**9, 'big')", "int.to_bytes is not allowed"),
        ("x = round(5, -10**9)", "ndigits"),
        ("x = sum([[1] * 10] * 10, [])", "sum() adds numbers only"),
        ("xs = list(range(100000))\nys = [xs[:] for i in range(100)]", "in total"),
    ],
)
def test_allocation_limits(env: SandboxEnvironment, script: str, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptRejected) as caught:
        env.execute(script, {})
    assert words in str(caught.value)
    assert time.monotonic() - started < 3


def test_time_budget(clock: FixedClock) -> None:
    limits = SandboxLimits(max_lines=10**9, max_seconds=0.2, max_alloc=10**12)
    env = SandboxEnvironment(helpers=script_helpers(CALENDAR, clock), limits=limits)
    started = time.monotonic()
    with pytest.raises(ScriptRejected, match=r"longer than 0\.2 s"):
        env.execute("x = 0\nwhile True: x = x + 1", {})
    assert time.monotonic() - started < 2


def test_memory_backstop(clock: FixedClock) -> None:
    limits = SandboxLimits(max_memory_mb=16, max_size=10**8, max_alloc=10**12, max_range=10**8)
    env = SandboxEnvironment(helpers=script_helpers(CALENDAR, clock), limits=limits)
    with pytest.raises(ScriptRejected, match=r"more than 16 MB of memory"):
        env.execute("keep = []\nfor i in range(400):\n    keep.append([i] * 100000)", {})


def test_recursion_is_refused(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptRejected, match="recursed too deeply"):
        env.execute("def f(n):\n    return f(n + 1)\nf(0)", {})


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("x = range(5)", "'x' holds a range"),
        ("g = (i for i in [1])", "'g' holds a generator"),
        ("x = today() - today()", "'x' holds a timedelta"),
        ("x = [1]\nx.append(x)", "refers to itself"),
        ("x = {(1, 2): 3}", "keys must be text or numbers"),
        ("x = [lambda: 1]", "holds a function"),
        ("x = b'abc'", "holds a bytes"),
    ],
)
def test_values_that_cannot_be_stored_are_refused(env: SandboxEnvironment, script: str, words: str) -> None:
    with pytest.raises(ScriptRejected) as caught:
        env.execute(script, {})
    assert words in str(caught.value)


def test_print_is_harmless(env: SandboxEnvironment, capsys: pytest.CaptureFixture[str]) -> None:
    ctx: dict[str, Any] = {}
    env.execute("print('hello')\nx = 1", ctx)
    assert ctx == {"x": 1}
    assert capsys.readouterr().out == ""


def test_task_data_cannot_replace_guards(env: SandboxEnvironment) -> None:
    ctx: dict[str, Any] = {"_getattr_": "mine", "_write_": [1], "word": "abc"}
    env.execute("up = word.upper()", ctx)
    assert ctx == {"_getattr_": "mine", "_write_": [1], "word": "abc", "up": "ABC"}
    with pytest.raises(ScriptRejected):
        env.execute("x = (1).__class__", ctx)


# ---------------------------------------------------------------------------
# Tracing: the previous trace function is chained and restored.


class ReinstallingTracer:
    """Behaves like coverage's C tracer: puts itself back on every call event."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call":
            self.calls.append(frame.f_code.co_name)
            sys.settrace(self)
        return None


def test_previous_tracer_is_chained_and_restored(inline_env: SandboxEnvironment) -> None:
    original = sys.gettrace()
    tracer = ReinstallingTracer()
    sys.settrace(tracer)
    try:
        ctx: dict[str, Any] = {}
        inline_env.execute("a = round_down(17, 5)\nb = round_half_up(2.5)", ctx)
        assert sys.gettrace() is tracer
        with pytest.raises(ScriptRejected, match="lines"):
            inline_env.execute("a = round_down(17, 5)\nwhile True:\n    a = round_down(17, 5)", {})
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(original)
    assert ctx == {"a": 15, "b": 3}
    assert "round_down" in tracer.calls and "round_half_up" in tracer.calls


def test_trace_restored_after_failure(env: SandboxEnvironment) -> None:
    before = sys.gettrace()
    with pytest.raises(ScriptRejected):
        env.execute("while True: pass", {})
    with pytest.raises(ZeroDivisionError):
        env.execute("x = 1 / 0", {})
    assert sys.gettrace() is before


# ---------------------------------------------------------------------------
# What scripts may do.


def test_arithmetic_lookups_and_strings(env: SandboxEnvironment) -> None:
    ctx: dict[str, Any] = {
        "fee": {"area": 120, "rate": 5000, "index": [1.5, 2]},
        "applicant": {"name": "budi santoso"},
        "nomor": 7,
    }
    env.execute(
        "\n".join(
            [
                "total = fee['area'] * fee.get('rate', 0) * fee['index'][0] + fee.get('missing', 7)",
                "label = 'IMB-' + str(nomor) + '/' + applicant['name'].upper()",
                "title = applicant['name'].title()",
                "note = f\"{applicant['name']:>15}|{total:,.0f}\"",
                "items = [{'qty': 2, 'tariff': 1500}, {'qty': 3, 'tariff': 2500}]",
                "subtotal = round_down(sum(i['qty'] * i['tariff'] for i in items), 1000)",
                "parts = sorted([3, 1, 2])",
                "pairs = dict(zip(['a', 'b'], [1, 2]))",
                "counted = {k: v * 2 for k, v in pairs.items()}",
                "n = 0",
                "for i in range(10):",
                "    n += i",
                "a, (b, c) = 1, (2, 3)",
                "big = max(fee['area'], 100) > 100 and any(x > 1 for x in parts)",
                "pct = '%d%%' % 50",
                "fee['checked'] = True",
            ]
        ),
        ctx,
    )
    assert ctx["total"] == 120 * 5000 * 1.5 + 7
    assert ctx["label"] == "IMB-7/BUDI SANTOSO"
    assert ctx["title"] == "Budi Santoso"
    assert ctx["note"] == "   budi santoso|900,007"
    assert ctx["subtotal"] == 10000
    assert ctx["parts"] == [1, 2, 3]
    assert ctx["counted"] == {"a": 2, "b": 4}
    assert ctx["n"] == 45
    assert (ctx["a"], ctx["b"], ctx["c"]) == (1, 2, 3)
    assert ctx["big"] is True
    assert ctx["pct"] == "50%"
    assert ctx["fee"]["checked"] is True


def test_helpers_and_functions_do_not_remain_in_task_data(env: SandboxEnvironment) -> None:
    ctx: dict[str, Any] = {"amount": 10}
    env.execute(
        "f = round_down\ng = lambda x: x\ndef h():\n    return 1\ndoubled = amount * 2\nr = h()\nx, y = 1, 2", ctx
    )
    assert ctx == {"amount": 10, "doubled": 20, "r": 1, "x": 1, "y": 2}
    assert not helper_names(env) & set(ctx)


def test_cleanup_also_after_a_failing_script(env: SandboxEnvironment) -> None:
    ctx: dict[str, Any] = {}
    with pytest.raises(KeyError):
        env.execute("before = 1\nafter = {}['missing']", ctx)
    # In this process a failed script's assignments stay (SpiffWorkflow's semantics); from a
    # script process nothing comes back unless the whole script succeeded.
    assert ctx == ({} if isinstance(env, PooledEnvironment) else {"before": 1})


def test_task_data_hides_helpers_of_the_same_name(env: SandboxEnvironment) -> None:
    ctx: dict[str, Any] = {"max": 5, "type": "IMB"}
    env.execute("y = max + 1\nis_imb = type == 'IMB'", ctx)
    assert ctx == {"max": 5, "type": "IMB", "y": 6, "is_imb": True}


def test_date_helpers_with_fixed_clock(env: SandboxEnvironment, clock: FixedClock) -> None:
    ctx: dict[str, Any] = {"received": "2026-03-16"}
    env.execute(
        "\n".join(
            [
                "d = today()",
                "year = today().year",
                "stamp = now().isoformat()",
                "due = add_working_days(received, 10)",
                "due_plain = add_working_days(parse_date(received), 0)",
                "calendar_due = add_days(received, 30)",
                "spent = working_days_between(received, '2026-04-07')",
                "late = working_days_between('2026-04-07', received)",
                "timer = iso_days(3)",
                "weekday = parse_date('2026-03-20').weekday()",
                "from_dt = parse_date('2026-03-15T18:00:00+00:00')",
                "holiday_is_closed = add_working_days('2026-03-18', 0)",
            ]
        ),
        ctx,
    )
    assert ctx["d"] == "2026-03-16"  # dates are stored as ISO strings
    assert ctx["year"] == 2026
    assert ctx["stamp"] == "2026-03-16T01:00:00+00:00"
    assert ctx["due"] == "2026-04-07"  # across Nyepi, Idul Fitri cuti bersama and Good Friday
    assert ctx["due_plain"] == "2026-03-16"
    assert ctx["calendar_due"] == "2026-04-15"
    assert ctx["spent"] == 10
    assert ctx["late"] == -10
    assert ctx["timer"] == "P3D"
    assert ctx["weekday"] == 4
    assert ctx["from_dt"] == "2026-03-16"  # 18:00 UTC is 01:00 next day in Jakarta
    assert ctx["holiday_is_closed"] == "2026-03-25"

    clock.set(datetime(2026, 3, 15, 17, 30, tzinfo=UTC))  # 00:30 WIB on Monday
    assert env.evaluate("today()", {}) == date(2026, 3, 16)


def test_working_day_helpers_follow_the_calendar_setting(clock: FixedClock) -> None:
    without = SandboxEnvironment(helpers=script_helpers(WorkingCalendar(include_cuti_bersama=False), clock))
    assert without.evaluate("add_working_days('2026-03-16', 10)", {}) == "2026-03-31"
    extra = SandboxEnvironment(helpers=script_helpers(WorkingCalendar(extra_holidays={date(2026, 3, 17)}), clock))
    assert extra.evaluate("add_working_days('2026-03-16', 1)", {}) == "2026-03-25"


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("iso_days(-1)", ValueError),
        ("iso_days(1.5)", TypeError),
        ("add_working_days('2026-03-16', -1)", ValueError),
        ("add_working_days('2026-03-16', 10**9)", ValueError),
        ("working_days_between('1900-01-01', '2100-01-01')", ValueError),
        ("parse_date('31/01/2026')", ValueError),
        ("round_down(10, 0)", ValueError),
    ],
)
def test_helper_argument_errors(env: SandboxEnvironment, expression: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        env.evaluate(expression, {})


def test_conditions_return_bools(env: SandboxEnvironment) -> None:
    data = {"total": 150, "kind": "IMB", "fee": {"paid": False}}
    assert env.evaluate("total > 100 and kind == 'IMB'", data) is True
    assert env.evaluate("fee.get('paid')", data) is False
    assert env.evaluate("fee.get('missing') is None", data) is True
    assert env.evaluate("limit > total", data, {"limit": 200}) is True  # data objects
    assert env.evaluate(" total > 1 ", data) is True
    assert data == {"total": 150, "kind": "IMB", "fee": {"paid": False}}  # evaluate does not write


def test_expression_results_must_be_data(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptRejected, match="generator"):
        env.evaluate("(x for x in [1])", {})
    with pytest.raises(ScriptRejected, match="function"):
        env.evaluate("lambda: 1", {})
    assert env.evaluate("parse_date('2026-01-31')", {}) == date(2026, 1, 31)


def test_external_context_is_removed_after_execute(env: SandboxEnvironment) -> None:
    ctx: dict[str, Any] = {"a": 1}
    env.execute("b = a + limit", ctx, {"limit": 5})
    assert ctx == {"a": 1, "b": 6}
    with pytest.raises(ValueError, match="overwrites"):
        env.execute("b = 1", {"limit": 1}, {"limit": 5})


def test_compile_results_are_cached(inline_env: SandboxEnvironment) -> None:
    script = "cached_value = 41 + 1"
    inline_env.execute(script, {})
    hits = policy._compile.cache_info().hits
    for _ in range(5):
        ctx: dict[str, Any] = {}
        inline_env.execute(script, ctx)
        assert ctx == {"cached_value": 42}
    assert policy._compile.cache_info().hits >= hits + 5


def test_check_source() -> None:
    assert check_source("total = fee['area'] * 2\nif total > 5:\n    big = True", "exec") == []
    assert check_source("total > 100", "eval") == []
    assert check_source("x = 1", "eval")  # a statement is not an expression
    assert any("import" in e for e in check_source("import os", "exec"))
    assert any("__class__" in e for e in check_source("x = ().__class__", "exec"))
    assert any("try" in e for e in check_source("try:\n    pass\nexcept:\n    pass", "exec"))
    assert any("never closed" in e for e in check_source("x = (", "exec"))
    assert check_source("x" * 60_000, "exec")
    assert check_source("-" * 100_000 + "1", "eval")  # deep nesting is an error, not a crash
    # What SpiffWorkflow hands over is untyped: anything but text is refused, never compiled.
    assert check_source(None, "exec") == ["a script must be text, not NoneType"]  # type: ignore[arg-type]
    assert check_source(b"x = 1", "exec") == ["a script must be text, not bytes"]  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Number helpers.


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((12345.67, 100), 12300),
        ((12345, 1000), 12000),
        ((0.3, 0.1), 0.3),
        ((2.675, 0.01), 2.67),
        ((-1.5,), -2),
        ((7,), 7),
        ((7.9,), 7),
    ],
)
def test_round_down(args: tuple[Any, ...], expected: Any) -> None:
    result = round_down(*args)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [((2.5,), 3), ((3.5,), 4), ((-2.5,), -3), ((1.005, 2), 1.01), ((1234.5, -2), 1200), ((2.675, 2), 2.68)],
)
def test_round_half_up(args: tuple[Any, ...], expected: Any) -> None:
    result = round_half_up(*args)
    assert result == expected
    assert type(result) is type(expected)


@settings(max_examples=200, deadline=None)
@given(x=st.integers(-(10**12), 10**12), step=st.integers(1, 10**6))
def test_round_down_is_the_floor_multiple(x: int, step: int) -> None:
    result = round_down(x, step)
    assert result % step == 0
    assert result <= x < result + step


# ---------------------------------------------------------------------------
# Through a real SpiffWorkflow workflow.


def workflow_with_script(script: str, clock: FixedClock, **data: Any) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(FIXTURE))
    spec = parser.get_spec("sandbox_process")
    spec.task_specs["compute"].script = script
    workflow = BpmnWorkflow(spec, script_engine=make_script_engine(script_helpers(CALENDAR, clock)))
    workflow.get_tasks(spec_name="start")[0].data.update(data)
    return workflow


def test_workflow_runs_a_script_and_a_condition(clock: FixedClock) -> None:
    script = "total = fee['area'] * fee['rate']\ndue = add_working_days(today(), 10)\nreceived = today()"
    workflow = workflow_with_script(script, clock, fee={"area": 120, "rate": 5})
    assert isinstance(workflow.script_engine, SandboxScriptEngine)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data == {"fee": {"area": 120, "rate": 5}, "total": 600, "due": "2026-04-07", "received": "2026-03-16"}
    assert workflow.get_tasks(spec_name="end_large")[0].has_state(64)  # COMPLETED

    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    state = serializer.serialize_json(workflow)
    json.loads(state)
    restored = serializer.deserialize_json(state)
    assert not isinstance(restored.script_engine, SandboxScriptEngine)  # must be assigned again
    restored.script_engine = make_script_engine(script_helpers(CALENDAR, clock))
    assert restored.data["due"] == "2026-04-07"


def test_workflow_rejection_message_survives(clock: FixedClock, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    workflow = workflow_with_script(f"total = 1\nimport os\nos.system('touch {marker}')", clock)
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert "import statements are not allowed" in str(caught.value)
    assert caught.value.line_number == 2
    assert caught.value.error_line == "import os"
    assert not marker.exists()

    workflow = workflow_with_script("total = 1\nleak = open('/etc/passwd').read()", clock)
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert "open() is not available in diagram scripts" in str(caught.value)
    assert caught.value.line_number == 2

    workflow = workflow_with_script("total = 1\nwhile True:\n    pass", clock)
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert "more than 100,000 lines" in str(caught.value)
    assert caught.value.line_number == 2


def test_workflow_condition_errors_keep_the_reason(clock: FixedClock) -> None:
    workflow = workflow_with_script("total = 'many'", clock)
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    message = str(caught.value)
    assert "total > 100" in message and "TypeError" in message and "not supported" in message


def test_ordinary_script_errors_have_line_numbers(clock: FixedClock) -> None:
    workflow = workflow_with_script("total = 1\nx = fee['missing']", clock, fee={})
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert caught.value.line_number == 2
    assert "KeyError" in str(caught.value)


def test_engine_does_not_import_sla() -> None:
    """The date helpers are injected (app/sla/script_helpers.py), not imported by the engine."""
    import ast as _ast

    engine_dir = Path(__file__).resolve().parents[2] / "app" / "engine"
    offenders = []
    for path in sorted(engine_dir.rglob("*.py")):
        for node in _ast.walk(_ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, _ast.Import)
                     else [node.module or ""] if isinstance(node, _ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n == "app.sla" or n.startswith("app.sla.")]
    assert offenders == []


def test_every_sandbox_module_is_under_500_lines() -> None:
    sandbox_dir = Path(__file__).resolve().parents[2] / "app" / "engine" / "sandbox"
    sizes = {p.name: len(p.read_text().splitlines()) for p in sandbox_dir.glob("*.py")}
    assert {"policy.py", "budgets.py", "guards.py", "data.py", "environment.py", "pool.py"} <= set(sizes)
    assert max(sizes.values()) < 500, sizes
