"""Ending a command-line process without the interpreter's teardown (pipeline/process_exit.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from pipeline.process_exit import exit_now

out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
worker = threading.Thread(target=lambda: (time.sleep(0.3), (out / "thread").write_text("joined")))
worker.start()  # not a daemon: a normal exit waits for it, and so must exit_now
sys.stdout.write("x" * 200_000)  # more than a pipe holds: flushed before the process ends
sys.stderr.write("done")
exit_now(int(sys.argv[2]) if len(sys.argv) > 2 else None)
print("never printed")
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_exit_now_keeps_the_status_the_output_the_threads_and_the_exit_handlers(tmp_path: Path) -> None:
    result = _run(tmp_path, "3")
    assert result.returncode == 3
    assert result.stdout == "x" * 200_000 and result.stderr == "done"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "joined"


def test_exit_now_with_no_status_is_success(tmp_path: Path) -> None:
    assert _run(tmp_path).returncode == 0


def test_every_command_line_entry_point_ends_through_exit_now() -> None:
    entry_points = [REPO / "pipeline" / "cli.py", *sorted((REPO / "jobs").glob("*.py"))]
    for path in entry_points:
        source = path.read_text(encoding="utf-8")
        if '__name__ == "__main__"' in source:
            assert "sys.exit(main())" not in source and "exit_now(main())" in source, path
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'ccsieve = "pipeline.cli:run"' in pyproject
