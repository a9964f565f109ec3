"""The C accelerator is loaded only when it matches its sources, and says which backend runs.

A library embeds the hash of the C sources it was compiled from; `accel` refuses it
unless the sources installed beside the package hash the same (a failed rebuild or an
edited checkout must not run old code), and then the reader runs on Python/numpy.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.native import require_accelerator

from reader import __version__
from reader.cli import main
from reader.core import accel, native
from reader.core.search import FoldedTexts


@pytest.fixture
def fresh_library(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`accel.library()` decides again in this test (even in the READER_PURE_PYTHON run),
    and again after it."""
    monkeypatch.delenv("READER_PURE_PYTHON", raising=False)
    accel.library.cache_clear()
    yield
    accel.library.cache_clear()


def edited_sources(folder: Path) -> Path:
    """A copy of the C sources with one comment added: a different hash."""
    for name in native.SOURCES:
        shutil.copy(Path(native.HERE) / name, folder / name)
    with open(folder / native.SOURCES[0], "a", encoding="utf-8") as source:
        source.write("/* edited after the build */\n")
    return folder


def compile_or_skip(output: Path, folder: str = native.HERE) -> None:
    try:
        native.build(str(output), folder)
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"no working C compiler here: {error}")


def test_version_says_which_backend_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    out = capsys.readouterr().out
    expected = "C accelerator" if accel.library() is not None else "Python/numpy, "
    assert out.startswith(f"reader {__version__} (search backend: {expected}")


def test_version_says_why_python_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fresh_library: None
) -> None:
    monkeypatch.setenv("READER_PURE_PYTHON", "1")
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == (
        f"reader {__version__} (search backend: Python/numpy, READER_PURE_PYTHON set)\n"
    )


def test_the_loaded_library_was_built_from_the_installed_sources() -> None:
    require_accelerator()
    loaded = accel.library()
    loaded.reader_sources_hash.restype = ctypes.c_char_p
    assert loaded.reader_sources_hash().decode() == native.sources_hash()
    assert loaded.reader_signature_job_size() == ctypes.sizeof(accel.SignatureJob)
    assert len(accel.SignatureJob._fields_) == 18


def test_a_library_is_refused_when_its_sources_changed(tmp_path: Path) -> None:
    require_accelerator()
    path = accel.library()._name
    assert accel.load(path)[0] is not None
    loaded, why = accel.load(path, str(edited_sources(tmp_path)))
    assert loaded is None and why is not None
    assert why.summary == "stale: reinstall"
    assert "built from other sources" in why.detail


def test_a_library_is_refused_without_its_sources(tmp_path: Path) -> None:
    require_accelerator()
    loaded, why = accel.load(accel.library()._name, str(tmp_path))
    assert loaded is None and why is not None
    assert "sources are missing" in why.detail


def test_a_stale_build_falls_back_to_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_library: None
) -> None:
    # Built from sources that were edited since (or before: the same thing), as when a
    # rebuild failed and left the old library where the reader looks.
    stale = tmp_path / "stale.so"
    compile_or_skip(stale, str(edited_sources(tmp_path)))
    monkeypatch.setenv("READER_NATIVE_LIBRARY", str(stale))
    assert accel.library() is None
    assert accel.backend() == "Python/numpy, C accelerator stale: reinstall"
    assert accel.backend(detail=True).startswith(
        f"Python/numpy: the C accelerator at {stale} was built from other"
    )
    assert not FoldedTexts().native  # the loader takes the Python path
    assert accel.stat_many([str(stale)])[0] == (stale.stat().st_size, stale.stat().st_mtime_ns)


def test_a_fresh_build_of_the_same_sources_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_library: None
) -> None:
    fresh = tmp_path / "fresh.so"
    compile_or_skip(fresh)
    monkeypatch.setenv("READER_NATIVE_LIBRARY", str(fresh))
    assert accel.library() is not None
    assert accel.backend() == "C accelerator"


def test_a_build_from_before_the_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_library: None
) -> None:
    (tmp_path / "old.c").write_text("int reader_list_dir(void) { return -1; }\n", encoding="utf-8")
    old = tmp_path / "old.so"
    if (
        shutil.which("cc") is None
        or subprocess.run(
            ["cc", "-shared", "-fPIC", "-o", str(old), str(tmp_path / "old.c")], capture_output=True
        ).returncode
    ):
        pytest.skip("no working C compiler here")
    monkeypatch.setenv("READER_NATIVE_LIBRARY", str(old))
    assert accel.library() is None
    assert accel.backend() == "Python/numpy, C accelerator unusable: reinstall"
    assert "cannot be used" in accel.backend(detail=True)


def test_a_missing_library_is_reported_as_not_built(
    fresh_library: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accel, "candidates", lambda: [accel.PACKAGED_LIBRARY + ".missing"])
    assert accel.library() is None
    monkeypatch.setattr(accel, "candidates", lambda: [])
    accel.library.cache_clear()
    assert accel.library() is None
    assert accel.backend() == "Python/numpy, C accelerator not built"
    assert accel.backend(detail=True) == f"Python/numpy: {accel.NOT_BUILT.detail}"


def test_tests_of_the_c_path_skip_without_it_unless_it_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accel, "library", lambda: None)
    monkeypatch.delenv("READER_REQUIRE_NATIVE", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_accelerator()
    monkeypatch.setenv("READER_REQUIRE_NATIVE", "1")
    with pytest.raises(pytest.fail.Exception):
        require_accelerator()
