"""Two beats never double-sweep: a sweep that finds another one running does nothing."""
from __future__ import annotations

import subprocess
import sys

from app.config import ROOT
from app.container import Container
from app.ops.sweep_lock import sweep_lock

_OTHER_HOST = """
import sys
from app.config import Settings
from app.container import Container
from app.ops.sweep_lock import sweep_lock
c = Container(Settings(database_url=sys.argv[1], var_dir=__import__("pathlib").Path(sys.argv[2])))
with sweep_lock(c, "sla") as held:
    print(held)
"""


def _other_process_gets_it(c: Container) -> bool:
    done = subprocess.run([sys.executable, "-c", _OTHER_HOST, c.settings.database_url, str(c.settings.var_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()[-1] == "True"


def test_a_second_sweep_is_refused_while_the_first_runs_and_allowed_after(container: Container) -> None:
    with sweep_lock(container, "sla") as first:
        assert first
        with sweep_lock(container, "sla") as second:
            assert not second
        assert not _other_process_gets_it(container)  # another process (another beat) as well
        with sweep_lock(container, "timers") as other_sweep:
            assert other_sweep  # each sweep has its own lock
    assert _other_process_gets_it(container)
    with sweep_lock(container, "sla") as again:
        assert again
