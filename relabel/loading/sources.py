"""Named annotation sources: a copy bundled in an installed package, else a checked download.

``real`` resolves, in this order, to the copy that the ``imagenet-x`` package bundles, the
copy that ``timm`` bundles, and a one-time pooch download from the authors' repository
checked against a pinned sha256 (all three are the same bytes). The original validation
labels come from ``imagenet-x``; there is no public download of them, so without it the user
gives a file.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from relabel.errors import DownloadError, InputError

__all__ = ["source_path", "known_sources"]


@cache
def _catalogue() -> dict[str, dict[str, Any]]:
    text = resources.files("relabel.annotations").joinpath("sources.json").read_text(encoding="utf-8")
    return json.loads(text)


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
        Look for a copy bundled in ``imagenet-x`` or ``timm`` first.
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
        for package, relative in entry["bundled_in"]:
            found = _bundled_copy(package, relative)
            if found is not None:
                return found
    url = url or entry["url"]
    if not url:
        packages = ", ".join(p for p, _ in entry["bundled_in"])
        raise DownloadError(
            f"annotation source {name!r} is not bundled in any installed package and cannot be downloaded; "
            f"install one of [{packages}] (pip install 'relabel[demo]') or give the file yourself"
        )
    return _download(url, entry["sha256"], entry["file_name"], cache_dir)


def _download(url: str, sha256: str, file_name: str, cache_dir: str | Path | None) -> Path:
    import pooch

    path = Path(cache_dir) if cache_dir is not None else Path(pooch.os_cache("relabel"))
    try:
        fetched = pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=file_name, path=path, progressbar=False)
    except ValueError as e:
        raise DownloadError(f"download of {url} failed its checksum (expected sha256 {sha256}): {e}") from None
    except Exception as e:  # network errors come from requests/urllib3 with many types
        raise DownloadError(f"could not download {url}: {e}") from None
    return Path(fetched)

