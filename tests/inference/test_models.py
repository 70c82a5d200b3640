"""load_model(): torchvision names, checkpoints with an architecture, TorchScript, torch.export; clear errors."""

from __future__ import annotations

import argparse
import contextlib
import urllib.error

import pytest
import torch
from torch import nn
from torchvision import models

from hostile_files import Payload, evil_program

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
    with pytest.raises(InputError, match=r"model\.pt: a TorchScript file is a program: loading it runs what it holds.*"
                                         r"--trust-program \(Python: trust_program=True\)"):
        load_model(scripted)
    loaded = load_model(scripted, trust_program=True)
    assert loaded.name == "model" and "TorchScript" in loaded.description
    torch.testing.assert_close(outputs(loaded.module, X), outputs(net, X))

    exported = tmp_path / "model.pt2"
    batch = torch.export.Dim("batch", min=1, max=1024)
    torch.export.save(torch.export.export(net, (X,), dynamic_shapes=({0: batch},)), exported)
    with pytest.raises(InputError, match=r"model\.pt2: a torch\.export file is a program"):
        load_model(exported)
    loaded = load_model(exported, trust_program=True)
    torch.testing.assert_close(loaded.module(X), outputs(net, X))
    with pytest.raises(InputError, match="a torch.export file holds its own architecture"):
        load_model(exported, arch="resnet18")
    broken = tmp_path / "broken.pt2"
    broken.write_bytes(b"nope")
    with pytest.raises(InputError, match=r"broken\.pt2: not a torch\.export archive"):
        load_model(broken, trust_program=True)


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


# ---------------------------------------------------------------- hostile model files


PAYLOAD_PLACES = ["sample inputs", "weight", "constant"]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("where", PAYLOAD_PLACES)
def test_the_payloads_run_when_torch_loads_them(tmp_path, where):
    """The hostile files are real: torch.export.load itself runs them (why relabel must not call it blindly)."""
    marker = tmp_path / "marker"
    path = evil_program(tmp_path / "evil.pt2", marker, where)
    with contextlib.suppress(Exception):
        torch.export.load(path)
    assert marker.exists()


@pytest.mark.parametrize("where", PAYLOAD_PLACES)
def test_program_payloads_never_run(tmp_path, where):
    marker = tmp_path / "marker"
    path = evil_program(tmp_path / "evil.pt2", marker, where)
    with pytest.raises(InputError, match=r"evil\.pt2: a torch\.export file is a program.*--trust-program"):
        load_model(path)
    with pytest.raises(InputError, match=r"evil\.pt2: .*(does not load with weights_only=True|pickled Python object)"
                                         r".*refuses .*even with --trust-program"):
        load_model(path, trust_program=True)
    assert not marker.exists()


def _torchvision_recipe_args() -> argparse.Namespace:
    """The args torchvision's references/classification/train.py stores (its parser's fields, after init_distributed_mode)."""
    return argparse.Namespace(
        data_path="/datasets01/imagenet_full_size/061417/", model="resnet18", device="cuda", batch_size=32, epochs=90,
        workers=16, opt="sgd", lr=0.1, momentum=0.9, weight_decay=1e-4, norm_weight_decay=None, label_smoothing=0.0,
        mixup_alpha=0.0, cutmix_alpha=0.0, lr_scheduler="steplr", lr_warmup_epochs=0, lr_step_size=30, lr_gamma=0.1,
        print_freq=10, output_dir="ckpt", resume="", start_epoch=0, auto_augment=None, ra_magnitude=9,
        augmix_severity=3, random_erase=0.0, amp=False, world_size=8, dist_url="env://", model_ema=False,
        model_ema_steps=32, model_ema_decay=0.99998, use_deterministic_algorithms=False, interpolation="bilinear",
        val_resize_size=256, val_crop_size=224, train_crop_size=224, clip_grad_norm=None, ra_sampler=False,
        ra_reps=3, weights=None, backend="PIL", use_v2=False, rank=0, gpu=0, distributed=True, dist_backend="nccl",
    )


def test_trainer_checkpoints_with_argparse_namespace(tmp_path):
    """torchvision's train.py and timm's train.py save their args (an argparse.Namespace) beside the weights."""
    net = small_resnet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
    torchvision_style = tmp_path / "model_89.pth"
    torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "lr_scheduler": scheduler.state_dict(),
                "epoch": 89, "args": _torchvision_recipe_args()}, torchvision_style)
    timm_style = tmp_path / "checkpoint-299.pth.tar"
    torch.save({"epoch": 299, "arch": "resnet18", "state_dict": net.state_dict(), "optimizer": optimizer.state_dict(),
                "version": 2, "args": argparse.Namespace(model="resnet18", model_kwargs={}, mean=None, lr=0.5,
                                                         sched="cosine", aa="rand-m7-mstd0.5-inc1"),
                "state_dict_ema": net.state_dict(), "metric": 71.2,
                "saver": {"checkpoint_files": [("checkpoint-299.pth.tar", 71.2)]}}, timm_style)
    for path in (torchvision_style, timm_style):
        loaded = load_model(path, arch="resnet18")
        torch.testing.assert_close(outputs(loaded.module, X), outputs(net, X))


def test_a_namespace_holding_a_payload_is_still_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "model_89.pth"
    torch.save({"model": small_resnet().state_dict(), "args": argparse.Namespace(lr=0.1, evil=Payload(marker))}, path)
    with pytest.raises(InputError, match=r"model_89\.pth: cannot load: the file holds objects other than tensors.*"
                                         r"GLOBAL io\.open"):
        load_model(path, arch="resnet18")
    assert not marker.exists()


@pytest.mark.parametrize("prefix", ["model.", "net.", "model.module."])
def test_lightning_checkpoint_prefix_shared_by_every_key_is_removed(tmp_path, prefix):
    net = small_resnet()
    path = tmp_path / "epoch=9-step=100.ckpt"
    torch.save({"epoch": 9, "global_step": 100, "pytorch-lightning_version": "2.4.0",
                "state_dict": {prefix + k: v for k, v in net.state_dict().items()},
                "optimizer_states": [], "lr_schedulers": []}, path)
    loaded = load_model(path, arch="resnet18")
    torch.testing.assert_close(outputs(loaded.module, X), outputs(net, X))


def test_truncated_checkpoint_is_named(tmp_path):
    path = tmp_path / "cut.pth"
    torch.save(small_resnet().state_dict(), path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(InputError, match=r"cut\.pth: not a complete PyTorch checkpoint: the zip archive"):
        load_model(path, arch="resnet18")


def test_files_of_random_bytes_are_named_as_not_checkpoints(tmp_path):
    """torch's restricted unpickler meets damaged bytes with whatever error its stack gives (an IndexError for some):
    every one is the same named error, never a traceback; 64 seeded files of random bytes, and some that start as a
    pickle does."""
    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path / "noise.pth"
    for i in range(64):
        head = b"\x80\x02" if i % 2 else b""  # half of them pass the pickle protocol check
        path.write_bytes(head + rng.bytes(int(rng.integers(1, 2000))))
        with pytest.raises(InputError, match=r"noise\.pth: (not a PyTorch checkpoint|cannot load)"):
            load_model(path, arch="resnet18")


class _OfflineTimm:
    """Stands in for timm where it is not installed: records the name and fails as an offline hub download does."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def is_model(self, name: str) -> bool:
        return False

    def create_model(self, name: str, pretrained: bool, **kwargs):
        self.created.append(name)
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find them in "
                      "the cached files.")


def test_hub_names_are_routed_to_timm_not_taken_for_paths(monkeypatch):
    from relabel.inference import models as models_module

    fake = _OfflineTimm()
    monkeypatch.setattr(models_module, "_timm", lambda: fake)
    with pytest.raises(InputError, match=r"timm model 'hf-hub:timm/resnet18\.a1_in1k': cannot load it.*couldn't "
                                         r"connect.*HF_HUB_OFFLINE"):
        load_model("timm/resnet18.a1_in1k")
    assert fake.created == ["hf-hub:timm/resnet18.a1_in1k"]
    with pytest.raises(InputError, match=r"model file ckpt/seed0\.pth does not exist"):
        load_model("ckpt/seed0.pth", arch="resnet18")
    monkeypatch.setattr(models_module, "_timm", lambda: None)
    with pytest.raises(InputError, match=r"'timm/resnet18\.a1_in1k': no such file, and a Hugging Face hub name.*"
                                         r"pip install 'relabel\[timm\]'"):
        load_model("timm/resnet18.a1_in1k")
