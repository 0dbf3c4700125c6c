"""A finished instance's state packed against its own history.

A finished instance keeps only the data its last step left (``spiff.dump_final_data``). Nearly
all of that data was entered by its steps, and each step's entry is already in the history
(``InstanceEvent.detail``, immutable and hash-chained). So the final data is stored
zlib-compressed with a preset dictionary made of the instance's history details up to the
event that finished it: 1.8 KB of a building permit's final data become ~0.3 KB.

Stored form (the state column, ``app.db.CompressedText``, keeps bytes as given): 4 bytes of the
last history seq the dictionary covers, then a zlib stream (its header names the dictionary's
Adler-32: a wrong dictionary is an error, never wrong data). Reading it needs the instance's
history: one query, unless the caller has read it already or this session wrote the state (kept
in ``session.info``).
"""
from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.history import pending_events
from app.engine.models import InstanceEvent, ProcessInstance

_SEQ = struct.Struct(">I")
_UNPACKED = "ptsp_final_states"  # session.info: {instance id: final state text} written or read in this session


def dictionary(details: Iterable[dict[str, Any]]) -> bytes:
    """The preset dictionary: the history's details in seq order, as compact JSON (the form a
    detail reads back the same in, whatever bytes its row holds)."""
    return b"".join(json.dumps(detail, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                    for detail in details)


def pack(state: str, upto: int, details: Iterable[dict[str, Any]]) -> bytes:
    """``state`` packed against ``details`` (the details of history events 1..``upto``)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=dictionary(details))
    return _SEQ.pack(upto) + packer.compress(state.encode("utf-8")) + packer.flush()


def packed_upto(packed: bytes) -> int:
    """The last history seq whose detail is in the dictionary of ``packed``."""
    upto: int = _SEQ.unpack_from(packed)[0]
    return upto


def unpack(packed: bytes, details: Iterable[dict[str, Any]]) -> str:
    unpacker = zlib.decompressobj(15, zdict=dictionary(details))
    return (unpacker.decompress(packed[_SEQ.size:]) + unpacker.flush()).decode("utf-8")


def _details(session: Session | None, instance: ProcessInstance, upto: int,
             known: Iterable[InstanceEvent] = ()) -> list[dict[str, Any]]:
    """The details of events 1..``upto``: those the caller already read (``known``), those still
    pending in this unit of work, and the rest read from the database."""
    pending = {e.seq: e.detail for e in known if e.instance_id == instance.id}
    if session is not None:
        pending.update({e.seq: e.detail for e in pending_events(session, instance.id)})
    stored: dict[int, dict[str, Any]] = {}
    if any(seq not in pending for seq in range(1, upto + 1)):
        if session is None:
            raise RuntimeError(f"instance {instance.id}: a finished instance's data is read with its history")
        with session.no_autoflush:
            stored = dict(session.execute(select(InstanceEvent.seq, InstanceEvent.detail).where(
                InstanceEvent.instance_id == instance.id, InstanceEvent.seq <= upto)).all())
    merged = {**stored, **pending}
    return [merged[seq] for seq in sorted(merged) if seq <= upto]


def store_final(session: Session, instance: ProcessInstance, state: str) -> None:
    """Set a finished instance's state: ``state`` packed against its history so far."""
    upto = instance.history_seq or 0
    instance.state = pack(state, upto, _details(session, instance, upto))
    session.info.setdefault(_UNPACKED, {})[instance.id] = state


def state_text(session: Session | None, instance: ProcessInstance, history: Iterable[InstanceEvent] = ()) -> str:
    """The instance's state as text, unpacking a finished instance's with its history: ``history``
    (events the caller already read), else read in ``session``."""
    state = instance.state
    if isinstance(state, str):
        return state
    unpacked: dict[int, str] = session.info.setdefault(_UNPACKED, {}) if session is not None else {}
    if instance.id not in unpacked:
        upto = packed_upto(state)
        unpacked[instance.id] = unpack(state, _details(session, instance, upto, history))
    return unpacked[instance.id]
