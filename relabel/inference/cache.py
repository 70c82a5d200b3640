"""A folder of decoded images that later commands reuse (``relabel predict --cache DIR``).

Part of :mod:`relabel.inference`. A cache folder belongs to one dataset::

    DIR/cache.json                      format, the dataset's description and its image count
    DIR/files.json                      every image: key, size in bytes, modification and change times (ns)
    DIR/decoded-224px-<hash>/           one entry per preprocessing, decode place and image range
        images.npy                      uint8, images × 3 × crop × crop (memory-mapped when read)
        entry.json                      what the entry holds: preprocessing, decode, shard ranges, errors

A folder made for another dataset (its absolute path), or for this one before a file was added,
removed or changed (size, modification time or status-change time, which moves when a file is
rewritten even if its modification time is set back), is refused with an
:class:`~relabel.errors.InputError` that names the folder and what differs; so is an entry whose
record does not match what it is asked for. Entries are written whole or not at all (built in a
hidden folder beside, then renamed into place), so an interrupted decode never leaves an entry
that looks finished. A decode holds its entry's write lock (:func:`relabel._atomic.folder_lock`,
which the system releases when a process dies), so the next decode into the folder removes the
hidden folder of one that was killed and leaves a running one's alone (a second command decoding the
same entry at the same time is refused, naming the lock). Under ``torchrun`` each rank writes its
own entry (its own image range).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relabel._atomic import atomic_dir, folder_lock, write_text
from relabel.errors import InputError, format_offenders
from relabel.inference.data import ImageSource, image_identities
from relabel.inference.models import Preprocess
from relabel.inference.shards import Shard
from relabel.inference.store import DecodedStore, fill

__all__ = ["DecodeCache", "CACHE_FORMAT"]

CACHE_FORMAT = "relabel.decode-cache/2"


class DecodeCache:
    """The cache folder ``folder`` for the images of ``source``; refuses a folder of another or changed dataset."""

    def __init__(self, folder: Path, source: ImageSource) -> None:
        self.folder, self.source = folder, source
        self.files = image_identities(source)
        dataset = str(source.root.resolve()) if source.root is not None else source.description
        header = {"format": CACHE_FORMAT, "dataset": dataset, "n_images": len(source)}
        info = folder / "cache.json"
        if folder.exists() and not folder.is_dir():
            raise InputError(f"cache {folder}: it is a file; give a folder (new or made by relabel predict --cache)")
        if info.is_file():
            self._check(info, header)
            return
        if folder.is_dir() and any(p for p in folder.iterdir() if not p.name.startswith(".")):
            raise InputError(f"cache {folder}: the folder holds files but no cache.json, so it is not a relabel "
                             f"decode cache; give an empty or new folder")
        folder.mkdir(parents=True, exist_ok=True)
        write_text(folder / "files.json", json.dumps(self.files))
        write_text(info, json.dumps(header, indent=2))

    def _check(self, info: Path, header: dict[str, Any]) -> None:
        try:
            old = json.loads(info.read_text(encoding="utf-8"))
            files = json.loads((self.folder / "files.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"cache {self.folder}: cannot read its record ({e}); remove the folder to rebuild it") \
                from None
        if not isinstance(old, dict) or old.get("format") != CACHE_FORMAT:
            raise InputError(f"cache {self.folder}: format {old.get('format') if isinstance(old, dict) else old!r}, "
                             f"expected {CACHE_FORMAT!r}; remove the folder to rebuild it")
        differences = []
        if old.get("dataset") != header["dataset"]:
            differences.append(f"it was made for {old.get('dataset')!r}, not {header['dataset']!r}")
        before = {f[0]: f[1:] for f in files}
        now = {f[0]: f[1:] for f in self.files}
        added = sorted(set(now) - set(before))
        removed = sorted(set(before) - set(now))
        changed = sorted(k for k in set(now) & set(before) if now[k] != before[k])
        if added:
            differences.append(f"images added since: {format_offenders(added)}")
        if removed:
            differences.append(f"images removed since: {format_offenders(removed)}")
        if changed:
            differences.append(f"images changed since (size, modification or change time): {format_offenders(changed)}")
        if differences:
            raise InputError(f"cache {self.folder} does not hold this dataset's images: {'; '.join(differences)}; "
                             f"give another --cache folder, or remove this one to rebuild it")

    def _remove_interrupted(self) -> None:
        """Remove the half-built entries of decodes that were killed: hidden ``.decoded-*.new`` folders whose
        entry's write lock nobody holds (a running decode holds it; the system releases a dead process's)."""
        for staging in self.folder.glob(".decoded-*.new"):
            name = staging.name[1:].split(".", 1)[0]  # .NAME.XXXXXX.new, as atomic_dir makes it
            try:
                with folder_lock(self.folder / name):
                    shutil.rmtree(staging, ignore_errors=True)
            except InputError:  # a decode of that entry is running
                continue

    def store(self, pre: Preprocess, decode: str, job: Any, shards: list[Shard]) -> DecodedStore:
        """The decoded images of ``shards``: read from their entry, or decoded by ``job`` and written first."""
        record = {"preprocess": {"resize_size": pre.resize_size, "crop_size": pre.crop_size,
                                 "interpolation": pre.interpolation},
                  "decode": decode, "shards": [[s.start, s.stop] for s in shards],
                  "files_sha256": hashlib.sha256(json.dumps(self.files).encode()).hexdigest()}
        digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]
        entry = self.folder / f"decoded-{pre.crop_size}px-{digest}"
        if not (entry / "entry.json").is_file():
            self._remove_interrupted()
            rows = sum(s.stop - s.start for s in shards)
            with folder_lock(entry), atomic_dir(entry) as tmp:  # the lock tells a killed decode from a running one
                array = np.lib.format.open_memmap(tmp / "images.npy", mode="w+", dtype=np.uint8,
                                                  shape=(rows, 3, pre.crop_size, pre.crop_size))
                errors = fill(job, shards, torch.from_numpy(array))
                array.flush()
                del array
                (tmp / "entry.json").write_text(json.dumps({**record, "errors": errors}), encoding="utf-8")
        try:
            held = json.loads((entry / "entry.json").read_text(encoding="utf-8"))
            array = np.load(entry / "images.npy", mmap_mode="c")
        except (OSError, ValueError) as e:
            raise InputError(f"cache {entry}: cannot read the entry ({e}); remove it to rebuild it") from None
        differ = sorted(k for k in record if held.get(k) != record[k])
        if differ:
            raise InputError(f"cache {entry}: the entry holds other images (it differs in {', '.join(differ)}); "
                             f"remove it to rebuild it")
        errors = list(held["errors"])
        if any(errors):  # decoded by a command that left unreadable images out: this one may not (on_error)
            job._check_errors(torch.cat([torch.arange(s.start, s.stop) for s in shards]), errors)
        return DecodedStore(torch.from_numpy(array), errors, shards)
