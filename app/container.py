"""The service's parts, wired once from settings: database, clock, engine, forms.

Flask views, CLI commands and Celery tasks all reach the same parts through
one :class:`Container`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from app import catalogue
from app.clock import SYSTEM_CLOCK, Clock
from app.config import Settings
from app.db import Database, WaitLimits
from app.engine.runtime import Runtime
from app.engine.sandbox import SandboxLimits, make_script_engine
from app.engine.workflow_cache import WorkflowCache
from app.files.intake import CompleteStep
from app.forms.builder import DatabaseForms
from app.forms.registry import FormRegistry
from app.notify.applicant import ApplicantNotifier
from app.permits.services import PermitIssuer
from app.publisher import CeleryPublisher, Publisher
from app.ratelimit import RateLimits
from app.sla import policy
from app.sla.calendar import WorkingCalendar
from app.sla.script_helpers import script_helpers
from app.sla.services import OfficeCalendar
from app.sla.tracking import SlaTracker
from app.worklist.completion import complete_task


@dataclass
class Container:
    settings: Settings
    clock: Clock = SYSTEM_CLOCK
    publisher: Publisher | None = None
    # Run the catalogue's worked examples through the diagrams' fee scripts at start (the web and
    # the CLI: where fees are published and diagrams deployed); a worker publishes no fee.
    check_fees: bool = True
    db: Database = field(init=False)
    office_calendar: OfficeCalendar = field(init=False)
    runtime: Runtime = field(init=False)
    forms: FormRegistry = field(init=False)
    catalogue: catalogue.Catalogue = field(init=False)
    complete_step: CompleteStep = field(init=False)
    rate_limits: RateLimits = field(init=False)

    def __post_init__(self) -> None:
        if self.publisher is None:
            self.publisher = CeleryPublisher(self.settings.broker_url)
        s = self.settings
        self.db = Database(s.database_url, publisher=self.publisher, limits=WaitLimits(
            s.db_pool_size, s.db_max_overflow, s.db_pool_timeout_seconds, s.db_statement_timeout_seconds,
            s.db_lock_timeout_seconds, s.db_ping_after_idle_seconds))
        # National holidays plus the administrators' changes, rebuilt when those change.
        self.office_calendar = OfficeCalendar(self.settings, self.db)
        policy.parse_escalation(self.settings.sla_escalation)  # a bad chain fails at start, not at 3 a.m.
        # Diagram scripts get the date helpers over the office calendar, and run in script processes.
        self.runtime = Runtime(self.clock, make_script_engine(
            script_helpers(self.office_calendar.current, self.clock, self.office_calendar.hours),
            SandboxLimits(max_seconds=self.settings.script_seconds),
            processes=self.settings.script_processes, memory_mb=self.settings.script_memory_mb,
            inline=self.settings.inline_scripts),
            workflows=WorkflowCache(self.settings.workflow_cache_size))
        # File clocks and step due times follow every unit of work of the engine.
        self.runtime.listeners.append(SlaTracker(self.settings, self.office_calendar))
        # Forms saved from the designer (database) win over forms/*.json until exported.
        self.forms = FormRegistry(self.settings.forms_dir, overrides=DatabaseForms(self.db))
        # The permit catalogue, validated against the diagrams and forms: a bad entry fails at start.
        # Its worked examples run with the national calendar's date helpers, as diagram scripts do.
        self.catalogue = catalogue.load(self.settings.processes_dir, self.settings.forms_dir,
                                        script_helpers=script_helpers(WorkingCalendar(), SYSTEM_CLOCK),
                                        worked_examples=self.check_fees)
        # A file granted issues its permit documents in the same transaction.
        self.runtime.listeners.append(PermitIssuer(self.settings))
        self.runtime.listeners.append(ApplicantNotifier(self.settings, self.catalogue))
        # How an officer completes a task; the front desk's intake (app/files) completes a file's
        # first step with it, as the worklist depends on files and not the other way round.
        self.complete_step = complete_task
        # Sign-in, tracking and complaint limits, counted in the configured store (app/ratelimit.py).
        self.rate_limits = RateLimits(s.ratelimit_storage_url)

    @property
    def calendar(self) -> WorkingCalendar:
        """The office's working calendar as it is now (see app/sla/services.py)."""
        return self.office_calendar.current()


def container() -> Container:
    """The container of the current Flask app."""
    c: Container = current_app.extensions["ptsp"]
    return c
