"""The worker pool: closing it stops the work that has not started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# Tasks are builtins, which every kind of worker can unpickle: a pause, then a marker.
SCRIPT = """
import os, sys, time
sys.path.insert(0, {src!r})
from reader.core.parallel import ParallelReader

if __name__ == "__main__":
    reader = ParallelReader(2, fork={fork})
    futures = []
    for number in range(40):
        futures.append(reader.submit(time.sleep, 0.1))
        futures.append(reader.submit(os.mkdir, os.path.join({folder!r}, str(number))))
    futures[1].result()
    reader.close()
    del reader  # as when the app quits mid-load: the pool object goes right away
"""


@pytest.mark.parametrize("fork", [True, False])
def test_closing_cancels_the_tasks_not_started(tmp_path: Path, fork: bool) -> None:
    script = SCRIPT.format(src=str(SRC), folder=str(tmp_path), fork=fork)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    # Running all 40 would take 2 s at exit; only those already handed to a worker run.
    assert 1 <= len(list(tmp_path.iterdir())) <= 6
