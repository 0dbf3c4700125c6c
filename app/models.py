"""Every table of the service, imported in one place for Alembic and tests."""
from app.auth.models import LaneMembership, User
from app.engine.models import HumanTask, InstanceEvent, ProcessDefinition, ProcessInstance
from app.files.models import ApplicationFile
from app.ops.models import WorkerHeartbeat

__all__ = [
    "ApplicationFile", "HumanTask", "InstanceEvent", "LaneMembership", "ProcessDefinition",
    "ProcessInstance", "User", "WorkerHeartbeat",
]
