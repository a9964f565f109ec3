"""Install-time build of the reader's optional C accelerator (`src/reader/core/native`).

`signatures.c` builds search signatures ~4x faster than numpy, `search_text.c` turns a
post body into its folded search text ~10x faster than Python. Both are plain C with no
Python API, compiled into one shared library that `reader.core.accel` loads with ctypes.
When no C compiler is found, or compiling fails, the install still succeeds with a
warning and the reader uses its numpy version (same results, slower cold start).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCES = [os.path.join("src", "reader", "core", "native", name) for name in ("signatures.c", "search_text.c")]
LIBRARY = os.path.join("src", "reader", "core", "native", "_accel.so")


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        sources = [os.path.join(self.root, source) for source in SOURCES]
        library = os.path.join(self.root, LIBRARY)
        compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
        command = [*compiler, "-O2", "-shared", "-fPIC", "-o", library, *sources]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as error:
            self.app.display_warning(f"reader: C accelerator not built ({error}); using numpy instead")
            return
        if version != "editable":  # an editable install finds it next to the sources
            build_data["force_include"][library] = "reader/core/native/_accel.so"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
