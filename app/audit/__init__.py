"""The audit log: who changed what in the service's configuration, and when."""
