"""The benchmarks `make bench` runs (benchmarks/run.py), and what they share."""
from __future__ import annotations

import os
import secrets

# The processes a bench starts (gunicorn, Celery workers) run outside the embedded demo, where the settings
# refuse the built-in key: one throwaway key per bench run, unless one is given.
SECRET_KEY = os.environ.get("PTSP_SECRET_KEY") or secrets.token_urlsafe(32)
