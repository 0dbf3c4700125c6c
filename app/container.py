"""The service's parts, wired once from settings: database, clock, engine, forms.

Flask views, CLI commands and Celery tasks all reach the same parts through
one :class:`Container`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from app.clock import SYSTEM_CLOCK, Clock
from app.config import Settings
from app.db import Database
from app.engine.runtime import Runtime
from app.engine.sandbox import make_script_engine
from app.publisher import CeleryPublisher, Publisher
from app.sla.calendar import WorkingCalendar
from app.worklist.forms import FormRegistry


@dataclass
class Container:
    settings: Settings
    clock: Clock = SYSTEM_CLOCK
    publisher: Publisher | None = None
    db: Database = field(init=False)
    calendar: WorkingCalendar = field(init=False)
    runtime: Runtime = field(init=False)
    forms: FormRegistry = field(init=False)

    def __post_init__(self) -> None:
        if self.publisher is None:
            self.publisher = CeleryPublisher(self.settings.broker_url)
        self.db = Database(self.settings.database_url, publisher=self.publisher)
        self.calendar = WorkingCalendar(include_cuti_bersama=self.settings.include_cuti_bersama,
                                        timezone=self.settings.timezone)
        self.runtime = Runtime(self.clock, make_script_engine(calendar=self.calendar, clock=self.clock))
        self.forms = FormRegistry(self.settings.forms_dir)


def container() -> Container:
    """The container of the current Flask app."""
    c: Container = current_app.extensions["ptsp"]
    return c
