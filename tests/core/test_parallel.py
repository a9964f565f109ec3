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
from reader.core.loading.workers import ParallelReader

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


FINISHED = """
import multiprocessing, os, sys
sys.path.insert(0, {src!r})
from reader.core.loading.workers import ParallelReader

if __name__ == "__main__":
    reader = ParallelReader(2, fork={fork})
    assert [reader.submit(abs, -n).result() for n in range(4)] == [0, 1, 2, 3]
    reader.close()
    print(len(multiprocessing.active_children()))
"""


@pytest.mark.parametrize("fork", [True, False])
def test_closing_a_finished_reader_lets_its_workers_exit_first(fork: bool) -> None:
    # A pool still shutting down when the interpreter exits races its exit hook, which
    # then writes to the pool's closed wake-up pipe ("Exception ignored … Bad file descriptor").
    script = FINISHED.format(src=str(SRC), fork=fork)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert (done.stdout, done.stderr) == ("0\n", "")


def test_check_exits_quietly_after_a_parallel_load(tmp_path: Path) -> None:
    from benchmarks.corpus import write_corpus

    from reader.core.loading.workers import worker_count

    if worker_count() < 2:
        pytest.skip("one core: the load runs in-process")
    write_corpus(tmp_path / "corpus", count=3000)
    command = [sys.executable, "-m", "reader", "--check", "--no-cache", str(tmp_path / "corpus")]
    for _ in range(10):  # the race this guards against showed in one run of five or six
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stderr) == (0, "")
