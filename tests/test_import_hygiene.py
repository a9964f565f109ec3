"""The core must stay UI-free: importing it (and the CLI's script modes) never loads Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        "import reader.core.loading.background, reader.core.store, reader.core.search, reader.core.opening\n"
        "import reader.cli\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    assert result.stdout.strip() == "", f"core imported Textual: {result.stdout}"
