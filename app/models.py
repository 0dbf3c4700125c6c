"""Every table of the service, imported in one place for Alembic and tests."""
from app.audit.models import AuditEntry, ChainHead
from app.auth.models import ApiToken, LaneMembership, User
from app.complaints.models import Complaint
from app.designer.models import ProcessDraft
from app.desk.models import DayRollup, DurationBucket, FileRollup, MonthlyReport, RollupMark, StepRollup, WorkDay
from app.engine.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance
from app.evidence.models import IntegrityCheck
from app.files.models import ApplicationFile, Attachment, FileSearchTerm
from app.forms.models import FormVersion
from app.notify.models import Delivery, Notice
from app.ops.models import WorkerHeartbeat
from app.permits.models import Permit
from app.privacy.models import PersonalDataAccess
from app.skm.models import SurveyResponse, SurveyTokenUse
from app.sla.models import CalendarDay, CalendarRevision, ManagerResponsibility

__all__ = [
    "ApiToken",
    "ApplicationFile",
    "Attachment",
    "AuditEntry",
    "CalendarDay",
    "CalendarRevision",
    "ChainHead",
    "Complaint",
    "DayRollup",
    "Delivery",
    "DurationBucket",
    "FileRollup",
    "FileSearchTerm",
    "FormVersion",
    "HumanTask",
    "InstanceEvent",
    "IntegrityCheck",
    "LaneMembership",
    "ManagerResponsibility",
    "MonthlyReport",
    "Notice",
    "Permit",
    "PersonalDataAccess",
    "ProcessDefinition",
    "ProcessDraft",
    "ProcessInstance",
    "RollupMark",
    "StepRollup",
    "SurveyResponse",
    "SurveyTokenUse",
    "User",
    "WorkDay",
    "WorkerHeartbeat",
]
