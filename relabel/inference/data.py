"""Images to predict on: a folder of image files or an HF ``datasets`` dataset → an :class:`ImageSource`.

An :class:`ImageSource` is an ordered list of unique image keys and a way to read each image
(its encoded bytes, or a PIL image). Keys:

* folder: the path of each image file relative to the folder, with ``/`` separators
  (``n01440764/ILSVRC2012_val_00000293.JPEG`` in an ImageFolder tree,
  ``ILSVRC2012_val_00000001.JPEG`` in a flat folder), sorted; pairing with annotations
  reduces them to the file name;
* HF dataset: the ``key_column`` if given, else a text column named like an image key
  (``image``, ``filename``, ``file_name``, ``path``, …), else the file name stored with each
  image (``Image`` features keep it as ``path``).

Labels are not read: a run holds predictions only; annotations come from their own source
(the same HF dataset can be given to ``relabel evaluate --annotations``).
"""

from __future__ import annotations

import io
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relabel import _tables
from relabel.errors import InputError, format_offenders, repeated
from relabel.loading.annotations import image_key

__all__ = ["ImageSource", "open_images", "image_identities", "IMAGE_SUFFIXES"]

#: File suffixes read from a folder (compared case-insensitively); other files are ignored.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm",
                  ".pgm", ".pbm")


@dataclass(frozen=True, eq=False)
class ImageSource:
    """Ordered, uniquely keyed images; ``read_bytes(i)`` / ``open_pil(i)`` read image ``i``.

    Picklable, so that DataLoader workers can read images in parallel.
    """

    keys: np.ndarray
    description: str
    root: Path | None = None
    dataset: Any = None
    column: str | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def where(self, index: int) -> str:
        """Where image ``index`` lives, for error messages."""
        if self.root is not None:
            return str(self.root / self.keys[index])
        return f"{self.description}, row {index} ({self.keys[index]!r})"

    def read_bytes(self, index: int) -> bytes:
        """The encoded image file."""
        if self.root is not None:
            return (self.root / self.keys[index]).read_bytes()
        cell = self.dataset[index][self.column]
        if cell.get("bytes") is not None:
            return cell["bytes"]
        if cell.get("path"):
            return Path(cell["path"]).read_bytes()
        raise OSError("the dataset row holds neither image bytes nor a file path")

    def open_pil(self, index: int) -> Any:
        """The image decoded by PIL, in RGB."""
        from PIL import Image

        if self.root is not None:
            with Image.open(self.root / self.keys[index]) as image:
                return image.convert("RGB")
        with Image.open(io.BytesIO(self.read_bytes(index))) as image:
            return image.convert("RGB")


_identities: weakref.WeakKeyDictionary[ImageSource, list[list[Any]]] = weakref.WeakKeyDictionary()


def image_identities(source: ImageSource) -> list[list[Any]]:
    """What identifies each image of ``source`` as it is now, for deciding whether earlier work still holds.

    For a folder: the key, the file's size, modification time and status-change time (ns; the
    change time moves when a file is rewritten even if its modification time is set back, as
    ``cp -p``, ``rsync -t`` or unpacking an archive do). For an HF dataset: the key and the
    dataset's fingerprint. Read once per source (a pass of many models asks for each).
    """
    known = _identities.get(source)
    if known is not None:
        return known
    if source.root is not None:
        files = []
        for key in source.keys.tolist():
            try:
                info = (source.root / key).stat()
            except OSError as e:
                raise InputError(f"{source.root / key}: cannot read the file's status ({e.strerror})") from None
            files.append([key, info.st_size, info.st_mtime_ns, info.st_ctime_ns])
    else:
        fingerprint = getattr(source.dataset, "_fingerprint", None)
        files = [[key, fingerprint] for key in source.keys.tolist()]
    _identities[source] = files
    return files


def open_images(
    data: Any,
    *,
    split: str | None = None,
    image_column: str | None = None,
    key_column: str | None = None,
) -> ImageSource:
    """An :class:`ImageSource` from a folder, a folder saved with ``datasets.save_to_disk`` or an HF dataset.

    ``split`` picks a split of a ``DatasetDict``; ``image_column`` names the HF ``Image``
    column (default: the only one); ``key_column`` the column of image keys.
    """
    if isinstance(data, ImageSource):
        return data
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.exists():
            raise InputError(f"image data {path} does not exist")
        if not path.is_dir():
            raise InputError(f"image data {path}: expected a folder of images or a saved HF dataset, found a file")
        if _is_saved_dataset(path):
            import datasets as hf

            try:
                loaded = hf.load_from_disk(str(path))
            except (FileNotFoundError, ValueError) as e:
                raise InputError(f"{path}: cannot load the saved HF dataset ({e})") from None
            return _from_dataset(loaded, str(path), split, image_column, key_column)
        if split or image_column or key_column:
            raise InputError(f"{path}: split, image_column and key_column are for HF datasets, not image folders")
        return _from_folder(path)
    module = type(data).__module__ or ""
    if module.startswith("datasets"):
        return _from_dataset(data, "HF dataset", split, image_column, key_column)
    raise InputError(f"image data: expected a folder or an HF datasets Dataset; found {type(data).__name__}")


def _is_saved_dataset(path: Path) -> bool:
    return (path / "dataset_dict.json").is_file() or (
        (path / "dataset_info.json").is_file() and (path / "state.json").is_file()
    )


def _from_folder(root: Path) -> ImageSource:
    """Every image file under ``root`` once, keyed by its path relative to ``root``.

    Symbolic links are followed, each real folder once: a link back to a folder above it (a
    loop) is an error, a second link to a folder already read is skipped, and a linked file
    whose real file is in the tree already is not read twice (hard links, which are separate
    files to the folder, are kept).
    """
    found: list[tuple[str, tuple[int, int], bool]] = []  # key, real file, reached through a link
    top = _identity(root.stat())
    seen_folders: set[tuple[int, int]] = set()
    # (folder, key prefix, identities of the folders above, reached through a link); real folders
    # are read before linked ones, so that a folder is keyed by its own path where it has one
    pending: list[tuple[Path, str, tuple[tuple[int, int], ...], bool]] = [(root, "", (top,), False)]
    linked_folders: list[tuple[Path, str, tuple[tuple[int, int], ...], bool]] = []
    while pending or linked_folders:
        folder, relative, ancestors, linked = pending.pop() if pending else linked_folders.pop(0)
        if ancestors[-1] in seen_folders:
            continue
        seen_folders.add(ancestors[-1])
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name, reverse=True)
        except OSError as e:
            raise InputError(f"{folder}: cannot list the folder ({e.strerror})") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
                info = entry.stat() if is_dir or entry.name.lower().endswith(IMAGE_SUFFIXES) else None
            except OSError:  # a broken link
                continue
            if info is None:
                continue
            identity = _identity(info)
            through_link = linked or entry.is_symlink()
            key = f"{relative}{entry.name}"
            if is_dir:
                if identity in ancestors:
                    raise InputError(
                        f"{root}: a symbolic link loop: {Path(entry.path)} leads back to {os.path.realpath(entry.path)}, "
                        f"a folder above it; remove the link or give a folder without it"
                    )
                item = (Path(entry.path), f"{key}/", (*ancestors, identity), through_link)
                (linked_folders if through_link else pending).append(item)
            elif entry.is_file():
                found.append((key, identity, through_link))
    if not found:
        raise InputError(f"{root}: no image files (expected files ending in {', '.join(IMAGE_SUFFIXES[:5])}, …)")
    direct = {identity for _, identity, through_link in found if not through_link}
    keys, linked_once = [], set()
    for key, identity, through_link in sorted(found):
        if through_link and (identity in direct or identity in linked_once):
            continue
        if through_link:
            linked_once.add(identity)
        keys.append(key)
    return ImageSource(np.asarray(keys, dtype=object), str(root), root=root)


def _identity(info: os.stat_result) -> tuple[int, int]:
    """What makes a file or folder the same one, whatever path reaches it."""
    return (info.st_dev, info.st_ino)


def _from_dataset(dataset: Any, source: str, split: str | None, image_column: str | None,
                  key_column: str | None) -> ImageSource:
    import datasets as hf

    if isinstance(dataset, hf.DatasetDict):
        dataset, source = _tables.select_split(dataset, split, source, option="split= (CLI: --split)")
    elif split is not None and not isinstance(dataset, hf.Dataset):
        raise InputError(f"{source}: split= needs a DatasetDict")
    if not isinstance(dataset, hf.Dataset):
        raise InputError(f"{source}: expected an HF datasets Dataset or DatasetDict, got {type(dataset).__name__}")
    features = dataset.features
    names = list(features)
    image_features = [c for c in names if isinstance(features[c], hf.Image)]
    if image_column is not None:
        if image_column not in names:
            raise InputError(f"{source}: no image column {image_column!r}; found {names}")
        if not isinstance(features[image_column], hf.Image):
            raise InputError(f"{source}, column {image_column!r}: expected an Image feature, found {features[image_column]}")
    elif len(image_features) != 1:
        raise InputError(
            f"{source}: expected one Image column, found {image_features or 'none'} among {names}; "
            f"name it with image_column= (CLI: --image-column)"
        )
    column = image_column or image_features[0]
    if len(dataset) == 0:
        raise InputError(f"{source}: the dataset has no rows")
    text_columns = [c for c in names if getattr(features[c], "dtype", None) in ("string", "large_string")]
    if key_column is not None and key_column not in names:
        raise InputError(f"{source}: no key column {key_column!r}; found {names}")
    key_col = key_column or _tables.pick_column(text_columns, _tables.IMAGE_COLUMNS, where=source, field="image key",
                                                required=False)
    encoded = dataset.select_columns([column]).cast_column(column, hf.Image(decode=False))
    if key_col is not None:
        keys = [str(k) if k is not None else "" for k in dataset[key_col]]
        where = f"{source}, column {key_col!r}"
        empty = [i for i, k in enumerate(keys) if not k]
        if empty:
            raise InputError(f"{where}: empty image keys at rows {format_offenders(empty)}")
    else:
        import pyarrow.compute as pc

        cells = encoded.with_format("arrow")[column]  # memory-mapped; the image bytes are not copied
        paths = pc.struct_field(cells, "path").to_pylist()
        no_path = [i for i, p in enumerate(paths) if not p]
        if no_path:
            raise InputError(
                f"{source}, column {column!r}: images without a file name at rows {format_offenders(no_path)}; "
                f"give a column of image keys with key_column= (CLI: --key-column)"
            )
        keys = [image_key(p) for p in paths]
        where = f"{source}, column {column!r} (file names)"
    twice = repeated(keys)
    if twice:
        raise InputError(f"{where}: image keys must be unique; {format_offenders(twice)} appear more than once")
    return ImageSource(np.asarray(keys, dtype=object), source, dataset=encoded, column=column)
