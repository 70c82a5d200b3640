"""load_model(): torchvision names, checkpoints with an architecture, TorchScript, torch.export; clear errors."""

from __future__ import annotations

import urllib.error

import pytest
import torch
from torch import nn
from torchvision import models

from relabel import InputError
from relabel.inference import LoadedModel, Preprocess, load_model


def small_resnet(num_classes: int = 5) -> nn.Module:
    torch.manual_seed(0)
    return models.resnet18(weights=None, num_classes=num_classes).eval()


def outputs(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return module.eval()(x)


X = torch.randn(2, 3, 32, 32)


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "model", "ddp", "compiled+nested"])
def test_checkpoint_with_architecture(tmp_path, wrap):
    net = small_resnet()
    state = net.state_dict()
    saved = {
        "plain": state,
        "state_dict": {"state_dict": state, "epoch": 90, "best_acc1": torch.tensor(0.7)},
        "model": {"model": state, "optimizer": {"lr": 0.1}},
        "ddp": {"state_dict": {f"module.{k}": v for k, v in state.items()}},
        "compiled+nested": {"model": {"state_dict": {f"module._orig_mod.{k}": v for k, v in state.items()}}},
    }[wrap]
    path = tmp_path / "checkpoint.pth"
    torch.save(saved, path)
    loaded = load_model(path, arch="resnet18")  # 5 classes read from the checkpoint's classifier
    assert loaded.name == "checkpoint" and loaded.preprocess == Preprocess()
    torch.testing.assert_close(outputs(loaded.module, X), outputs(net, X))
    assert loaded.fingerprint() == LoadedModel(net, "x").fingerprint()


def test_checkpoint_errors(tmp_path):
    with pytest.raises(InputError, match=r"model file .*missing\.pth does not exist"):
        load_model(tmp_path / "missing.pth", arch="resnet18")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(InputError, match=r"garbage\.pth: not a PyTorch checkpoint"):
        load_model(garbage, arch="resnet18")
    path = tmp_path / "weights.pth"
    torch.save(small_resnet().state_dict(), path)
    with pytest.raises(InputError, match=r"holds a state dict \(weights only\); give the architecture.*--arch"):
        load_model(path)
    with pytest.raises(InputError, match=r"does not fit architecture 'resnet34': missing keys \(\d+ offenders, first 5: "
                                         r"'layer1\.2\.conv1\.weight'"):
        load_model(path, arch="resnet34")
    with pytest.raises(InputError, match=r"shape mismatches \(2 offenders: 'fc\.weight: checkpoint \(5, 512\), model "
                                         r"\(7, 512\)'"):
        load_model(path, arch="resnet18", num_classes=7)
    with pytest.raises(InputError, match="unknown architecture 'resnet9000'"):
        load_model(path, arch="resnet9000")
    no_tensors = tmp_path / "meta.pth"
    torch.save({"epoch": 3, "args": {"lr": 0.1}}, no_tensors)
    with pytest.raises(InputError, match=r"no state dict found.*found \['args', 'epoch'\]"):
        load_model(no_tensors, arch="resnet18")
    pickled = tmp_path / "pickled.pth"
    torch.save(small_resnet(), pickled)  # a whole pickled module: refused, nothing unpickled runs
    with pytest.raises(InputError, match=r"weights_only=True, so save model\.state_dict\(\)"):
        load_model(pickled, arch="resnet18")


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_torchscript_and_torch_export_files(tmp_path):
    net = small_resnet()
    scripted = tmp_path / "model.pt"
    torch.jit.save(torch.jit.trace(net, X), scripted)
    loaded = load_model(scripted)
    assert loaded.name == "model" and "TorchScript" in loaded.description
    torch.testing.assert_close(outputs(loaded.module, X), outputs(net, X))

    exported = tmp_path / "model.pt2"
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.export.save(torch.export.export(net, (X,), dynamic_shapes=({0: batch},)), exported)
    loaded = load_model(exported)
    torch.testing.assert_close(loaded.module(X), outputs(net, X))
    with pytest.raises(InputError, match="a torch.export file holds its own architecture"):
        load_model(exported, arch="resnet18")
    broken = tmp_path / "broken.pt2"
    broken.write_bytes(b"nope")
    with pytest.raises(InputError, match=r"broken\.pt2: cannot load the torch\.export program"):
        load_model(broken)


def test_torchvision_names_and_weights(monkeypatch):
    loaded = load_model("resnet18", weights="none", num_classes=3)
    assert loaded.module.fc.out_features == 3 and loaded.categories is None
    with pytest.raises(InputError, match=r"give the weights, e\.g\. weights='DEFAULT'.*'none' for random"):
        load_model("resnet18")
    with pytest.raises(InputError, match=r"unknown weights 'IMAGENET1K_V9'; expected one of \['DEFAULT', "
                                         r"'ResNet18_Weights\.IMAGENET1K_V1'\]"):
        load_model("resnet18", weights="IMAGENET1K_V9")
    with pytest.raises(InputError, match=r"unknown model 'resnett50'.*similar torchvision names: \['resnet"):
        load_model("resnett50")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    monkeypatch.setattr("torchvision.models._api.load_state_dict_from_url", offline, raising=False)
    with pytest.raises(InputError, match=r"cannot load weights ResNet50_Weights\.IMAGENET1K_V2 from https://.*"
                                         r"check the network connection, or put the file in"):
        load_model("resnet50", weights="ResNet50_Weights.IMAGENET1K_V2")


def test_weights_preprocessing_is_taken_from_the_weights(monkeypatch):
    """ResNet-50's V2 weights evaluate at resize 232 / crop 224 (torchvision's own preset)."""
    monkeypatch.setattr("torchvision.models._api.WeightsEnum.get_state_dict",
                        lambda self, *a, **k: models.resnet50(weights=None).state_dict())
    loaded = load_model("resnet50", weights="ResNet50_Weights.IMAGENET1K_V2")
    assert loaded.preprocess == Preprocess(resize_size=232, crop_size=224)
    assert loaded.categories is not None and len(loaded.categories) == 1000


def test_preprocess_checks_and_overrides():
    with pytest.raises(InputError, match="crop_size must be a positive integer; found 0"):
        Preprocess(crop_size=0)
    with pytest.raises(InputError, match=r"interpolation must be one of \['bilinear', 'bicubic', 'nearest'\]"):
        Preprocess(interpolation="lanczos")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="std must be positive"):
        Preprocess(std=(0.2, 0.0, 0.2))
    loaded = LoadedModel(nn.Identity(), "id", Preprocess(resize_size=232))
    assert loaded.with_preprocess(crop_size=200, interpolation=None).preprocess == Preprocess(resize_size=232,
                                                                                                crop_size=200)
    timm = Preprocess.from_timm_config({"input_size": (3, 224, 224), "crop_pct": 0.95, "interpolation": "bicubic",
                                        "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)})
    assert timm == Preprocess(235, 224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "bicubic")


def test_timm_names_need_timm():
    pytest.importorskip("torch")
    try:
        import timm  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match=r"timm is not installed \(pip install 'relabel\[timm\]'\)"):
            load_model("vit_base_patch16_224.augreg_in21k")
    else:
        loaded = load_model("resnet18", weights="none")  # torchvision names come first
        assert "torchvision" in loaded.description
