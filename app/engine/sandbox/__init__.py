"""Restricted execution of diagram scripts and expressions.

Scripts, conditions, timer expressions and DMN expressions in a BPMN diagram are
UNTRUSTED input. SpiffWorkflow's default engine runs them with plain ``exec``/``eval``
(they can import ``os`` and read ``/etc/passwd``). This package runs them through
RestrictedPython instead, with a small set of named helpers and guards, a step
budget and size limits. :func:`make_script_engine` builds the engine the app must
assign to every workflow, including after every deserialise (the serialiser does
not keep the script engine).

Public API
----------
* :class:`ScriptRejected` -- a script broke a rule; the message says which, and
  on which line when known.
* :func:`check_source` -- compile-time check for diagram validation before deploy.
* :class:`SandboxEnvironment` -- a SpiffWorkflow script environment with the same
  data semantics as ``TaskDataEnvironment``.
* :class:`SandboxScriptEngine` / :func:`make_script_engine` -- the engine.
* :class:`SandboxLimits` -- the budgets (defaults are meant for production).

Where each part lives: ``policy`` (compile-time rules), ``budgets`` (limits and the
per-run counters), ``guards`` (what the transformed code calls), ``helpers`` (named
builtins), ``data`` (the checks on what is kept, and the JSON wire), ``environment``
(one run in this process), ``pool`` and ``worker`` (script processes with a hard
deadline and resource limits), ``straight_line`` (the scripts bounded enough to skip the
script process), ``engine`` (SpiffWorkflow's script engine).

Names a script can use (nothing else is available)
--------------------------------------------------
Task-data variables are read and assigned by name, as with SpiffWorkflow's default
engine. A task-data variable with the same name as a helper hides the helper.

Numbers:
  ``round_down(x, step=1)``     floor of ``x`` to a multiple of ``step`` (> 0), computed
                                in Decimal (``round_down(0.3, 0.1) == 0.3``); returns an
                                int when ``step`` is an int (``round_down(12345.6, 100)
                                == 12300``), else a float. Negative values go down
                                (``round_down(-1.5) == -2``).
  ``round_half_up(x, ndigits=0)`` Decimal rounding with halves away from zero
                                (``round_half_up(2.5) == 3``, ``round_half_up(1.005, 2)
                                == 1.01``); an int when ``ndigits <= 0``, else a float.
  ``floor(x)``, ``ceil(x)``     ``math.floor``/``math.ceil`` (ints).
  ``round(x, ndigits=None)``    Python's banker's rounding (``|ndigits| <= 100``).
  ``min``, ``max``, ``sum`` (numbers only), ``abs``, ``len``, ``int``, ``float``,
  ``str``, ``bool``, ``sorted``, ``list``, ``dict``, ``enumerate``, ``zip``, ``any``,
  ``all``: the builtins, with size checks.
  ``range(...)``                at most ``SandboxLimits.max_range`` items.
Dates: ``today()``, ``now()``, ``parse_date``, ``add_days``, ``add_working_days``,
``working_days_between``, ``iso_days``, ``working_days_from_now`` -- injected by the
container from app/sla/script_helpers.py (documented there); the engine does not import sla.
Methods of plain values work: ``d.get("k", 0)``, ``s.upper()``, ``xs.append(1)``,
``day.isoformat()``, ``day.year`` ... on str, int, float, bool, list, dict, tuple,
set, date, datetime, time and timedelta values. ``print`` is accepted and does nothing.

Rules (each breach raises :class:`ScriptRejected` or, for plain Python errors such
as a missing variable, the usual exception)
------------------------------------------------------------------------------------
* No imports, no names or attributes starting with ``_``, no ``try``/``with``/
  ``class`` statements (so the budget error cannot be caught), no ``exec``/``eval``.
* ``open``, ``exec``, ``eval``, ``compile``, ``globals``, ``locals``, ``vars``,
  ``dir``, ``getattr``, ``setattr``, ``type``, ``object`` and similar are refused
  by name when called.
* Attribute access only on the plain value types above; never on functions,
  modules, types or other objects. ``str.format``/``format_map``/``translate`` and
  ``int.to_bytes`` are refused; use f-strings. f-string format specs must be
  literal and widths at most 10 000.
* Only dicts and lists can be changed (item assignment, ``del``); attributes of
  nothing can be assigned. ``x[i] += 1`` is refused by RestrictedPython: write
  ``x[i] = x[i] + 1``.
* Budgets per run: ``max_lines`` executed lines (an endless loop stops there),
  ``max_seconds`` wall time, ``max_size`` items/characters for one value built by
  ``*``, ``+``, ``%``, f-strings and string methods, ``max_alloc`` items/characters
  built in total, ``max_int_bits`` for ``*``, ``**`` and ``<<`` on ints, and
  ``max_memory_mb`` growth of the process's resident memory (checked every 128
  lines, a backstop for allocations the guards do not see). ``*`` on a sequence is
  charged what the result really holds: items plus the characters of the strings
  inside (``[a] * 150`` with a 1,000,000-character ``a`` is 150,000,000).
* Hard limits from outside (``isolation="process"``, the default): the script runs in
  a script process with capped memory and CPU time, killed and replaced when it runs
  ``max_seconds`` + 0.5 s; a single C-level call cannot outlive that. A straight-line
  script (no loops, calls, subscripts or attributes: ``straight_line.py``) runs in the
  calling process instead, with the same rules and result (``make_script_engine(inline=)``).

Data semantics
--------------
As ``TaskDataEnvironment``: a script runs with the task data as its globals, so
it reads and assigns variables there; afterwards ``__builtins__``, guards,
external context (e.g. data objects) and every callable are removed from the data.
In addition, after a script: ``date``/``datetime``/``time`` values anywhere in the
task data become ISO 8601 strings, and any value that cannot be stored as JSON
(a range, a generator, a timedelta, bytes, a self-referencing list, ...) makes the
script fail with a message naming the variable. The task data a script leaves may
hold at most ``max_data_chars`` characters of text in all (a string held many times
counts every time, as it would be stored) and ``max_data_nodes`` values: past that the
script fails and nothing is kept. Expressions (``evaluate``) must
return plain data too (dates allowed there, not converted).
"""
from __future__ import annotations

from app.engine.sandbox.budgets import DEFAULT_LIMITS, SandboxLimits
from app.engine.sandbox.engine import SandboxScriptEngine, make_script_engine
from app.engine.sandbox.environment import SandboxEnvironment
from app.engine.sandbox.guards import GUARDS
from app.engine.sandbox.helpers import round_down, round_half_up
from app.engine.sandbox.policy import SCRIPT_FILENAME, ScriptRejected, check_source
from app.engine.sandbox.pool import PooledEnvironment, ScriptPool

__all__ = [
    "DEFAULT_LIMITS",
    "GUARDS",
    "SCRIPT_FILENAME",
    "PooledEnvironment",
    "SandboxEnvironment",
    "SandboxLimits",
    "SandboxScriptEngine",
    "ScriptPool",
    "ScriptRejected",
    "check_source",
    "make_script_engine",
    "round_down",
    "round_half_up",
]
