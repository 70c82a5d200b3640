"""Atomic writes: files and folders replaced whole or not at all, with the permissions a plain write gives."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from relabel import _atomic
from relabel._atomic import atomic_dir, atomic_path, write_text
from relabel.errors import InputError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it."""
    old = os.umask(0o022)
    os.umask(old)
    values = []

    def set_mask(mask: int) -> None:
        values.append(os.umask(mask))

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700),
                                                            (0o002, 0o664, 0o775)])
def test_new_files_and_folders_follow_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    path = write_text(tmp_path / "a.txt", "hello")
    assert path.read_text() == "hello" and _mode(path) == file_mode
    with atomic_dir(tmp_path / "results") as staging:
        (staging / "t.csv").write_text("x\n")
    assert _mode(tmp_path / "results") == dir_mode and (tmp_path / "results" / "t.csv").read_text() == "x\n"


def test_a_replaced_file_keeps_its_permissions(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "shared.csv"
    path.write_text("old")
    path.chmod(0o664)
    write_text(path, "new")
    assert path.read_text() == "new" and _mode(path) == 0o664


def test_the_umask_is_read_without_changing_it(umask):
    umask(0o027)
    assert _atomic._umask() == 0o027
    assert os.umask(0o027) == 0o027  # still what it was


def test_a_failed_file_write_leaves_the_target_and_no_temporary_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_file_under_a_regular_file_is_a_clear_error(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match=r"cannot write .*plain/a\.txt: a part of .*plain is a file, not a folder"):
        write_text(tmp_path / "plain" / "a.txt", "y")


def _results(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_is_all_old_or_all_new(tmp_path):
    folder = tmp_path / "results"
    with atomic_dir(folder) as staging:
        for name in ("per_class.csv", "comparison.csv"):
            (staging / name).write_text("run 1")
    with pytest.raises(RuntimeError), atomic_dir(folder) as staging:
        (staging / "per_class.csv").write_text("run 2")
        raise RuntimeError("killed half way")
    assert _results(folder) == {"comparison.csv": "run 1", "per_class.csv": "run 1"}
    with atomic_dir(folder) as staging:
        (staging / "per_class.csv").write_text("run 2")
    # the second run wrote no comparison: the first run's is gone, not mixed in
    assert _results(folder) == {"per_class.csv": "run 2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # nothing left beside it


def test_entries_the_writer_does_not_own_are_kept(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "per_class.csv").write_text("old")
    (folder / "stale.csv").write_text("old")
    (folder / "notes.txt").write_text("mine")
    (folder / "report").mkdir()
    (folder / "report" / "index.html").write_text("page")
    (folder / ".per_class.csv.abc123.tmp").write_text("left by a killed run")
    owned = {"per_class.csv", "stale.csv"}.__contains__
    with atomic_dir(folder, owned=owned) as staging:
        (staging / "per_class.csv").write_text("new")
    assert _results(folder) == {"notes.txt": "mine", "per_class.csv": "new", "report/index.html": "page"}


def test_the_swap_without_renameat2_gives_the_same_result(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "_libc", lambda: None)
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "a.csv").write_text("old")
    (folder / "mine.txt").write_text("mine")
    with atomic_dir(folder, owned=lambda name: name.endswith(".csv")) as staging:
        (staging / "b.csv").write_text("new")
    assert _results(folder) == {"b.csv": "new", "mine.txt": "mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_folder_where_a_file_is_is_refused(tmp_path):
    (tmp_path / "results").write_text("a file")
    with pytest.raises(InputError, match=r"cannot write the folder .*results: it is a file"), \
            atomic_dir(tmp_path / "results"):
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_writer_leaves_the_old_folder_whole(tmp_path):
    """A process killed while filling the new folder: the old results stay, unmixed."""
    folder = tmp_path / "results"
    with atomic_dir(folder) as staging:
        (staging / "per_class.csv").write_text("run 1")
        (staging / "comparison.csv").write_text("run 1")
    code = (
        "import os, signal, sys\n"
        "from relabel._atomic import atomic_dir\n"
        "with atomic_dir(sys.argv[1]) as staging:\n"
        "    (staging / 'per_class.csv').write_text('run 2')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True)
    assert result.returncode == -9
    assert _results(folder) == {"comparison.csv": "run 1", "per_class.csv": "run 1"}
    # what the killed writer filled stays beside the folder, hidden; readers look inside the folder only
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "results"]
    assert all(name.startswith(".results.") and name.endswith(".new") for name in leftovers)


def test_the_current_folder_can_be_the_target(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "old.csv").write_text("old")
    monkeypatch.chdir(folder)
    with atomic_dir(".", owned=lambda name: name.endswith(".csv")) as staging:
        (staging / "new.csv").write_text("new")
    assert Path.cwd() == folder.resolve() and sorted(os.listdir(".")) == ["new.csv"]
    write_text("later.txt", "relative paths still land in the folder")
    assert (folder / "later.txt").is_file()
