"""The four SLA states: the values of every ``sla_state`` column (a file's, a step's).

Shared by the rooms that store or filter them (files, desk, sla); :mod:`app.sla.policy` decides
which state a clock is in. Kept here, under every room, so a room can name a state without
importing the SLA room that tracks the files.
"""
from __future__ import annotations

ON_TRACK, WARNING, CRITICAL, BREACHED = "on_track", "warning", "critical", "breached"
STATES = (ON_TRACK, WARNING, CRITICAL, BREACHED)
