"""The decisions predict() makes for a GPU, run on the CPU: precision, what the device decodes, exported programs."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, features
from torch import nn

from relabel import RelabelWarning
from relabel.inference import load_model, predict
from relabel.inference.decode import device_decodable
from relabel.inference.prediction import _prepare_module, _resolve_precision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_predict import SMALL, tiny_net  # noqa: E402


def test_auto_precision_is_bf16_only_where_the_gpu_computes_in_bf16():
    assert _resolve_precision("auto", "cuda", (9, 0)) == "bf16"  # H100
    assert _resolve_precision("auto", "cuda", (8, 0)) == "bf16"  # A100
    assert _resolve_precision("auto", "cuda", (7, 5)) == "fp16"  # T4: is_bf16_supported() says yes (emulated)
    assert _resolve_precision("auto", "cuda", (7, 0)) == "fp16"  # V100
    assert _resolve_precision("auto", "cpu", None) == "fp32"
    assert _resolve_precision("fp32", "cuda", (9, 0)) == "fp32"
    assert _resolve_precision("bf16", "cpu", None) == "bf16"


def _pixels(seed: int, height: int = 45, width: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * rng.uniform(1, 4), y * rng.uniform(1, 4), (x + y) * rng.uniform(1, 3)], -1) % 256
    return (0.5 * rng.uniform(0, 255, 3) + 0.5 * base).clip(0, 255).astype(np.uint8)


def _encoded(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **kwargs)
    return buffer.getvalue()


def _adobe(jpeg: bytes, transform: int) -> bytes:
    """``jpeg`` with an Adobe APP14 segment after SOI saying how its components are coded (0: RGB, 1: YCbCr)."""
    segment = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00" + bytes([transform])
    return jpeg[:2] + segment + jpeg[2:]


def test_only_plain_jpegs_are_left_to_the_device_decoder():
    rgb = Image.fromarray(_pixels(0))
    jpeg = _encoded(rgb, format="JPEG", quality=90)
    assert device_decodable(jpeg)
    assert device_decodable(_encoded(rgb, format="JPEG", progressive=True))
    assert device_decodable(_encoded(rgb.convert("L"), format="JPEG"))  # grey: nvJPEG gives R = G = B
    assert device_decodable(_encoded(rgb, format="JPEG", icc_profile=b"\0" * 70_000))  # frame header after 64 KB
    assert device_decodable(_adobe(jpeg, transform=1))
    assert not device_decodable(_adobe(jpeg, transform=0))  # RGB-coded, not YCbCr
    assert not device_decodable(_encoded(rgb.convert("CMYK"), format="JPEG"))
    for kwargs in ({"format": "PNG"}, {"format": "BMP"}, {"format": "GIF"}, {"format": "TIFF"}):
        assert not device_decodable(_encoded(rgb, **kwargs))
    assert not device_decodable(jpeg[:40])  # cut before its frame header
    assert not device_decodable(b"\xff\xd8 not really a JPEG")
    assert not device_decodable(b"")


@pytest.fixture
def formats(tmp_path):
    """One image in each format a folder may hold, and the keys of those PIL decodes for decode="device" too."""
    root = tmp_path / "formats"
    root.mkdir()
    rgb = [Image.fromarray(_pixels(seed)) for seed in range(12)]
    files = {
        "a.jpg": (rgb[0], {"format": "JPEG", "quality": 90}),
        "b_grey.jpg": (rgb[1].convert("L"), {"format": "JPEG", "quality": 90}),
        "c_progressive.jpg": (rgb[2], {"format": "JPEG", "progressive": True}),
        "d_cmyk.jpg": (rgb[3].convert("CMYK"), {"format": "JPEG"}),
        "e.png": (rgb[4], {"format": "PNG"}),
        "f_16bit.png": (Image.fromarray(_pixels(5)[..., 0].astype(np.uint16) * 257), {"format": "PNG"}),
        "g_palette.png": (rgb[6].convert("P"), {"format": "PNG"}),
        "h.bmp": (rgb[7], {"format": "BMP"}),
        "i.tiff": (rgb[8], {"format": "TIFF"}),
        "j_animated.gif": (rgb[9], {"format": "GIF", "save_all": True, "append_images": [rgb[10]]}),
    }
    if features.check("webp"):
        files["k.webp"] = (rgb[11], {"format": "WEBP", "lossless": True})
    for name, (image, kwargs) in files.items():
        (root / name).write_bytes(_encoded(image, **kwargs))
    by_pil = [name for name in sorted(files) if not device_decodable((root / name).read_bytes())]
    return root, sorted(files), by_pil


def test_device_decoding_reads_every_format_the_cpu_path_reads(formats):
    """Before, decode="device" found BMP and TIFF files unreadable; a 16-bit PNG or an animated GIF stopped the run."""
    root, keys, by_pil = formats
    assert set(by_pil) == set(keys) - {"a.jpg", "b_grey.jpg", "c_progressive.jpg"}
    net = tiny_net()
    cpu = predict(net, root, preprocess=SMALL, workers=0, batch_size=4, keep_logits=True)
    device = predict(net, root, preprocess=SMALL, workers=2, batch_size=4, keep_logits=True, decode="device")
    assert cpu.images.tolist() == device.images.tolist() == keys
    rows = [keys.index(k) for k in by_pil]
    np.testing.assert_allclose(device.logits[rows], cpu.logits[rows], rtol=0, atol=1e-6)  # the same pixels
    np.testing.assert_allclose(device.topk_scores[:, 0], cpu.topk_scores[:, 0], rtol=0, atol=0.02)


def test_a_batch_of_unreadable_files_only_is_skipped(tmp_path):
    """Before, an empty file stopped the run (torch.frombuffer refuses empty bytes)."""
    root = tmp_path / "val"
    root.mkdir()
    (root / "a_empty.jpg").write_bytes(b"")
    (root / "b_broken.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    (root / "c.png").write_bytes(_encoded(Image.fromarray(_pixels(0)), format="PNG"))
    with pytest.warns(RelabelWarning, match=r"skipped 2 unreadable images \(2 offenders: 'a_empty\.jpg', "
                                            r"'b_broken\.jpg'"):
        run = predict(tiny_net(), root, preprocess=SMALL, workers=0, batch_size=2, decode="device", on_error="skip")
    assert run.images.tolist() == ["c.png"]


class _MakesTensors(nn.Module):
    """A model whose exported graph holds a tensor constant and a tensor made on the export-time device."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 4)
        self.offset = torch.tensor([0.0, 0.5, 1.0, 1.5])  # neither parameter nor buffer: a constant when exported

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.mean((2, 3))) + self.offset + torch.arange(4, device=x.device)


def _has_move_to_device_pass() -> bool:
    try:
        from torch.export.passes import move_to_device_pass  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _has_move_to_device_pass(), reason="torch.export.passes.move_to_device_pass is newer")
def test_an_exported_program_runs_on_another_device():
    """The meta device stands in for CUDA: module.to() left the constant and the arange on the CPU."""
    batch = torch.export.Dim("batch", min=1, max=64)
    program = torch.export.export(_MakesTensors().eval(), (torch.randn(2, 3, 8, 8),), dynamic_shapes=({0: batch},))
    loaded = load_model(program)
    x = torch.randn(2, 3, 8, 8)
    before = loaded.module(x)
    module = _prepare_module(loaded, torch.device("meta"), channels_last=True)
    out = module(torch.randn(5, 3, 8, 8, device="meta"))
    assert out.device.type == "meta" and tuple(out.shape) == (5, 4)
    torch.testing.assert_close(loaded.module(x), before)  # the module taken at loading still runs where it was
