"""Install-time build of the reader's optional C accelerator (`src/reader/core/native`).

`signatures.c` builds search signatures ~4x faster than numpy, `search_text.c` turns a
post body into its folded search text ~10x faster than Python. Both are plain C with no
Python API, compiled into one shared library that `reader.core.accel` loads with ctypes.

- Nothing is written into the package's sources. A wheel's library is compiled in a
  temporary folder and added as `reader/core/native/_accel.so`; an editable install's
  goes to `build/native/_accel.so` (git-ignored), where `accel` looks in a checkout.
- The library embeds the hash of the sources it was compiled from
  (`-DREADER_SOURCES_HASH`); `accel` refuses it unless the `.c` files installed beside
  the package (they ship in the wheel) hash the same.
- A wheel with the library is tagged `py3-none-<platform>`: it works with any Python 3
  (no Python C-API, no ABI), on this platform only; `auditwheel repair` turns the
  `linux_*` tag into a `manylinux_*` one for an index. Without it the wheel is pure
  (`py3-none-any`).
- `$CC` (e.g. `CC=false` to build without the accelerator), `$CFLAGS` and `$LDFLAGS`
  are honoured. When there is no compiler, or compiling fails, the install still
  succeeds with a warning and the reader uses its numpy version (same results, slower
  cold start); `reader --version` says which one runs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

NATIVE = os.path.join("src", "reader", "core", "native")


def native_module(root: str) -> ModuleType:
    """`reader.core.native` (source list, hash, names), loaded by path: not installed yet."""
    spec = importlib.util.spec_from_file_location("_reader_native", os.path.join(root, NATIVE, "__init__.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def platform_tag() -> str:
    """This platform's wheel tag (`linux_x86_64`, `macosx_11_0_arm64`, …), as hatchling infers it."""
    from packaging.tags import sys_tags  # a dependency of hatchling

    tag = next(t for t in sys_tags() if "manylinux" not in t.platform and "musllinux" not in t.platform)
    platform = tag.platform
    if sys.platform == "darwin":  # the deployment target and archflags, as hatchling's own tag
        try:
            from hatchling.builders.macos import process_macos_plat_tag
        except ImportError:  # an older hatchling: the interpreter's own tag
            return platform
        platform = process_macos_plat_tag(platform, compat=False)
    return platform


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg,misc,unused-ignore]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        native = native_module(self.root)
        if version == "editable":
            folder = os.path.join(self.root, *native.BUILD_FOLDER)
            os.makedirs(folder, exist_ok=True)
        else:
            folder = self._temporary = tempfile.mkdtemp(prefix="reader-native-")
        library = os.path.join(folder, native.LIBRARY_NAME)
        try:
            os.remove(library)  # never leave an older build where `accel` looks
        except FileNotFoundError:
            pass
        try:
            native.build(library)
        except (OSError, subprocess.SubprocessError) as error:
            message = f"reader: C accelerator not built ({error}); the reader will use numpy instead"
            self.app.display_warning(message)
            print(message, file=sys.stderr)
            return
        if version != "editable":
            build_data["force_include"][library] = f"reader/core/native/{native.LIBRARY_NAME}"
            build_data["pure_python"] = False
            build_data["tag"] = f"py3-none-{platform_tag()}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        temporary = getattr(self, "_temporary", None)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
