"""Hostile model files for tests: real archives and pickles whose payload, if ever run, creates a marker file."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn


class Payload:
    """Unpickled without restriction, it creates ``marker`` (what an attacker's code would do first)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def evil_program(path: Path, marker: Path, where: str) -> Path:
    """A real torch.export archive with a ``__reduce__`` payload hidden in its sample inputs, a weight or a constant.

    Each is a place torch.export.load unpickles without restriction (checked by
    test_the_payloads_run_when_torch_loads_them).
    """
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).eval()
    batch = torch.export.Dim("batch", min=1, max=64)
    clean = path.with_name(path.stem + ".clean.pt2")
    torch.export.save(torch.export.export(net, (torch.randn(2, 3, 2, 2),), dynamic_shapes=({0: batch},)), clean)
    with zipfile.ZipFile(clean) as archive:
        files = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    root = next(iter(files)).split("/")[0]
    if where == "sample inputs":
        files[f"{root}/data/sample_inputs/model.pt"] = saved(((Payload(marker),), {}))
    elif where == "weight":
        name = f"{root}/data/weights/model_weights_config.json"
        config = json.loads(files[name])
        meta = next(iter(config["config"].values()))
        meta["use_pickle"] = True
        files[name] = json.dumps(config).encode()
        files[f"{root}/data/weights/{meta['path_name']}"] = saved(Payload(marker))
    else:  # an opaque-object constant, which torch reads with pickle.loads
        name = f"{root}/data/constants/model_constants_config.json"
        config = json.loads(files[name])
        config["config"]["evil"] = {"path_name": "opaque_obj_0", "is_param": False, "use_pickle": True,
                                    "tensor_meta": None}
        files[name] = json.dumps(config).encode()
        files[f"{root}/data/constants/opaque_obj_0"] = pickle.dumps(Payload(marker))
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    clean.unlink()
    return path


