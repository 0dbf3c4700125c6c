"""Cost of one script task (``make bench`` calls :func:`main`): the building permit's fee
scripts on its first worked example, run in this process (``isolation="inline"``) and in
the pool of script processes (production), interleaved in blocks so load on the machine
hits both alike. Prints the median µs per script task of each and their ratio.
"""
from __future__ import annotations

import copy
import json
import statistics
import time
from typing import Any

from app import catalogue
from app.catalogue.services import diagram_facts
from app.clock import SYSTEM_CLOCK
from app.config import ROOT
from app.engine.sandbox import SandboxEnvironment, make_script_engine
from app.sla.calendar import WorkingCalendar
from app.sla.script_helpers import script_helpers
from tests import samples

PROCESS = "building_permit"
BLOCKS = 7
RUNS_PER_BLOCK = 100


def _block(env: SandboxEnvironment, scripts: list[str], data: dict[str, Any]) -> float:
    """Microseconds per script task over one block."""
    started = time.perf_counter()
    for _ in range(RUNS_PER_BLOCK):
        context = copy.deepcopy(data)
        for script in scripts:
            env.execute(script, context)
    return (time.perf_counter() - started) / (RUNS_PER_BLOCK * len(scripts)) * 1e6


def main() -> None:
    helpers = script_helpers(WorkingCalendar(), SYSTEM_CLOCK)
    entry = catalogue.load(ROOT / "processes", ROOT / "forms", script_helpers=helpers).entry(PROCESS)
    facts = diagram_facts(ROOT / "processes")[PROCESS]
    scripts = [facts.scripts[name] for name in entry.fee.script_tasks]
    # The task data a real file carries at its fee step: what the earlier forms recorded.
    recorded = {**samples.REGISTRATION, **samples.CHECK_COMPLETE, **samples.SURVEY}
    data = {"file_number": "PBG-2026-000001", **copy.deepcopy(recorded),
            **copy.deepcopy(entry.fee.worked_examples[0].inputs)}
    inline = make_script_engine(helpers, isolation="inline").environment
    pooled = make_script_engine(helpers).environment
    for env in (inline, pooled):  # warm up: compile caches, start the script processes
        _block(env, scripts, data)
    results: dict[str, list[float]] = {"inline": [], "pool": []}
    for _ in range(BLOCKS):
        results["inline"].append(_block(inline, scripts, data))
        results["pool"].append(_block(pooled, scripts, data))
    median = {name: statistics.median(values) for name, values in results.items()}
    print(f"\nscript tasks ({PROCESS}: {len(scripts)} fee script(s) on {len(json.dumps(data)):,} bytes of task "
          f"data, {BLOCKS} interleaved blocks of {RUNS_PER_BLOCK} runs, median per script task)")
    print(f"  in this process (inline):      {median['inline']:8.1f} µs")
    print(f"  in a script process (pool):    {median['pool']:8.1f} µs")
    print(f"  pool/inline = {median['pool'] / median['inline']:.2f}  "
          f"(+{median['pool'] - median['inline']:.1f} µs per script task)")


if __name__ == "__main__":
    main()
