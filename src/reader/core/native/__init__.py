"""The C sources of the optional accelerator, and the fingerprint that ties a build to them.

The install hook (`hatch_build.py`, which loads this file by path: it runs before the
package is installed) calls `build`, which compiles `SOURCES` with
`-DREADER_SOURCES_HASH="<sources_hash()>"`; the library returns that string from
`reader_sources_hash()`. `reader.core.accel`
loads a library only when it equals the hash of the sources shipped beside it, so a
library left over from other sources (a failed rebuild, an edited checkout) is refused
rather than trusted. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sysconfig

SOURCES = ("signatures.c", "search_text.c")
"""Compiled, in this order, into one shared library."""
LIBRARY_NAME = "_accel.so"
"""The library's file name, in a wheel beside these sources, in a checkout under build/native/."""
HERE = os.path.dirname(os.path.abspath(__file__))


def sources_hash(folder: str = HERE) -> str | None:
    """A fingerprint of the sources in `folder` (hex), or None when one is missing."""
    digest = hashlib.sha256()
    for name in SOURCES:
        try:
            with open(os.path.join(folder, name), "rb") as source:
                content = source.read()
        except OSError:
            return None
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()[:32]


BUILD_FOLDER = ("build", "native")
"""Where, under a checkout's root, an editable install builds the library (git-ignored)."""


def build(output: str, folder: str = HERE) -> None:
    """Compile the sources in `folder` into the shared library `output`.

    Honours `$CC` (`CC=false` builds nothing), `$CFLAGS` and `$LDFLAGS`. Raises OSError
    or subprocess.SubprocessError (with the compiler's complaint) when it cannot.
    """
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    flags = shlex.split(os.environ.get("CFLAGS", "")) + shlex.split(os.environ.get("LDFLAGS", ""))
    define = f'-DREADER_SOURCES_HASH="{sources_hash(folder)}"'
    sources = [os.path.join(folder, name) for name in SOURCES]
    command = [*compiler, "-O2", "-shared", "-fPIC", *flags, define, "-o", output, *sources]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if finished.returncode != 0 or not os.path.isfile(output):
        complaint = finished.stderr.strip()[-500:]
        raise subprocess.SubprocessError(
            f"{shlex.join(command)} exited with {finished.returncode}: {complaint}"
        )
