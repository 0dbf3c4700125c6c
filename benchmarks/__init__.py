
import os as _os
import secrets as _secrets

# The processes a bench starts (gunicorn, Celery workers) run outside the embedded demo, where the settings
# refuse the built-in key: one throwaway key per bench run, unless one is given.
SECRET_KEY = _os.environ.get("PTSP_SECRET_KEY") or _secrets.token_urlsafe(32)
