"""Atomic writes: a file or a folder is replaced whole, or not at all.

Ground floor: every module that writes a file writes it through here (runs, tables, override
files, shards, reports). :func:`atomic_path` writes a file beside its target under a temporary
name and renames it into place; :func:`atomic_dir` fills a folder beside its target and swaps
the two, so that a results folder holds either the old results or the new ones, never a mix.
Either way a failed write leaves the target untouched and removes what it wrote.

Files and folders get the permissions a plain ``open()`` or ``mkdir()`` would give them: those
of the file or folder they replace, else the umask's (``0644`` / ``0755`` under umask ``022``),
never the ``0600`` / ``0700`` that :mod:`tempfile` creates.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from relabel.errors import InputError

__all__ = ["atomic_path", "atomic_dir", "folder_lock", "check_writable", "write_bytes", "write_text"]

_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode_for(target: Path, *, directory: bool) -> int:
    """The permissions ``target`` would get if it were created plainly (or keeps, if it exists)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return (0o777 if directory else 0o666) & ~_umask()


def check_writable(path: str | Path, *, folder: bool = False) -> None:
    """Refuse, before anything is computed, a target that cannot be written: under a file, or in a read-only folder.

    ``folder``: ``path`` is a folder to be written (it must not be a file itself). The nearest
    existing folder above the target must be writable (a new entry is created beside it).
    """
    target = Path(os.path.abspath(path))
    if folder and target.exists() and not target.is_dir():
        raise InputError(f"cannot write the folder {target}: it is a file")
    if not folder and target.is_dir():
        raise InputError(f"cannot write the file {target}: it is a folder")
    above = target.parent
    while not above.exists():
        above = above.parent
    if not above.is_dir():
        raise InputError(f"cannot write {target}: {above} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {target}: the folder {above} is not writable (permission denied)")


@contextmanager
def folder_lock(path: str | Path) -> Iterator[Path]:
    """Hold the write lock of the folder ``path`` while the block runs; refuse when another process holds it.

    The lock is ``fcntl.flock`` on a hidden file beside the folder (``.NAME.lock``: the folder
    itself is swapped whole by :func:`atomic_dir`), holding the holder's process id; it is
    removed when the block ends. The system releases a lock whose process died.
    """
    import fcntl

    target = Path(path).resolve()
    _parent(target)
    lock = target.parent / f".{target.name}.lock"
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, _mode_for(lock, directory=False))
        except OSError as e:
            raise InputError(f"cannot lock {target}: cannot create {lock} ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise InputError(f"{target} is being written by another relabel process (process {holder}, which holds "
                             f"{lock}); wait until it has finished, or write somewhere else") from None
        try:  # the holder before us may have removed the file after we opened it: lock the one at the path
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield lock
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass
        os.close(fd)


def _parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"cannot write {target}: a part of {target.parent} is a file, not a folder") from None
    except OSError as e:
        raise InputError(f"cannot write {target}: cannot create the folder {target.parent} ({e.strerror})") from None


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it is renamed onto ``path``.

    The temporary file is hidden (``.NAME.*.tmp``) and removed when the block fails.
    """
    target = Path(path)
    _parent(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise InputError(f"cannot write {target}: {e.strerror} (in {target.parent})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _mode_for(target, directory=False))
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically, as UTF-8."""
    return write_bytes(path, text.encode("utf-8"))


@contextmanager
def atomic_dir(path: str | Path, *, owned: Callable[[str], bool] | None = None) -> Iterator[Path]:
    """Yield an empty folder beside ``path`` to fill; when the block succeeds it takes ``path``'s place.

    The swap is one ``renameat2(RENAME_EXCHANGE)`` where the system has it (Linux), else two
    renames (the old folder is moved aside first, so a reader never sees the two mixed).

    ``owned(name)`` says which entries of the old folder belong to the writer: those are
    replaced (an owned entry the new folder lacks is gone afterwards, so no stale result
    survives), every other entry (a user's own file or subfolder) is moved into the new folder.
    Default: the writer owns everything. Temporary files that an interrupted write left in the
    old folder are dropped. A failed block removes the new folder and leaves the
    old one as it was.

    The old folder's entry is replaced, so a process whose working folder was ``path`` itself
    finds itself in the removed old folder; this process is moved into the new one (a shell
    sitting in ``path`` sees the new files after ``cd .``).
    """
    target = Path(path).resolve()  # "." or a link: the folder itself, beside its parent
    if target.exists() and not target.is_dir():
        raise InputError(f"cannot write the folder {target}: it is a file")
    _parent(target)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent))
    except OSError as e:
        raise InputError(f"cannot write the folder {target}: {e.strerror} (in {target.parent})") from None
    try:
        yield staging
        os.chmod(staging, _mode_for(target, directory=True))
        if not target.exists():
            os.rename(staging, target)
            return
        inside = _cwd() == target
        _swap(staging, target)  # staging now holds the old folder
        if inside:
            os.chdir(target)
        for entry in list(staging.iterdir()):
            keep = owned is not None and not owned(entry.name) and not _leftover(entry.name)
            if keep and not (target / entry.name).exists():
                os.rename(entry, target / entry.name)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _cwd() -> Path | None:
    try:
        return Path.cwd().resolve()
    except OSError:  # the working folder was removed
        return None


def _leftover(name: str) -> bool:
    """A temporary file or folder an interrupted atomic write left behind (``.NAME.*.tmp``, ``.new``, ``.old``)."""
    return name.startswith(".") and name.endswith((".tmp", ".new", ".old"))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def _swap(new: Path, old: Path) -> None:
    """Exchange the folders ``new`` and ``old`` (after the call ``old`` holds what ``new`` held)."""
    libc = _libc()
    renameat2 = getattr(libc, "renameat2", None) if libc is not None else None
    if renameat2 is not None:
        result = renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(old), _RENAME_EXCHANGE)
        if result == 0:
            return
    aside = Path(tempfile.mkdtemp(prefix=f".{old.name}.", suffix=".old", dir=old.parent))
    os.rmdir(aside)
    os.rename(old, aside)
    try:
        os.rename(new, old)
    except OSError:
        os.rename(aside, old)
        raise
    os.rename(aside, new)
