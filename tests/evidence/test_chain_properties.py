"""Property: over any sequence of history events on several files, untouched chains verify, and
any one edit, deletion, swap or insertion is found in the chain it was made in, and only there."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.chain import history_content
from app.engine.history import append_event, pending_events
from app.engine.models import InstanceEvent, ProcessInstance
from app.evidence.verify import walk_chain


class _Collect:
    """Stands in for a session: the events appended to it stay pending (never flushed)."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}

    @property
    def rows(self) -> list[InstanceEvent]:
        rows = [row for i in (1, 2, 3) for row in pending_events(self, i)]  # type: ignore[arg-type]
        for n, row in enumerate(rows, start=1):
            row.id = row.id or n
        return rows


event = st.tuples(st.integers(0, 2), st.sampled_from(["started", "task_completed", "timer_fired", "reassigned"]),
                  st.text(max_size=8), st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5),
                                                       max_size=3))
tamper = st.sampled_from(["none", "edit", "delete", "swap", "insert"])


def build(steps: list[tuple[int, str, str, dict[str, Any]]]) -> tuple[list[ProcessInstance], _Collect]:
    instances = [ProcessInstance(id=i + 1, history_seq=0, history_head="0" * 64) for i in range(3)]
    sink = _Collect()
    at = datetime(2026, 1, 5, tzinfo=UTC)
    for n, (which, kind, actor, detail) in enumerate(steps):
        append_event(sink, instances[which], kind, actor or "x", at + timedelta(seconds=n), None, detail)  # type: ignore[arg-type]
    return instances, sink


def breaks(instances: list[ProcessInstance], rows: list[InstanceEvent]) -> dict[int, str]:
    found = {}
    for inst in instances:
        chain = sorted((r for r in rows if r.instance_id == inst.id), key=lambda r: (r.seq, r.id))
        _, broken = walk_chain("", "instance_event", chain, history_content, (inst.history_seq, inst.history_head))
        if broken:
            found[inst.id] = str(broken)
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(event, min_size=1, max_size=25), tamper, st.integers(0, 10_000), st.data())
def test_any_single_change_is_found_in_its_own_chain(steps: list[Any], how: str, pick: int, data: st.DataObject) -> None:
    instances, sink = build(steps)
    rows = sink.rows
    assert breaks(instances, rows) == {}
    if how == "none":
        return
    victim = rows[pick % len(rows)]
    same = sorted((r for r in rows if r.instance_id == victim.instance_id), key=lambda r: r.seq)
    if how == "edit":
        victim.actor = victim.actor + "!"
    elif how == "delete":
        rows.remove(victim)
    elif how == "swap":
        if len(same) < 2:
            return
        other = same[(same.index(victim) + 1) % len(same)]
        victim.seq, other.seq = other.seq, victim.seq
    else:  # a forged row with a plausible position, hashes copied from a neighbour
        forged = InstanceEvent(id=999, instance_id=victim.instance_id, seq=data.draw(st.integers(1, len(same) + 1)),
                               at=victim.at, kind="task_completed", task_name=None, actor="forger", detail={},
                               prev_hash=victim.prev_hash, row_hash=victim.row_hash)
        rows.append(forged)
    assert set(breaks(instances, rows)) == {victim.instance_id}
