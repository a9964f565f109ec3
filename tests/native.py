"""For tests of the C accelerator: skip them when it is absent, unless it must be there.

A machine without a C compiler installs the reader without the accelerator, and the
suite must pass there: tests of the C path skip, saying why. CI sets
`READER_REQUIRE_NATIVE=1` for its main run (`.ci/run`), so a build that silently lost
the accelerator fails instead of skipping.
"""

from __future__ import annotations

import os

import pytest

from reader.core import accel


def require_accelerator() -> None:
    """Skip the calling test when the C accelerator is not loaded (fail if it must be)."""
    if accel.library() is not None:
        return
    why = accel.backend(detail=True)
    if os.environ.get("READER_REQUIRE_NATIVE"):
        pytest.fail(f"READER_REQUIRE_NATIVE is set, but the search backend is {why}")
    pytest.skip(f"needs the C accelerator; the search backend is {why}")
