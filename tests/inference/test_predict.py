"""predict(): folder and HF inputs → runs that match the model run by hand; resume; unreadable images; errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torchvision import transforms as T

from relabel import InputError, LabelSpace, LabelSpaceError, RelabelWarning, load_run
from relabel.inference import Preprocess, open_images, predict, shards_dir
from relabel.inference import shards as shards_module

SMALL = Preprocess(resize_size=36, crop_size=32)


def tiny_net(n_classes: int = 4) -> nn.Module:
    """A small CNN with fixed random weights (seed 2 spreads the test images over all four classes)."""
    torch.manual_seed(2)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(16, elementwise_affine=False), nn.Linear(16, n_classes),
    ).eval()


def jpeg_bytes(rng: np.random.Generator, height: int = 45, width: int = 60) -> bytes:
    """A JPEG of a random colour, a smooth gradient and noise (closer to a photo than pure noise)."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * rng.uniform(1, 4), y * rng.uniform(1, 4), (x + y) * rng.uniform(1, 3)], -1) % 256
    colour = rng.uniform(0, 255, 3)
    pixels = (0.6 * colour + 0.4 * base + rng.normal(0, 12, (height, width, 3))).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def image_tree(root: Path, classes=("n01", "n02"), per_class: int = 6, seed: int = 0) -> list[str]:
    """An ImageFolder tree of JPEGs of varying size; returns the relative keys in sorted order."""
    rng = np.random.default_rng(seed)
    keys = []
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            size = (45, 60) if i % 2 else (60, 40)
            (root / c / f"img_{c}_{i}.jpg").write_bytes(jpeg_bytes(rng, *size))
            keys.append(f"{c}/img_{c}_{i}.jpg")
    return sorted(keys)


def by_hand(net: nn.Module, paths: list[Path], pre: Preprocess, k: int = 4):
    """The model run the way most evaluation scripts do it: PIL, torchvision transforms, fp32."""
    transform = T.Compose([T.Resize(pre.resize_size), T.CenterCrop(pre.crop_size), T.ToTensor(),
                           T.Normalize(pre.mean, pre.std)])
    with torch.no_grad():
        x = torch.stack([transform(Image.open(p).convert("RGB")) for p in paths])
        logits = net(x)
    scores, ids = torch.softmax(logits, 1).topk(k, 1)
    return ids.numpy(), scores.numpy(), logits.numpy()


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "val"
    return root, image_tree(root)


def test_folder_round_trip_matches_the_model_run_by_hand(tree, tmp_path):
    root, keys = tree
    net = tiny_net()
    out = tmp_path / "runs" / "tiny.parquet"
    run = predict(net, root, out=out, preprocess=SMALL, topk=3, keep_logits=True, workers=0, shard_size=5,
                  batch_size=4, name="tiny-0", group="rrc-0.08", strength=0.08, seed=0)
    ids, scores, logits = by_hand(net, [root / k for k in keys], SMALL, k=3)
    assert run.images.tolist() == keys
    np.testing.assert_array_equal(run.topk_ids, ids)
    np.testing.assert_allclose(run.topk_scores, scores, rtol=0, atol=1e-5)
    np.testing.assert_allclose(run.logits, logits, rtol=0, atol=1e-4)
    assert len(set(run.top1.tolist())) > 1  # the images are told apart

    loaded = load_run(out, label_space=LabelSpace.from_names(["a", "b", "c", "d"]), keep_logits=True)
    assert (loaded.meta.name, loaded.meta.group, loaded.meta.strength, loaded.meta.seed) == ("tiny-0", "rrc-0.08", 0.08, 0)
    assert loaded.images.tolist() == keys
    np.testing.assert_array_equal(loaded.topk_ids, ids)
    np.testing.assert_allclose(loaded.logits, logits, rtol=0, atol=1e-4)
    assert not shards_dir(out).exists()


def test_standard_preprocessing_is_resize_256_crop_224(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "flat").mkdir()
    for i in range(3):
        (tmp_path / "flat" / f"ILSVRC2012_val_{i + 1:08d}.JPEG").write_bytes(jpeg_bytes(rng, 300, 400))
    net = tiny_net()
    run = predict(net, tmp_path / "flat", workers=0)
    paths = sorted((tmp_path / "flat").iterdir())
    ids, scores, _ = by_hand(net, paths, Preprocess(), k=4)
    assert run.images.tolist() == [p.name for p in paths]
    np.testing.assert_array_equal(run.topk_ids, ids)
    np.testing.assert_allclose(run.topk_scores, scores, rtol=0, atol=1e-5)


def test_parallel_workers_and_device_decoding_agree(tree):
    root, keys = tree
    net = tiny_net()
    alone = predict(net, root, preprocess=SMALL, workers=0, batch_size=5)
    workers = predict(net, root, preprocess=SMALL, workers=2, batch_size=5)
    device = predict(net, root, preprocess=SMALL, workers=0, batch_size=5, decode="device")
    assert workers.images.tolist() == alone.images.tolist() == device.images.tolist() == keys
    np.testing.assert_array_equal(workers.topk_ids, alone.topk_ids)
    np.testing.assert_allclose(workers.topk_scores, alone.topk_scores, rtol=0, atol=1e-6)
    # decode_jpeg + tensor resize differ from PIL by at most one grey level per pixel
    assert (device.top1 == alone.top1).mean() >= 0.9
    np.testing.assert_allclose(device.topk_scores[:, 0], alone.topk_scores[:, 0], rtol=0, atol=0.02)


def test_bf16_autocast_on_cpu_gives_nearly_the_same_predictions(tree):
    root, _ = tree
    net = tiny_net()
    fp32 = predict(net, root, preprocess=SMALL, workers=0)
    bf16 = predict(net, root, preprocess=SMALL, workers=0, precision="bf16", channels_last=False)
    np.testing.assert_allclose(bf16.topk_scores[:, 0], fp32.topk_scores[:, 0], rtol=0, atol=0.02)


@pytest.mark.filterwarnings("ignore:No complete tensor found:UserWarning")
def test_exported_program_file_predicts_like_the_module(tree, tmp_path):
    root, _ = tree
    net = tiny_net()
    batch = torch.export.Dim("batch", min=1, max=4096)  # the last batch of a shard is smaller
    program = torch.export.export(net, (torch.randn(2, 3, 32, 32),), dynamic_shapes=({0: batch},))
    torch.export.save(program, tmp_path / "tiny.pt2")
    exported = predict(tmp_path / "tiny.pt2", root, preprocess=SMALL, workers=0, batch_size=5, trust_program=True)
    module = predict(net, root, preprocess=SMALL, workers=0, batch_size=5)
    assert exported.meta.name == "tiny"
    np.testing.assert_array_equal(exported.topk_ids, module.topk_ids)
    np.testing.assert_allclose(exported.topk_scores, module.topk_scores, rtol=0, atol=1e-5)

    torch.export.save(torch.export.export(net, (torch.randn(5, 3, 32, 32),)), tmp_path / "fixed.pt2")
    with pytest.raises(InputError, match=r"failed on a batch of shape \(2, 3, 32, 32\) .*dynamic batch dimension"):
        predict(tmp_path / "fixed.pt2", root, preprocess=SMALL, workers=0, batch_size=5,  # 12 = 5 + 5 + 2
                trust_program=True)
    with pytest.raises(InputError, match=r"failed on a batch of shape \(5, 3, 36, 36\) .*preprocessing \(crop 36\)"):
        predict(tmp_path / "fixed.pt2", root, preprocess=Preprocess(36, 36), workers=0, batch_size=5,
                trust_program=True)


class _Interrupted(Exception):
    pass


def _count_images(net: nn.Module) -> list[int]:
    seen: list[int] = []
    net.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[0]))
    return seen


def test_resume_after_an_interruption_equals_an_uninterrupted_run(tree, tmp_path, monkeypatch):
    root, keys = tree
    net = tiny_net()
    whole = predict(net, root, out=tmp_path / "whole.parquet", preprocess=SMALL, workers=0, shard_size=3,
                    keep_logits=True)

    out = tmp_path / "resumed.parquet"
    write = shards_module.ShardWriter.__call__
    written: list[int] = []

    def interrupt_after_two(self, result):
        if len(written) == 2:
            raise _Interrupted("power cut")
        write(self, result)
        written.append(result.shard.index)

    monkeypatch.setattr(shards_module.ShardWriter, "__call__", interrupt_after_two)
    with pytest.raises(_Interrupted):
        predict(net, root, out=out, preprocess=SMALL, workers=0, shard_size=3, keep_logits=True)
    assert not out.exists()  # never a partial final file
    assert sorted(p.name for p in shards_dir(out).iterdir()) == ["plan.json", "shard-00000.parquet",
                                                                 "shard-00001.parquet"]

    monkeypatch.setattr(shards_module.ShardWriter, "__call__", write)
    seen = _count_images(net)
    resumed = predict(net, root, out=out, preprocess=SMALL, workers=0, shard_size=3, keep_logits=True)
    assert sum(seen) == len(keys) - 6  # the two finished shards were not recomputed
    assert resumed.images.tolist() == whole.images.tolist() == keys
    np.testing.assert_array_equal(resumed.topk_ids, whole.topk_ids)
    np.testing.assert_array_equal(resumed.topk_scores, whole.topk_scores)
    np.testing.assert_array_equal(resumed.logits, whole.logits)
    assert not shards_dir(out).exists()
    assert load_run(out, label_space=LabelSpace.from_names(list("abcd"))).images.tolist() == keys


def test_shards_of_another_prediction_are_refused_unless_restarted(tree, tmp_path, monkeypatch):
    root, keys = tree
    net = tiny_net()
    out = tmp_path / "run.parquet"
    monkeypatch.setattr(shards_module.ShardWriter, "__call__", _raise_after_first(shards_module.ShardWriter.__call__))
    with pytest.raises(_Interrupted):
        predict(net, root, out=out, preprocess=SMALL, workers=0, shard_size=4)
    monkeypatch.undo()
    with pytest.raises(InputError, match=r"holds shards of another prediction \(it differs in topk\).*--restart"):
        predict(net, root, out=out, preprocess=SMALL, workers=0, shard_size=4, topk=2)
    assert not out.exists()
    run = predict(net, root, out=out, preprocess=SMALL, workers=0, shard_size=4, topk=2, restart=True)
    assert run.topk_ids.shape == (len(keys), 2)


def _raise_after_first(write):
    def wrapped(self, result):
        write(self, result)
        raise _Interrupted("stop")
    return wrapped


def test_an_unreadable_shard_file_is_recomputed(tree, tmp_path, monkeypatch):
    root, keys = tree
    net = tiny_net()
    out = tmp_path / "run.parquet"
    monkeypatch.setattr(shards_module.ShardWriter, "__call__", _raise_after_first(shards_module.ShardWriter.__call__))
    with pytest.raises(_Interrupted):
        predict(net, root, out=out, preprocess=SMALL, workers=0, shard_size=4)
    monkeypatch.undo()
    (shards_dir(out) / "shard-00000.parquet").write_bytes(b"not parquet")
    seen = _count_images(net)
    run = predict(net, root, out=out, preprocess=SMALL, workers=0, shard_size=4)
    assert sum(seen) == len(keys)
    assert run.images.tolist() == keys


@pytest.fixture
def tree_with_bad_images(tree):
    root, keys = tree
    (root / "n01" / "broken.jpg").write_bytes(b"this is not an image")
    good = (root / keys[0]).read_bytes()
    (root / "n02" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "n02" / "notes.txt").write_text("not an image file name; ignored")
    return root, keys


@pytest.mark.parametrize("decode", ["cpu", "device"])
def test_unreadable_images_fail_by_default_naming_the_file(tree_with_bad_images, tmp_path, decode):
    root, _ = tree_with_bad_images
    out = tmp_path / "run.parquet"
    with pytest.raises(InputError, match=r"n01/broken\.jpg: cannot read the image .*on_error='skip'"):
        predict(tiny_net(), root, out=out, preprocess=SMALL, workers=0, decode=decode)
    assert not out.exists() and not shards_dir(out).exists()


@pytest.mark.parametrize("decode", ["cpu", "device"])
def test_unreadable_images_are_skipped_with_a_warning_and_a_count(tree_with_bad_images, decode):
    root, keys = tree_with_bad_images
    net = tiny_net()
    with pytest.warns(RelabelWarning, match=r"skipped 2 unreadable images \(2 offenders: 'n01/broken\.jpg', "
                                            r"'n02/truncated\.jpg'"):
        run = predict(net, root, preprocess=SMALL, workers=0, batch_size=4, on_error="skip", decode=decode)
    assert run.images.tolist() == keys
    if decode == "cpu":  # the readable images' predictions are unchanged by their broken neighbours
        ids, _, _ = by_hand(net, [root / k for k in keys], SMALL)
        np.testing.assert_array_equal(run.topk_ids, ids)


def test_skipped_images_are_counted_across_a_resume(tree_with_bad_images, tmp_path, monkeypatch):
    root, keys = tree_with_bad_images
    out = tmp_path / "run.parquet"
    monkeypatch.setattr(shards_module.ShardWriter, "__call__", _raise_after_first(shards_module.ShardWriter.__call__))
    with pytest.raises(_Interrupted):  # the first shard holds n01/broken.jpg
        predict(tiny_net(), root, out=out, preprocess=SMALL, workers=0, on_error="skip", shard_size=4)
    monkeypatch.undo()
    with pytest.warns(RelabelWarning, match="skipped 2 unreadable images"):
        run = predict(tiny_net(), root, out=out, preprocess=SMALL, workers=0, on_error="skip", shard_size=4)
    assert run.images.tolist() == keys


def test_output_size_must_match_the_label_space(tree, tmp_path):
    root, _ = tree
    out = tmp_path / "run.parquet"
    space = LabelSpace.from_names(["laptop", "notebook", "desk"], name="office")
    with pytest.raises(LabelSpaceError, match=r"outputs 4 classes but label space 'office' has 3"):
        predict(tiny_net(4), root, out=out, label_space=space, preprocess=SMALL, workers=0)
    assert not out.exists() and not shards_dir(out).exists()
    run = predict(tiny_net(3), root, label_space=space, preprocess=SMALL, workers=0, topk=5)
    assert run.topk_ids.shape[1] == 3  # top-k is capped at the class count


def test_hf_dataset_saved_to_disk_and_in_memory(tree, tmp_path):
    import datasets as hf

    root, keys = tree
    files = [root / k for k in keys]
    features = hf.Features(image=hf.Image(), label=hf.ClassLabel(names=["n01", "n02"]))
    dataset = hf.Dataset.from_dict({"image": [str(p) for p in files], "label": [k.startswith("n02") for k in keys]},
                                   features=features)
    dataset.save_to_disk(str(tmp_path / "hf"))
    net = tiny_net()
    folder = predict(net, root, preprocess=SMALL, workers=0)
    saved = predict(net, tmp_path / "hf", preprocess=SMALL, workers=2)
    assert saved.images.tolist() == [Path(k).name for k in keys]  # the file names stored with the images
    np.testing.assert_array_equal(saved.topk_ids, folder.topk_ids)
    np.testing.assert_allclose(saved.topk_scores, folder.topk_scores, rtol=0, atol=1e-6)

    shuffled = hf.DatasetDict({"validation": dataset.add_column("file_name", [f"k{i}" for i in range(len(keys))])
                               .select(range(len(keys) - 1, -1, -1))})
    in_memory = predict(net, shuffled, preprocess=SMALL, workers=0, key_column="file_name")
    assert in_memory.images.tolist() == [f"k{i}" for i in range(len(keys) - 1, -1, -1)]
    np.testing.assert_array_equal(in_memory.topk_ids, folder.topk_ids[::-1])


def test_hf_dataset_errors(tmp_path):
    import datasets as hf

    rng = np.random.default_rng(0)
    images = [Image.open(io.BytesIO(jpeg_bytes(rng))) for _ in range(2)]
    no_names = hf.Dataset.from_dict({"image": images}, features=hf.Features(image=hf.Image()))
    with pytest.raises(InputError, match=r"images without a file name at rows .*key_column="):
        open_images(no_names)
    twice = hf.Dataset.from_dict({"image": images, "key": ["a", "a"]},
                                 features=hf.Features(image=hf.Image(), key=hf.Value("string")))
    with pytest.raises(InputError, match=r"column 'key': image keys must be unique; 1 offender: 'a'"):
        open_images(twice)
    splits = hf.DatasetDict({"train": twice, "validation": twice})
    with pytest.raises(InputError, match=r"several splits \['train', 'validation'\]; choose one with split="):
        open_images(splits)
    with pytest.raises(InputError, match=r"no split 'test'"):
        open_images(splits, split="test")
    with pytest.raises(InputError, match="expected one Image column, found none"):
        open_images(hf.Dataset.from_dict({"key": ["a"]}))


def test_folder_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    with pytest.raises(InputError, match=r"empty: no image files"):
        open_images(tmp_path / "empty")
    with pytest.raises(InputError, match="split, image_column and key_column are for HF datasets"):
        open_images(tmp_path / "empty", split="val")


def test_option_errors(tree):
    root, _ = tree
    with pytest.raises(InputError, match=r"topk must be an integer >= 1; found 0"):
        predict(tiny_net(), root, topk=0)
    with pytest.raises(InputError, match=r"decode must be one of \['cpu', 'device'\]; found 'gpu'"):
        predict(tiny_net(), root, decode="gpu")
    with pytest.raises(InputError, match=r"'seed' must be an integer; found 1.5"):
        predict(tiny_net(), root, seed=1.5)
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA is not available here"):
            predict(tiny_net(), root, device="cuda")
