"""The baseline of every service/raw figure: the building permit on bare SpiffWorkflow, the parsed spec
and a script engine with the diagram's two helpers and no sandbox, built once per process."""
from __future__ import annotations

import functools
import time
from typing import Any

from app.config import ROOT
from tests import samples

STEPS = samples.BUILDING_PERMIT_WALK


@functools.cache
def raw_spec() -> tuple[Any, dict[str, Any]]:
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "processes" / "building_permit.bpmn"))
    return parser.get_spec("building_permit"), parser.get_subprocess_specs("building_permit")


@functools.cache
def raw_engine() -> Any:
    """SpiffWorkflow's own script engine: scripts run unguarded, in this process."""
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

    return PythonScriptEngine(environment=TaskDataEnvironment({
        "iso_days": lambda n: f"P{n}D", "round_down": lambda x: int(x // 1)}))


def raw_run(instances: int) -> float:
    """Instances per second on bare SpiffWorkflow, storing the state after every step the way the
    service does (the task tree and data only; the parsed spec cached), so that service/raw
    measures the service's own overhead (database, forms, SLA clock, history)."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from app.engine.spiff import dump_state, load_state

    spec, subprocesses = raw_spec()
    engine = raw_engine()

    def round_trip(wf: BpmnWorkflow) -> BpmnWorkflow:
        return load_state(dump_state(wf), spec, subprocesses, engine)

    started = time.perf_counter()
    for n in range(instances):
        wf = BpmnWorkflow(spec, subprocesses, script_engine=engine)
        wf.get_tasks(state=TaskState.READY)[0].set_data(file_number=f"PBG-2026-{n:06d}", file_serial=f"2026/{n + 1:06d}",
                                                        resubmission_days=14)
        wf.do_engine_steps()
        wf = round_trip(wf)
        for lane, payload in STEPS:
            [task] = wf.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.lane == lane
            task.set_data(**payload)
            task.run()
            wf.do_engine_steps()
            wf = round_trip(wf)
        assert wf.is_completed()
    return instances / (time.perf_counter() - started)
