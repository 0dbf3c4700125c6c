"""The parts every unit of work reaches (settings, clock, database), as a type rooms can name.

``app/container.py`` builds the parts and imports the rooms; a room's sweep or task that takes
"the container" annotates it with :class:`CoreParts` (or a Protocol of its own that adds the
part it needs), so no room imports the container back.
"""
from __future__ import annotations

from typing import Protocol

from app.clock import Clock
from app.config import Settings
from app.db import Database


class CoreParts(Protocol):
    settings: Settings
    clock: Clock
    db: Database
