"""Start-up cost: what a CLI command or a worker imports before it does anything.

Checked through ``sys.modules`` of a fresh interpreter, not a timing: the heavy modules below
cost seconds at import (rfc3987_syntax compiles a grammar for 1.6 s) and only some paths need them.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.config import ROOT

# Never loaded by a start: IRI format checking (and its parser library); loaded only when a permit is printed.
NEVER = ["rfc3987_syntax", "lark"]
ONLY_WHEN_PRINTING = ["reportlab", "qrcode"]
# The web's pages, forms and sign-in: a worker runs jobs, never a request.
ONLY_ON_THE_WEB = ["flask_wtf", "flask_login", "wtforms", "app.api.views", "app.worklist.views",
                   "app.designer.views", "app.cli"]

_PROBE = """
import json, sys
{start}
from app.forms.registry import FormRegistry
errors = FormRegistry(__import__("pathlib").Path(sys.argv[1])).validate(
    "probe.json", {{"when": "2026-02-30", "mail": "not-an-address", "fine": "2026-02-27"}})
print(json.dumps({{"loaded": sorted(m for m in {heavy} if sys.modules.get(m) is not None),
                  "errors": sorted(e.field for e in errors)}}))
"""


def _probe(start: str, tmp_path: Path, heavy: list[str] = NEVER + ONLY_WHEN_PRINTING) -> dict[str, list[str]]:
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "probe.json").write_text(json.dumps({"type": "object", "properties": {
        "when": {"type": "string", "format": "date"},
        "mail": {"type": "string", "format": "email"},
        "fine": {"type": "string", "format": "date"}}}))
    env = {"PATH": "/usr/bin:/bin", "PTSP_VAR_DIR": str(tmp_path),
           "PTSP_DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite'}"}
    code = _PROBE.format(start=start, heavy=heavy)
    done = subprocess.run([sys.executable, "-c", code, str(forms)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_cli_starts_without_the_heavy_modules_and_forms_still_check_dates_and_emails(tmp_path: Path) -> None:
    # `ptsp ...` imports app.cli and builds the command app (no pages) to find its commands.
    seen = _probe("import app.cli\nfrom app import create_command_app\ncreate_command_app()", tmp_path,
                  NEVER + ONLY_WHEN_PRINTING + [m for m in ONLY_ON_THE_WEB if m != "app.cli"])
    assert seen["loaded"] == []
    assert seen["errors"] == ["mail", "when"]  # 30 February and an address without @ are refused


def test_a_worker_starts_without_the_heavy_modules_or_the_web(tmp_path: Path) -> None:
    seen = _probe("import workers.celery_app, workers.tasks", tmp_path, NEVER + ONLY_WHEN_PRINTING + ONLY_ON_THE_WEB)
    assert seen["loaded"] == []
    assert seen["errors"] == ["mail", "when"]


def test_the_web_app_still_has_its_pages_and_commands(tmp_path: Path) -> None:
    # The probe itself: what the worker leaves out, the web app loads.
    seen = _probe("from app import create_app\ncreate_app()", tmp_path, ONLY_ON_THE_WEB)
    assert seen["loaded"] == sorted(ONLY_ON_THE_WEB)
