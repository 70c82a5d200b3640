"""Models for inference: a name, a file or an ``nn.Module`` → a module ready to evaluate, with its preprocessing.

:func:`load_model` accepts

* a torchvision classification model name (``resnet50``) with ``weights`` — a weights enum
  name (``ResNet50_Weights.IMAGENET1K_V2``, or just ``IMAGENET1K_V2`` / ``DEFAULT``), or
  ``"none"`` for random initialisation; the weights' own eval preprocessing is used;
* a timm model name when timm is installed (``pretrained`` unless ``weights="none"``), with
  timm's data config (input size, crop fraction, interpolation, mean, std);
* a Hugging Face hub name as timm writes it (``timm/resnet18.a1_in1k``, or ``hf-hub:…``),
  loaded through timm;
* a checkpoint file with an architecture name (``arch``): a state dict, possibly under a
  ``state_dict`` / ``model`` / ``model_state_dict`` / ``module`` / ``net`` key, with
  ``module.`` (DistributedDataParallel) and ``_orig_mod.`` (``torch.compile``) prefixes
  removed, and a prefix that every key shares but the architecture does not (Lightning's
  ``model.`` / ``net.``); loaded with ``weights_only=True``, so no pickled code runs. The
  training scripts of torchvision (``references/classification/train.py``) and timm
  (``train.py``) store their ``args`` as an ``argparse.Namespace``, which is allowed too;
* a TorchScript file (``torch.jit.save``) or a ``torch.export`` file (``.pt2``) — programs:
  loading one runs what it holds (TorchScript code, an exported graph whose symbolic shapes
  torch evaluates, compiled kernels), so relabel loads them only with ``trust_program=True``
  (CLI ``--trust-program``), and even then refuses a ``.pt2`` archive that holds pickled
  objects (which torch would unpickle with ``weights_only=False``) or compiled code;
* any ``nn.Module``.

Downloads of named weights go through torchvision or timm as usual. The result is a
:class:`LoadedModel`: the module, a name for the run, the :class:`Preprocess` to apply and the
class names the weights declare (if any).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from relabel.errors import InputError, RelabelWarning, format_offenders
from relabel.inference.options import Interpolation

__all__ = ["Preprocess", "LoadedModel", "load_model", "Interpolation", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_INTERPOLATIONS = tuple(Interpolation.choices())

#: Keys under which training scripts commonly nest the state dict in a checkpoint.
_STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "module", "net")
#: Prefixes added by DistributedDataParallel / DataParallel and by torch.compile.
_PREFIXES = ("module.", "_orig_mod.")
#: File names that look like a model file rather than a model name.
_FILE_SUFFIXES = (".pt", ".pth", ".pt2", ".ckpt", ".bin", ".tar", ".jit", ".ts", ".torchscript")
#: How the Hugging Face hub names a model: ``organisation/name`` (``timm/resnet18.a1_in1k``).
_HUB_NAME = re.compile(r"(?:hf[-_]hub:)?[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
#: The globals (beyond tensors and containers) that trainers' checkpoints hold and relabel lets
#: ``torch.load(weights_only=True)`` rebuild: torchvision's and timm's ``args``.
_CHECKPOINT_GLOBALS: list[Any] = [argparse.Namespace]
_TRUST_HINT = ("if you trust where the file came from, pass --trust-program (Python: trust_program=True); or save the "
               "model's state_dict() and give --arch")


@dataclass(frozen=True)
class Preprocess:
    """Evaluation preprocessing: resize the shorter side, centre-crop a square, normalise.

    ``resize_size`` is the length of the shorter side after resizing (aspect ratio kept,
    antialiased), ``crop_size`` the side of the centred square crop; pixels are scaled to
    [0, 1] and then normalised per channel: ``(x / 255 - mean) / std``. The defaults are the
    standard ImageNet evaluation (256 → 224, bilinear, ImageNet mean and std).

    >>> Preprocess()
    Preprocess(resize_size=256, crop_size=224, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), interpolation='bilinear')
    >>> Preprocess.from_crop_pct(224, 0.875).resize_size
    256
    """

    resize_size: int = 256
    crop_size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    interpolation: str = "bilinear"

    def __post_init__(self) -> None:
        for name in ("resize_size", "crop_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"preprocessing: {name} must be a positive integer; found {value!r}")
        for name in ("mean", "std"):
            value = tuple(float(v) for v in getattr(self, name))
            if len(value) != 3 or not all(math.isfinite(v) for v in value):
                raise InputError(f"preprocessing: {name} must be three finite numbers (R, G, B); found {value!r}")
            if name == "std" and min(value) <= 0:
                raise InputError(f"preprocessing: std must be positive; found {value!r}")
            object.__setattr__(self, name, value)
        if self.interpolation not in _INTERPOLATIONS:
            raise InputError(
                f"preprocessing: interpolation must be one of {list(_INTERPOLATIONS)}; found {self.interpolation!r}"
            )

    @classmethod
    def from_crop_pct(cls, crop_size: int, crop_pct: float, **kwargs: Any) -> Preprocess:
        """timm's convention: resize the shorter side to ``floor(crop_size / crop_pct)``."""
        return cls(resize_size=int(math.floor(crop_size / crop_pct)), crop_size=crop_size, **kwargs)

    @classmethod
    def from_timm_config(cls, config: Mapping[str, Any]) -> Preprocess:
        """From a timm data config (``input_size``, ``crop_pct``, ``interpolation``, ``mean``, ``std``).

        >>> Preprocess.from_timm_config({"input_size": (3, 288, 288), "crop_pct": 1.0, "interpolation": "bicubic",
        ...                              "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}).resize_size
        288
        """
        _, height, width = config.get("input_size", (3, 224, 224))
        if height != width:
            raise InputError(
                f"timm data config: input size {height}x{width} is not square; relabel centre-crops squares, "
                f"give preprocess=Preprocess(...) explicitly"
            )
        mode = config.get("crop_mode", "center")
        if mode != "center":
            warnings.warn(f"timm data config asks for crop_mode {mode!r}; relabel uses a centre crop",
                          RelabelWarning, stacklevel=3)
        interpolation = str(config.get("interpolation", "bilinear"))
        if interpolation not in _INTERPOLATIONS:
            interpolation = "bicubic" if interpolation == "random" else "bilinear"
        return cls.from_crop_pct(
            int(height), float(config.get("crop_pct", 0.875)), interpolation=interpolation,  # type: ignore[arg-type]
            mean=tuple(config.get("mean", IMAGENET_MEAN)), std=tuple(config.get("std", IMAGENET_STD)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-serialisable dict."""
        return {"resize_size": self.resize_size, "crop_size": self.crop_size, "mean": list(self.mean),
                "std": list(self.std), "interpolation": self.interpolation}


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A module ready for evaluation and what predict needs to know about it.

    ``categories`` are the class names its weights declare (torchvision weights' ``meta``),
    or ``None``; ``description`` says where it came from (for error messages); ``program`` is
    the ``torch.export`` program ``module`` was taken from, if any (predict moves the program,
    not the module, to the device).
    """

    module: nn.Module
    name: str
    preprocess: Preprocess = field(default_factory=Preprocess)
    categories: tuple[str, ...] | None = None
    description: str = ""
    program: Any = None

    def with_preprocess(self, preprocess: Preprocess | None = None, **changes: Any) -> LoadedModel:
        """This model with its preprocessing replaced, or some settings changed (``None`` keeps one).

        >>> LoadedModel(torch.nn.Identity(), "id").with_preprocess(crop_size=288, resize_size=None).preprocess.crop_size
        288
        """
        base = preprocess or self.preprocess
        changes = {k: v for k, v in changes.items() if v is not None}
        return replace(self, preprocess=replace(base, **changes) if changes else base)

    def fingerprint(self) -> str:
        """A hash of the module's parameters and buffers (names, dtypes, shapes, values).

        Resumed shards are only reused when the model is the same one.
        """
        digest = hashlib.sha256()
        for key, value in sorted(self.module.state_dict().items()):
            if not isinstance(value, torch.Tensor):
                continue
            tensor = value.detach().to("cpu").contiguous().reshape(-1)
            digest.update(f"{key}|{tensor.dtype}|{tuple(value.shape)}|".encode())
            digest.update(tensor.view(torch.uint8).numpy().tobytes())
        return digest.hexdigest()


def load_model(
    model: str | Path | nn.Module | LoadedModel,
    *,
    arch: str | None = None,
    weights: str | None = None,
    num_classes: int | None = None,
    trust_program: bool = False,
) -> LoadedModel:
    """Build or load a model for evaluation (see the module docstring for what ``model`` may be).

    Parameters
    ----------
    model
        A torchvision or timm model name, a checkpoint / TorchScript / ``.pt2`` file, an
        ``nn.Module`` or a :class:`LoadedModel` (returned as is).
    arch
        The architecture (torchvision or timm name) a checkpoint's state dict belongs to.
    weights
        For a model name: the weights enum name (torchvision), ``"DEFAULT"``, or ``"none"``
        for random initialisation. Required for torchvision names, so that forgetting it never
        evaluates random weights silently.
    num_classes
        The classifier size when building ``arch`` for a checkpoint (default: read from the
        checkpoint) or a model name with random weights (default: the architecture's own).
    trust_program
        Load TorchScript and ``torch.export`` files, which run what they hold; without it they
        are refused before torch reads them.
    """
    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, nn.Module):
        return LoadedModel(model, type(model).__name__, description=f"module {type(model).__name__}")
    if isinstance(model, torch.export.ExportedProgram):
        return LoadedModel(model.module(), "exported", description="exported program", program=model)
    if not isinstance(model, (str, Path)):
        raise InputError(f"model: expected a model name, a file or an nn.Module; found {type(model).__name__}")
    text = str(model)
    path = Path(text)
    if path.is_file():
        return _from_file(path, arch=arch, num_classes=num_classes, trust_program=trust_program)
    if path.is_dir():
        raise InputError(f"model {text!r} is a folder; expected a model name or a checkpoint file")
    hub_name = _HUB_NAME.fullmatch(text) is not None and path.suffix.lower() not in _FILE_SUFFIXES
    looks_like_file = path.suffix.lower() in _FILE_SUFFIXES or "/" in text or "\\" in text
    if looks_like_file and not hub_name:
        raise InputError(f"model file {text} does not exist")
    if arch is not None:
        raise InputError(f"model {text!r}: arch= is for checkpoint files; {text!r} is not a file")
    if hub_name:
        return _from_hub(text, weights=weights, num_classes=num_classes)
    return _from_name(text, weights=weights, num_classes=num_classes)


# ---------------------------------------------------------------- names


def _torchvision_names() -> list[str]:
    from torchvision import models

    return models.list_models(module=models)


def _timm() -> Any:
    try:
        import timm
    except ImportError:
        return None
    return timm


def _from_name(name: str, *, weights: str | None, num_classes: int | None) -> LoadedModel:
    if name in _torchvision_names():
        return _torchvision_model(name, weights=weights, num_classes=num_classes)
    timm = _timm()
    timm_name = name.removeprefix("timm:")
    if timm is not None and (timm.is_model(timm_name) or timm_name.startswith(("hf-hub:", "hf_hub:"))):
        return _timm_model(timm, timm_name, weights=weights, num_classes=num_classes)
    close = [n for n in _torchvision_names() if n.startswith(name[:4])][:5] if len(name) >= 4 else []
    hint = f"; similar torchvision names: {close}" if close else ""
    if timm is None:
        hint += "; timm is not installed (pip install 'relabel[timm]') for timm model names"
    raise InputError(f"unknown model {name!r}: not a file, not a torchvision classification model{hint}")


def _from_hub(name: str, *, weights: str | None, num_classes: int | None) -> LoadedModel:
    """A Hugging Face hub name (``timm/resnet18.a1_in1k``), loaded through timm (no local file of that name)."""
    timm = _timm()
    hub = name if name.startswith(("hf-hub:", "hf_hub:")) else f"hf-hub:{name}"
    if timm is None:
        raise InputError(
            f"model {name!r}: no such file, and a Hugging Face hub name, which relabel loads through timm; timm is "
            f"not installed (pip install 'relabel[timm]')"
        )
    return _timm_model(timm, hub, weights=weights, num_classes=num_classes)


def _torchvision_weights(name: str, weights: str) -> Any:
    """The weights enum value for ``name``: ``Enum.VALUE``, ``VALUE`` or ``DEFAULT``."""
    from torchvision import models

    enum = models.get_model_weights(name)
    value = weights.split(".", 1)[1] if "." in weights else weights
    prefix = weights.split(".", 1)[0] if "." in weights else enum.__name__
    choices = ["DEFAULT", *(f"{enum.__name__}.{w.name}" for w in enum)]
    if prefix != enum.__name__ or (value != "DEFAULT" and value not in enum.__members__):
        raise InputError(f"model {name!r}: unknown weights {weights!r}; expected one of {choices} or 'none'")
    return enum[value] if value != "DEFAULT" else enum.DEFAULT


def _torchvision_model(name: str, *, weights: str | None, num_classes: int | None) -> LoadedModel:
    from torchvision import models

    if weights is None:
        raise InputError(
            f"model {name!r}: give the weights, e.g. weights='DEFAULT' or a name from "
            f"torchvision.models.get_model_weights({name!r}) (CLI: --weights), or 'none' for random initialisation"
        )
    if weights.lower() == "none":
        kwargs = {} if num_classes is None else {"num_classes": num_classes}
        module = models.get_model(name, weights=None, **kwargs)
        return LoadedModel(module, name, Preprocess(), None, f"torchvision {name} (random weights)")
    enum_value = _torchvision_weights(name, weights)
    categories = enum_value.meta.get("categories")
    if num_classes is not None and categories is not None and num_classes != len(categories):
        raise InputError(f"model {name!r}: weights {enum_value} have {len(categories)} classes, not "
                         f"num_classes={num_classes}")
    try:
        module = models.get_model(name, weights=enum_value)
    except (OSError, RuntimeError) as e:  # URLError is an OSError; a bad download fails its hash check
        from torch.hub import get_dir

        raise InputError(
            f"model {name!r}: cannot load weights {enum_value} from {enum_value.url} ({type(e).__name__}: {e}); "
            f"check the network connection, or put the file in {Path(get_dir()) / 'checkpoints'}"
        ) from None
    preset = enum_value.transforms()
    preprocess = Preprocess(
        resize_size=int(preset.resize_size[0]), crop_size=int(preset.crop_size[0]),
        mean=tuple(preset.mean), std=tuple(preset.std), interpolation=preset.interpolation.value,
    )
    return LoadedModel(module, name, preprocess, tuple(categories) if categories else None,
                       f"torchvision {name} ({enum_value})")


def _timm_model(timm: Any, name: str, *, weights: str | None, num_classes: int | None) -> LoadedModel:
    pretrained = weights is None or weights.lower() != "none"
    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    try:
        module = timm.create_model(name, pretrained=pretrained, **kwargs)
    except (OSError, RuntimeError, ValueError) as e:  # huggingface_hub's offline and not-found errors among them
        raise InputError(f"timm model {name!r}: cannot load it or its pretrained weights ({type(e).__name__}: "
                         f"{str(e)[:300]}); check the name, the network connection or the Hugging Face cache "
                         f"(HF_HUB_OFFLINE=1 reads the cache only)") from None
    config = _timm_data_config(module)
    return LoadedModel(module, name.split("/")[-1], Preprocess.from_timm_config(config), None,
                       f"timm {name}{'' if pretrained else ' (random weights)'}")


def _timm_data_config(module: nn.Module) -> dict[str, Any]:
    """timm's evaluation settings for a model (input size, crop fraction, interpolation, mean, std)."""
    from timm.data import resolve_data_config

    return resolve_data_config({}, model=module)


def _build_arch(arch: str, num_classes: int | None) -> tuple[nn.Module, Preprocess]:
    """An architecture by name with random weights (torchvision first, then timm)."""
    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    if arch in _torchvision_names():
        from torchvision import models

        return models.get_model(arch, weights=None, **kwargs), Preprocess()
    timm = _timm()
    if timm is not None and timm.is_model(arch.removeprefix("timm:")):
        module = timm.create_model(arch.removeprefix("timm:"), pretrained=False, **kwargs)
        return module, Preprocess.from_timm_config(_timm_data_config(module))
    hint = "" if timm is not None else " (timm is not installed: pip install 'relabel[timm]')"
    raise InputError(f"unknown architecture {arch!r}: not a torchvision classification model, nor a timm model{hint}")


# ---------------------------------------------------------------- files


def _from_file(path: Path, *, arch: str | None, num_classes: int | None, trust_program: bool) -> LoadedModel:
    kind = _program_kind(path)
    if kind is not None:
        if arch is not None:
            raise InputError(f"{path}: a {kind} file holds its own architecture; do not give arch= (CLI: --arch)")
        if not trust_program:
            raise InputError(f"{path}: a {kind} file is a program: loading it runs what it holds, which relabel "
                             f"cannot check; {_TRUST_HINT}")
        if kind == "torch.export":
            program = _load_exported_program(path)
            return LoadedModel(program.module(), path.stem, description=f"torch.export file {path}", program=program)
        try:
            with warnings.catch_warnings():  # torch 2.14 deprecates TorchScript; relabel still reads it
                warnings.simplefilter("ignore", FutureWarning)
                module = torch.jit.load(str(path), map_location="cpu")
        except (RuntimeError, ValueError, OSError) as e:
            raise InputError(f"{path}: cannot load the TorchScript program ({type(e).__name__}: "
                             f"{str(e)[:300]})") from None
        return LoadedModel(module, path.stem, description=f"TorchScript file {path}")
    if path.suffix.lower() == ".pt2":
        raise InputError(f"{path}: not a torch.export archive (torch.export.save writes a zip file with models/ "
                         f"and data/ inside)")
    if arch is not None:
        return _from_checkpoint(path, arch, num_classes)
    _read_state_dict(path)  # raises a clear error when the file is no checkpoint at all
    raise InputError(
        f"{path}: holds a state dict (weights only); give the architecture it belongs to, e.g. arch='resnet50' "
        f"(CLI: --arch)"
    )


def _program_kind(path: Path) -> str | None:
    """``"torch.export"`` or ``"TorchScript"`` when the file is such an archive (read from its zip index only)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    inner = {name.split("/", 1)[1] for name in names if "/" in name}
    if any(n.startswith("models/") and n.endswith(".json") for n in inner) or "serialized_exported_program.json" in names:
        return "torch.export"
    if any(n.startswith("code/") for n in inner) and "constants.pkl" in inner:
        return "TorchScript"
    return None


def _load_exported_program(path: Path) -> Any:
    """A ``torch.export`` program, read from one copy of the file's bytes after :func:`_check_program_archive`.

    Every pickle torch would unpickle is first loaded with ``weights_only=True``; torch's own
    reader then finds them loadable that way and never falls back to ``weights_only=False``
    (``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` is set while it reads, as a second guard).
    """
    data = path.read_bytes()
    _check_program_archive(data, path)
    previous = os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        return torch.export.load(io.BytesIO(data))
    except Exception as e:  # torch.export raises many types on a bad file
        raise InputError(f"{path}: cannot load the torch.export program ({type(e).__name__}: "
                         f"{str(e)[:300]})") from None
    finally:
        if previous is None:
            os.environ.pop("TORCH_FORCE_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = previous


def _check_program_archive(data: bytes, path: Path) -> None:
    """Refuse a ``.pt2`` archive whose loading would unpickle with ``weights_only=False`` or load compiled code.

    torch reads the sample inputs (and a legacy archive's weights and constants) with
    ``weights_only=True`` and, when that fails, again with ``weights_only=False``; it unpickles
    weights and tensor constants marked ``use_pickle`` with ``weights_only=False``, opaque-object
    constants with ``pickle.loads`` and custom-object constants with TorchScript's unpickler,
    and loads AOTInductor / ExecuTorch / MTIA shared objects. Each pickle here must load with
    ``weights_only=True``; the others are refused outright.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise InputError(f"{path}: cannot load the torch.export program (not a zip archive: {e})") from None
    with archive:
        names = archive.namelist()

        def inner(name: str) -> str:
            return name.split("/", 1)[1] if "/" in name else name

        compiled = [n for n in names if inner(n).startswith(("data/aotinductor/", "data/executorch/", "data/mtia"))]
        if compiled:
            raise InputError(f"{path}: the archive holds compiled code ({format_offenders(compiled)}); relabel "
                             f"runs exported programs only, never compiled kernels")
        pickles = [n for n in names if inner(n).startswith("data/sample_inputs/")]
        pickles += [n for n in names if n in ("serialized_state_dict.json", "serialized_constants.json",
                                              "serialized_example_inputs.json")]
        pickles += [n for n in names if inner(n).startswith(("data/weights/", "data/constants/")) and
                    inner(n).removeprefix("data/weights/").removeprefix("data/constants/").endswith(".pt")]
        for config_name in [n for n in names if inner(n).startswith(("data/weights/", "data/constants/"))
                            and n.endswith("_config.json")]:
            folder = config_name.rsplit("/", 1)[0]
            try:
                config = json.loads(archive.read(config_name)).get("config", {})
            except (ValueError, AttributeError, RecursionError):
                raise InputError(f"{path}: cannot read {config_name} in the archive") from None
            for fqn, meta in config.items() if isinstance(config, dict) else ():
                file_name = str(meta.get("path_name", "")) if isinstance(meta, dict) else ""
                if file_name.startswith(("opaque_obj_", "custom_obj_")):
                    raise InputError(
                        f"{path}: constant {fqn!r} is a pickled Python object ({file_name}), which torch would "
                        f"unpickle without restriction; relabel refuses it even with --trust-program"
                    )
                if isinstance(meta, dict) and meta.get("use_pickle"):
                    pickles.append(f"{folder}/{file_name}")
        for name in pickles:
            try:
                torch.load(io.BytesIO(archive.read(name)), map_location="cpu", weights_only=True)
            except KeyError:
                raise InputError(f"{path}: the archive names {name}, which it does not hold") from None
            except Exception as e:  # the restricted unpickler refused it, or it is damaged
                raise InputError(
                    f"{path}: {name} in the archive does not load with weights_only=True ({type(e).__name__}: "
                    f"{_first_line(e)}); torch would then unpickle it without restriction, which can run code, so "
                    f"relabel refuses the file even with --trust-program"
                ) from None


def _first_line(error: BaseException) -> str:
    """The line of an unpickling error that names what was refused, else its first line (at most 200 characters)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    line = next((ln for ln in lines if "GLOBAL" in ln or "global" in ln), lines[0] if lines else "")
    return line[:200]


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in a checkpoint: nested under a common key or not, prefixes removed."""
    if path.read_bytes()[:4] == b"PK\x03\x04" and not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a complete PyTorch checkpoint: the zip archive torch.save writes is truncated "
                         f"or damaged (its table of contents is missing)")
    try:
        with torch.serialization.safe_globals(_CHECKPOINT_GLOBALS):
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        line = next((ln.strip() for ln in str(e).splitlines() if "GLOBAL" in ln), "")
        if not line:  # not a pickle of objects at all: name the unpickler's own complaint, not torch's advice
            detail = next((ln.strip() for ln in str(e).splitlines()
                           if ln.strip() and "weights_only" not in ln and "WeightsUnpickler" not in ln), "")
            raise InputError(f"{path}: not a PyTorch checkpoint: torch.load cannot read it as a saved file "
                             f"(damaged, or not made by torch.save{'; ' + detail[:120] if detail else ''})") from None
        raise InputError(
            f"{path}: cannot load: the file holds objects other than tensors, containers and the argparse.Namespace "
            f"of torchvision's and timm's training scripts ({line[:200]}); relabel loads checkpoints with "
            f"weights_only=True, so save model.state_dict(), or a TorchScript / torch.export file"
        ) from None
    except Exception as e:  # torch's unpickler meets damaged bytes with any error (an IndexError from its stack)
        raise InputError(f"{path}: not a PyTorch checkpoint ({type(e).__name__}: {str(e)[:200]})") from None
    state = obj
    for _ in range(3):  # e.g. {"model": {"state_dict": {...}}} is rare, but nested once or twice occurs
        if isinstance(state, Mapping) and not _is_state_dict(state):
            key = next((k for k in _STATE_DICT_KEYS if isinstance(state.get(k), Mapping)), None)
            if key is None:
                break
            state = state[key]
    if not isinstance(state, Mapping) or not _is_state_dict(state):
        found = sorted(map(str, obj)) if isinstance(obj, Mapping) else type(obj).__name__
        raise InputError(
            f"{path}: no state dict found; expected a dict of tensors, possibly under one of "
            f"{list(_STATE_DICT_KEYS)}; found {found}"
        )
    state = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if state and all(k.startswith(prefix) for k in state):
                state = {k[len(prefix):]: v for k, v in state.items()}
                changed = True
    return state


def _without_shared_prefix(state: dict[str, torch.Tensor], own: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The state dict without a first name part that every key shares and the architecture's keys do not.

    Lightning saves a LightningModule's state, so a network held as ``self.model`` or
    ``self.net`` has every key under ``model.`` or ``net.``.
    """
    own_heads = {k.split(".", 1)[0] for k in own}
    while state and all("." in k for k in state):
        heads = {k.split(".", 1)[0] for k in state}
        if len(heads) != 1 or heads <= own_heads:
            break
        state = {k.split(".", 1)[1]: v for k, v in state.items()}
    return state


def _is_state_dict(mapping: Mapping[Any, Any]) -> bool:
    tensors = sum(isinstance(v, torch.Tensor) for v in mapping.values())
    return tensors > 0 and tensors >= len(mapping) / 2


def _classifier_size(module: nn.Module, state: Mapping[str, torch.Tensor]) -> int | None:
    """The class count the checkpoint's classifier has, when it differs from the module's.

    Every mismatching tensor must differ in its first dimension only, all to the same size —
    the signature of a classifier with another class count.
    """
    own = module.state_dict()
    sizes = set()
    for key, value in state.items():
        mine = own.get(key)
        if mine is None or tuple(mine.shape) == tuple(value.shape):
            continue
        if mine.ndim != value.ndim or mine.ndim == 0 or tuple(mine.shape[1:]) != tuple(value.shape[1:]):
            return None
        sizes.add(int(value.shape[0]))
    return sizes.pop() if len(sizes) == 1 else None


def _from_checkpoint(path: Path, arch: str, num_classes: int | None) -> LoadedModel:
    """Build ``arch`` on the meta device (no initialisation cost) and move the checkpoint's tensors in."""
    state = _read_state_dict(path)
    with torch.device("meta"):
        module, preprocess = _build_arch(arch, num_classes)
    state = _without_shared_prefix(state, module.state_dict())
    size = _classifier_size(module, state) if num_classes is None else None
    if size is not None:
        with torch.device("meta"):
            module, preprocess = _build_arch(arch, size)
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(own[k].shape)}"
              for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys ({format_offenders(missing)})")
        if unexpected:
            parts.append(f"unexpected keys ({format_offenders(unexpected)})")
        if shapes:
            parts.append(f"shape mismatches ({format_offenders(shapes)})")
        raise InputError(f"{path}: the state dict does not fit architecture {arch!r}: {'; '.join(parts)}")
    state = {k: v.to(own[k].dtype) for k, v in state.items()}  # as load_state_dict's copy would convert them
    module.load_state_dict(state, assign=True)
    if any(t.is_meta for t in (*module.parameters(), *module.buffers())):  # buffers outside the state dict
        module, preprocess = _build_arch(arch, size or num_classes)
        module.load_state_dict(state)
    return LoadedModel(module, path.stem, preprocess, None, f"checkpoint {path} ({arch})")
