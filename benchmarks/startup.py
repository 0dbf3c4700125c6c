"""Start-up: the import time of a CLI command and of a Celery worker, each in a fresh interpreter.

``python -X importtime`` sums the top-level imports (wall clock); the CPU time of the same
interpreter is printed beside it because on a loaded machine the wall clock mostly measures
the other processes.
"""
from __future__ import annotations

import statistics
import subprocess
import sys

from app.config import ROOT

# What `ptsp file ...` imports before it runs (the CLI builds its command app to find its commands),
# and what `celery -A workers.celery_app worker` imports before it takes tasks.
PROGRAMS = {
    "ptsp CLI": "import app.cli; from app import create_command_app; create_command_app()",
    "worker": "import workers.celery_app, workers.tasks",
}
_CPU = "; import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); print(_u.ru_utime + _u.ru_stime)"


def import_seconds(code: str) -> tuple[float, float]:
    """(wall seconds of imports per -X importtime, CPU seconds of the whole interpreter)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code + _CPU], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    wall = 0
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[2].startswith(" ") \
                and not parts[2].startswith("  ") and parts[1].strip().isdigit():
            wall += int(parts[1])  # cumulative microseconds of a top-level import
    return wall / 1e6, float(done.stdout.split()[-1])


def run(repeats: int = 3) -> list[str]:
    lines = []
    for name, code in PROGRAMS.items():
        runs = [import_seconds(code) for _ in range(repeats)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        lines.append(f"start-up import time [{name}] = {wall:.2f} s (CPU {cpu:.2f} s, median of {repeats})")
    for line in lines:
        print(line)
    return lines


if __name__ == "__main__":
    run()
