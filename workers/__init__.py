"""Celery workers: thin tasks that call app/ services."""
