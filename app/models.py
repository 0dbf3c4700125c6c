"""Every table of the service, imported in one place for Alembic and tests."""
from app.auth.models import ApiToken, LaneMembership, LoginAttempt, User
from app.engine.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance
from app.files.models import ApplicationFile, Attachment
from app.ops.models import WorkerHeartbeat

__all__ = [
    "ApiToken",
    "ApplicationFile",
    "Attachment",
    "HumanTask",
    "InstanceEvent",
    "LaneMembership",
    "LoginAttempt",
    "ProcessDefinition",
    "ProcessInstance",
    "User",
    "WorkerHeartbeat",
]
