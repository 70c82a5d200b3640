"""Many models, one pass: the runs equal single predictions bit for bit; cache reuse and refusal; resume; failures."""

from __future__ import annotations

import json
import re
import os
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torchvision import models

from relabel import InputError, RelabelError
from relabel.cli.main import cli
from relabel.inference import LoadedModel, Preprocess, load_model, predict, shards_dir
from relabel.inference.checkpoints import ModelSpec, ModelsFailed, predict_models, read_models
from relabel.inference.stages import STAGES
from relabel.loading.runs import ORIGIN_KEY

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_predict import SMALL, image_tree, tiny_net  # noqa: E402

SETTINGS = {"workers": 0, "shard_size": 5, "batch_size": 4, "keep_logits": True}
CHANGES = {"resize_size": 36, "crop_size": 32}


def _checkpoints(folder: Path, n: int) -> list[Path]:
    """``n`` ResNet-18 state dicts (4 classes) with different random weights."""
    paths = []
    for seed in range(n):
        torch.manual_seed(seed)
        path = folder / f"seed{seed}.pth"
        torch.save(models.resnet18(weights=None, num_classes=4).state_dict(), path)
        paths.append(path)
    return paths


def _same_file(a: Path, b: Path) -> None:
    """Two run files hold the same table bit for bit and the same metadata (but for the measured throughput)."""
    ta, tb = pq.read_table(a), pq.read_table(b)
    assert ta.replace_schema_metadata(None).equals(tb.replace_schema_metadata(None))
    for column in ta.column_names:
        assert ta[column].to_pylist() == tb[column].to_pylist()
    ma, mb = dict(ta.schema.metadata), dict(tb.schema.metadata)
    oa, ob = json.loads(ma.pop(ORIGIN_KEY)), json.loads(mb.pop(ORIGIN_KEY))
    assert ma == mb
    ta_, tb_ = oa.pop("throughput"), ob.pop("throughput")
    assert oa == ob
    for record in (ta_, tb_):
        assert record["bound"] in STAGES and record["images"] > 0 and record["images_per_s"] > 0


@pytest.fixture
def sweep(tmp_path):
    root = tmp_path / "val"
    keys = image_tree(root)
    return tmp_path, root, keys, _checkpoints(tmp_path, 3)


def test_n_models_in_one_pass_equal_n_single_runs_bit_for_bit(sweep):
    tmp_path, root, keys, paths = sweep
    # two preprocessing groups: the checkpoints at 32 px, and a tiny net of its own at 40 px
    other = LoadedModel(tiny_net(), "tiny40", preprocess=Preprocess(resize_size=44, crop_size=40), description="t")
    specs = [ModelSpec(load_model(p, arch="resnet18").with_preprocess(SMALL), name=p.stem, group="g", seed=i)
             for i, p in enumerate(paths)]
    result = predict_models([*specs, ModelSpec(other)], root, out_dir=tmp_path / "runs", **SETTINGS)
    assert set(result.runs) == {"seed0", "seed1", "seed2", "tiny40"} and not result.failed

    for i, path in enumerate(paths):
        single = tmp_path / "single" / f"seed{i}.parquet"
        predict(path, root, arch="resnet18", out=single, preprocess=SMALL, group="g", seed=i, **SETTINGS)
        _same_file(result.runs[f"seed{i}"], single)
    single = tmp_path / "single" / "tiny40.parquet"
    predict(other, root, out=single, **SETTINGS)
    _same_file(result.runs["tiny40"], single)
    assert pq.read_table(single)["image"].to_pylist() == keys
    record = result.throughput["seed0"]
    assert record["decode_pass"]["models"] == 3 and record["images"] == len(keys)


def test_preprocessing_overrides_apply_to_every_model(sweep):
    tmp_path, root, keys, paths = sweep
    result = predict_models([ModelSpec(p, arch="resnet18") for p in paths[:2]], root, out_dir=tmp_path / "runs",
                            preprocess_changes=CHANGES, **SETTINGS)
    single = tmp_path / "one.parquet"
    predict(paths[1], root, arch="resnet18", out=single, preprocess=SMALL, name="seed1", **SETTINGS)
    _same_file(result.runs["seed1"], single)


def test_cache_is_reused_and_refused_when_stale_or_for_another_dataset(sweep):
    tmp_path, root, keys, paths = sweep
    specs = [ModelSpec(p, arch="resnet18") for p in paths[:2]]
    cache = tmp_path / "cache"
    first = predict_models(specs, root, out_dir=tmp_path / "a", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    (entry,) = [p for p in cache.iterdir() if p.name.startswith("decoded-32px-")]
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no leftover of the atomic write

    # a second command reads the cached pixels, not the JPEGs: zeroing the cache changes its predictions
    second = predict_models(specs, root, out_dir=tmp_path / "b", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    _same_file(first.runs["seed0"], second.runs["seed0"])
    pixels = np.load(entry / "images.npy", mmap_mode="r+")
    pixels[:] = 0
    pixels.flush()
    del pixels
    zeroed = predict_models(specs, root, out_dir=tmp_path / "c", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    assert not np.array_equal(pq.read_table(zeroed.runs["seed0"])["topk_scores"].to_pylist(),
                              pq.read_table(first.runs["seed0"])["topk_scores"].to_pylist())
    # another preprocessing gets its own entry: never the 32 px pixels
    other = predict_models(specs[:1], root, out_dir=tmp_path / "d", cache=cache,
                           preprocess_changes={"resize_size": 44, "crop_size": 40}, **SETTINGS)
    single = tmp_path / "single40.parquet"
    predict(paths[0], root, arch="resnet18", out=single, name="seed0", preprocess=Preprocess(44, 40), **SETTINGS)
    _same_file(other.runs["seed0"], single)
    assert len([p for p in cache.iterdir() if p.name.startswith("decoded-")]) == 2

    # an entry whose record was altered is refused, naming the entry and the field
    record = json.loads((entry / "entry.json").read_text())
    (entry / "entry.json").write_text(json.dumps({**record, "decode": "device"}))
    with pytest.raises(InputError, match=r"cache .*decoded-32px-.*: the entry holds other images \(it differs in "
                                         r"decode\)"):
        predict_models(specs, root, out_dir=tmp_path / "e", cache=cache, preprocess_changes=CHANGES, **SETTINGS)

    # a changed file and an added one: refused, naming the folder and the files
    os.utime(root / keys[3], ns=(10**9, 10**9))
    with pytest.raises(InputError, match=rf"cache {cache} does not hold this dataset's images: images changed since "
                                         rf"\(size, modification or change time\): 1 offender: '{keys[3]}'"):
        predict_models(specs, root, out_dir=tmp_path / "f", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    # another dataset
    elsewhere = tmp_path / "val2"
    image_tree(elsewhere, seed=3)
    with pytest.raises(InputError, match=r"it was made for '.*val', not '.*val2'"):
        predict_models(specs, elsewhere, out_dir=tmp_path / "g", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    # a folder that is not a cache
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("mine")
    with pytest.raises(InputError, match=r"cache .*notes: the folder holds files but no cache.json"):
        predict_models(specs, root, out_dir=tmp_path / "h", cache=tmp_path / "notes", preprocess_changes=CHANGES, **SETTINGS)


def _rewrite_keeping_size_and_mtime(path: Path) -> None:
    """Rewrite ``path`` with other bytes of the same size and set its modification time back, as ``cp -p``,
    ``rsync -t`` or unpacking an archive leave a file (its status-change time moves all the same)."""
    info = path.stat()
    data = path.read_bytes()
    path.write_bytes(data[:2] + bytes(255 - b for b in data[2:]))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns


def test_cache_refuses_a_file_rewritten_with_its_modification_time_set_back(sweep, monkeypatch):
    tmp_path, root, keys, paths = sweep
    specs = [ModelSpec(paths[0], arch="resnet18")]
    cache = tmp_path / "cache"
    predict_models(specs, root, out_dir=tmp_path / "a", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    # the same folder by another path (relative, from its parent) is the same dataset
    monkeypatch.chdir(tmp_path)
    again = predict_models(specs, Path("val"), out_dir=tmp_path / "b", cache=cache, preprocess_changes=CHANGES,
                           **SETTINGS)
    _same_file(again.runs["seed0"], tmp_path / "a" / "seed0.parquet")
    _rewrite_keeping_size_and_mtime(root / keys[2])
    with pytest.raises(InputError, match=rf"images changed since \(size, modification or change time\): 1 offender: "
                                         rf"'{keys[2]}'"):
        predict_models(specs, root, out_dir=tmp_path / "c", cache=cache, preprocess_changes=CHANGES, **SETTINGS)


def test_the_half_built_entry_of_a_killed_decode_is_removed_by_the_next_decode(sweep):
    """A decode killed mid-way (kill -9) leaves its hidden staging folder; the next decode into the cache removes
    it, since nobody holds that entry's write lock (the system releases a dead process's), and leaves alone the
    staging folder of a decode that holds its lock (one that is running)."""
    from relabel._atomic import folder_lock

    tmp_path, root, keys, paths = sweep
    cache = tmp_path / "cache"
    specs = [ModelSpec(paths[0], arch="resnet18")]
    predict_models(specs, root, out_dir=tmp_path / "a", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    for label in ("killed", "running"):
        staging = cache / f".decoded-32px-{label}.x1y2_z.new"
        staging.mkdir()
        (staging / "images.npy").write_bytes(b"\0" * 1000)
    with folder_lock(cache / "decoded-32px-running"):  # as a running decode of that entry holds it
        predict_models(specs, root, out_dir=tmp_path / "b", cache=cache, preprocess_changes={"resize_size": 44,
                       "crop_size": 40}, **SETTINGS)  # another preprocessing: a new entry is decoded
        left = sorted(p.name for p in cache.iterdir() if p.name.startswith("."))
        assert left == [".decoded-32px-running.lock", ".decoded-32px-running.x1y2_z.new"]
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith(".")) == [".decoded-32px-running.x1y2_z.new"]


def test_a_finished_model_is_recomputed_when_an_image_changed(sweep):
    """A finished run is kept only while its images are the ones it was made from: after an image is rewritten
    (even with its size and modification time kept) the rerun recomputes it, and it equals a fresh run."""
    tmp_path, root, keys, paths = sweep
    specs = [ModelSpec(p, arch="resnet18") for p in paths[:2]]
    out = tmp_path / "runs"
    predict_models(specs, root, out_dir=out, preprocess_changes=CHANGES, **SETTINGS)
    assert set(predict_models(specs, root, out_dir=out, preprocess_changes=CHANGES, **SETTINGS).finished) == {
        "seed0", "seed1"}
    before = pq.read_table(out / "seed0.parquet")["topk_scores"].to_pylist()
    from PIL import Image

    Image.new("RGB", (40, 30), (0, 0, 0)).save(root / keys[0])  # another picture under the same key
    rerun = predict_models(specs, root, out_dir=out, preprocess_changes=CHANGES, **SETTINGS)
    assert rerun.finished == ()
    fresh = predict_models(specs, root, out_dir=tmp_path / "fresh", preprocess_changes=CHANGES, **SETTINGS)
    _same_file(out / "seed0.parquet", fresh.runs["seed0"])
    assert pq.read_table(out / "seed0.parquet")["topk_scores"].to_pylist() != before
    # rewritten (here with its own bytes, so that it still decodes) and its modification time set back: only the
    # status-change time tells, and the run is recomputed
    info = (root / keys[5]).stat()
    (root / keys[5]).write_bytes((root / keys[5]).read_bytes())
    os.utime(root / keys[5], ns=(info.st_atime_ns, info.st_mtime_ns))
    assert predict_models(specs, root, out_dir=out, preprocess_changes=CHANGES, **SETTINGS).finished == ()


def test_a_cached_unreadable_image_stops_before_any_model_unless_skipped(sweep):
    """An entry decoded by a command that skipped unreadable images holds their errors; a later command that does
    not skip stops on them with a single prediction's message, before any model runs (no model failure)."""
    tmp_path, root, keys, paths = sweep
    (root / "n02" / "broken.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    specs = [ModelSpec(paths[0], arch="resnet18")]
    cache = tmp_path / "cache"
    with pytest.warns(Warning, match="skipped 1 unreadable image"):
        skipped = predict_models(specs, root, out_dir=tmp_path / "a", cache=cache, preprocess_changes=CHANGES,
                                 on_error="skip", **SETTINGS)
    assert skipped.throughput["seed0"]["images"] == len(keys)  # scored images: the unreadable one is not counted
    later = [ModelSpec(paths[1], arch="resnet18")]
    with pytest.raises(InputError, match=r"n02/broken.jpg: cannot read the image .*--on-error skip"):
        predict_models(later, root, out_dir=tmp_path / "b", cache=cache, preprocess_changes=CHANGES, **SETTINGS)
    assert not (tmp_path / "b" / "seed1.parquet").exists()


class _Interrupted(BaseException):
    """Stands for Ctrl-C or a killed job: nothing in relabel catches it."""


class _Counting(nn.Sequential):
    """tiny_net's layers (same state dict, so the same plan), counting forward passes; optionally dying after some."""

    def __init__(self, seed: int, die_after: int | None = None) -> None:
        torch.manual_seed(seed)
        net = tiny_net()
        super().__init__(*net.children())
        self.calls, self.die_after = 0, die_after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.die_after is not None and self.calls == self.die_after:
            raise _Interrupted()
        self.calls += 1
        return super().forward(x)


def _tiny(seed: int, module: nn.Module | None = None) -> LoadedModel:
    return LoadedModel(module if module is not None else _Counting(seed), f"m{seed}", preprocess=SMALL,
                       description=f"tiny seed {seed}")


def test_resume_after_an_interruption_in_the_middle_of_model_k(sweep):
    tmp_path, root, keys, _ = sweep  # 12 images: shards of 5, 5, 2; batches of 4 → 2 + 2 + 1 per model
    out = tmp_path / "runs"
    # model 1 of 3 dies in its fourth batch, after its first shard (two batches) was written
    dying = _Counting(1, die_after=3)
    with pytest.raises(_Interrupted):
        predict_models([_tiny(0), _tiny(1, dying), _tiny(2)], root, out_dir=out, **SETTINGS)
    assert (out / "m0.parquet").is_file() and not (out / "m1.parquet").exists() and not (out / "m2.parquet").exists()
    assert sorted(p.name for p in shards_dir(out / "m1.parquet").glob("shard-*")) == ["shard-00000.parquet"]
    before = (out / "m0.parquet").stat().st_mtime_ns

    models_again = [_tiny(0), _tiny(1), _tiny(2)]
    result = predict_models(models_again, root, out_dir=out, **SETTINGS)
    assert result.finished == ("m0",)
    assert (out / "m0.parquet").stat().st_mtime_ns == before  # not rewritten
    assert [m.module.calls for m in models_again] == [0, 3, 5]  # model 1 redid shards 1 and 2 only
    assert not shards_dir(out / "m1.parquet").exists()
    for seed in range(3):
        single = tmp_path / "single" / f"m{seed}.parquet"
        predict(_tiny(seed), root, out=single, **SETTINGS)
        _same_file(out / f"m{seed}.parquet", single)


def test_a_model_that_fails_is_named_and_the_others_complete(sweep):
    tmp_path, root, keys, paths = sweep
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not a checkpoint")
    specs = [ModelSpec(paths[0], arch="resnet18"), ModelSpec(broken, arch="resnet18"),
             ModelSpec(paths[1], arch="resnet18")]
    with pytest.raises(ModelsFailed, match=r"1 of 3 models failed \(broken: model broken \(.*broken.pth\): cannot "
                                           r"be loaded: .*broken.pth") as caught:
        predict_models(specs, root, out_dir=tmp_path / "runs", preprocess_changes=CHANGES, **SETTINGS)
    assert set(caught.value.predictions.runs) == {"seed0", "seed1"}
    assert (tmp_path / "runs" / "seed1.parquet").is_file()
    with pytest.raises(InputError, match=r"model broken .*: cannot be loaded"):
        predict_models(specs, root, out_dir=tmp_path / "stop", preprocess_changes=CHANGES, fail_fast=True, **SETTINGS)
    assert not (tmp_path / "stop").exists()
    # a model that fails on the images (wrong class count for the label space) is reported too
    with pytest.raises(ModelsFailed, match=r"seed0: model checkpoint .* outputs 4 classes but label space"):
        predict_models(specs[:1], root, out_dir=tmp_path / "space", label_space=list("abc"), preprocess_changes=CHANGES,
                       **SETTINGS)
    with pytest.raises(InputError, match=r"run names must be unique; 1 offender: 'seed0'"):
        predict_models([specs[0], specs[0]], root, out_dir=tmp_path / "twice", **SETTINGS)


def test_models_manifest(tmp_path):
    (tmp_path / "a.pth").write_bytes(b"")
    manifest = tmp_path / "models.csv"
    manifest.write_text("model,name,group,strength,seed,arch\na.pth,a0,rrc-0.08,0.08,0,resnet18\n"
                        "resnet18,r,,,1,\n")
    first, second = read_models(manifest)
    assert (first.model, first.name, first.group, first.strength, first.seed, first.arch) == (
        str(tmp_path / "a.pth"), "a0", "rrc-0.08", 0.08, 0, "resnet18")
    assert (second.model, second.group, second.seed, second.arch) == ("resnet18", None, 1, None)
    manifest.write_text("model,seed,colour\na.pth,0,red\n")
    with pytest.raises(InputError, match=r"models.csv, line 2: unknown fields \['colour'\]; allowed: model, name"):
        read_models(manifest)
    manifest.write_text("model,seed\na.pth,1.5\n")
    with pytest.raises(InputError, match=r"models.csv, line 2: 'seed' must be an integer; found '1.5'"):
        read_models(manifest)
    as_json = tmp_path / "models.json"
    as_json.write_text(json.dumps({"models": [{"model": "a.pth", "num_classes": 0}]}))
    with pytest.raises(InputError, match=r"models.json, models\[0\]: 'num_classes' must be a positive integer"):
        read_models(as_json)
    as_json.write_text(json.dumps([{"model": "a.pth"}, {"model": "x/a.pth"}]))
    with pytest.raises(InputError, match=r"run names must be unique; 1 offender: 'a'"):
        read_models(as_json)


# ---------------------------------------------------------------- the command line


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


CLI_SMALL = ["--resize", 36, "--crop", 32, "--workers", 0, "--shard-size", 5, "--batch-size", 4, "--keep-logits"]


def test_cli_several_models_equal_single_commands_and_resume(sweep):
    tmp_path, root, keys, paths = sweep
    result = _invoke("predict", *paths[:2], root, "--arch", "resnet18", "--out-dir", tmp_path / "runs",
                     "--group", "g", "--cache", tmp_path / "cache", *CLI_SMALL)
    assert result.exit_code == 0, result.output
    assert re.search(r"seed0: 12 images, [0-9.]+ img/s, bound by (decode|copy|model)", result.output)
    for i in range(2):
        single = tmp_path / "single" / f"seed{i}.parquet"
        one = _invoke("predict", paths[i], root, "--arch", "resnet18", "-o", single, "--group", "g", *CLI_SMALL)
        assert one.exit_code == 0, one.output
        _same_file(tmp_path / "runs" / f"seed{i}.parquet", single)
    again = _invoke("predict", *paths[:2], root, "--arch", "resnet18", "--out-dir", tmp_path / "runs",
                    "--group", "g", "--cache", tmp_path / "cache", *CLI_SMALL)
    assert again.exit_code == 0, again.output
    assert "seed0: finished before with the same plan, kept" in again.output


def test_cli_interrupted_in_the_middle_of_model_k_resumes_it(sweep, monkeypatch):
    """Ctrl-C during the second model's second shard: the rerun keeps model 1, finishes model 2 from its shard,
    runs model 3, and every file equals a single relabel predict of its model."""
    from relabel.inference import shards as shards_module

    tmp_path, root, keys, paths = sweep  # 12 images, shards of 5: 3 shards per model
    write = shards_module.ShardWriter.__call__
    written: list[int] = []

    def ctrl_c_at_the_fifth_shard(self, result):
        if len(written) == 4:  # model 1's three shards and model 2's first are on disk
            raise KeyboardInterrupt
        write(self, result)
        written.append(result.shard.index)

    command = ["predict", *paths, root, "--arch", "resnet18", "--out-dir", tmp_path / "runs", "--group", "g",
               *CLI_SMALL]
    monkeypatch.setattr(shards_module.ShardWriter, "__call__", ctrl_c_at_the_fifth_shard)
    stopped = _invoke(*command)
    assert stopped.exit_code != 0
    runs = tmp_path / "runs"
    assert (runs / "seed0.parquet").is_file() and not (runs / "seed1.parquet").exists()
    assert sorted(p.name for p in shards_dir(runs / "seed1.parquet").glob("shard-*")) == ["shard-00000.parquet"]
    before = (runs / "seed0.parquet").stat().st_mtime_ns

    monkeypatch.setattr(shards_module.ShardWriter, "__call__", write)
    again = _invoke(*command)
    assert again.exit_code == 0, again.output
    assert "seed0: finished before with the same plan, kept" in again.output
    assert (runs / "seed0.parquet").stat().st_mtime_ns == before
    assert not shards_dir(runs / "seed1.parquet").exists()
    for i in range(3):
        single = tmp_path / "single" / f"seed{i}.parquet"
        one = _invoke("predict", paths[i], root, "--arch", "resnet18", "-o", single, "--group", "g", *CLI_SMALL)
        assert one.exit_code == 0, one.output
        _same_file(runs / f"seed{i}.parquet", single)


def test_cli_manifest_with_a_broken_checkpoint(sweep):
    tmp_path, root, keys, paths = sweep
    (tmp_path / "broken.pth").write_bytes(b"garbage")
    manifest = tmp_path / "models.csv"
    manifest.write_text("model,name,group,seed,arch\n"
                        + "".join(f"{p.name},s{i},rrc,{i},resnet18\n" for i, p in enumerate(paths[:2]))
                        + "broken.pth,bad,rrc,9,resnet18\n")
    result = _invoke("predict", "--models", manifest, root, "--out-dir", tmp_path / "runs", *CLI_SMALL)
    assert result.exit_code == 1
    assert "bad: FAILED: model bad (" in result.output and "broken.pth): cannot be loaded" in result.output
    assert "Error: 1 of 3 models failed" in result.output
    assert sorted(p.name for p in (tmp_path / "runs").glob("*.parquet")) == ["s0.parquet", "s1.parquet"]
    run = pq.read_table(tmp_path / "runs" / "s1.parquet")
    meta = json.loads(run.schema.metadata[b"relabel"])
    assert meta["seed"] == 1 and meta["group"] == "rrc"

    manifest.write_text("model,name,arch\nbroken.pth,bad,resnet18\n" + f"{paths[0].name},s0,resnet18\n")
    stop = _invoke("predict", "--models", manifest, root, "--out-dir", tmp_path / "stop", "--fail-fast", *CLI_SMALL)
    assert stop.exit_code == 1 and "model bad (" in stop.output
    assert not (tmp_path / "stop" / "s0.parquet").exists()


def test_cli_options_fill_the_fields_a_manifest_entry_leaves_empty(sweep):
    tmp_path, root, keys, paths = sweep
    manifest = tmp_path / "models.csv"
    manifest.write_text(f"model,name,seed\n{paths[0].name},a,3\n{paths[1].name},b,\n")
    result = _invoke("predict", "--models", manifest, root, "--arch", "resnet18", "--seed", 7, "--group", "rrc",
                     "--out-dir", tmp_path / "runs", *CLI_SMALL)
    assert result.exit_code == 0, result.output
    seeds = {name: json.loads(pq.read_table(tmp_path / "runs" / f"{name}.parquet").schema.metadata[b"relabel"])
             for name in ("a", "b")}
    assert (seeds["a"]["seed"], seeds["b"]["seed"]) == (3, 7)  # the entry's own seed wins; the option fills b's
    assert seeds["a"]["group"] == seeds["b"]["group"] == "rrc"
    single = tmp_path / "single.parquet"
    one = _invoke("predict", paths[1], root, "--arch", "resnet18", "-o", single, "--name", "b", "--seed", 7,
                  "--group", "rrc", *CLI_SMALL)
    assert one.exit_code == 0, one.output
    assert re.search(r"b: 12 images, top-4 and logits from .*, [0-9.]+ img/s, bound by (decode|copy|model)",
                     one.output)
    _same_file(tmp_path / "runs" / "b.parquet", single)


def test_cli_every_model_failing_says_no_run_was_written(sweep):
    tmp_path, root, keys, paths = sweep
    (tmp_path / "garbage.pth").write_bytes(np.random.default_rng(0).bytes(512))
    result = _invoke("predict", tmp_path / "garbage.pth", paths[0], root, "--arch", "resnet50", "--out-dir",
                     tmp_path / "runs", *CLI_SMALL)
    assert result.exit_code == 1
    assert "2 of 2 models failed" in result.output and "no run was written" in result.output
    assert "the other runs were written" not in result.output
    # a file of random bytes is not a checkpoint, said without torch's advice to load it unrestricted
    assert "garbage.pth: not a PyTorch checkpoint: torch.load cannot read it" in result.output
    assert "weights_only" not in result.output


def test_cli_usage_errors(sweep):
    tmp_path, root, keys, paths = sweep
    both = _invoke("predict", *paths[:2], root, "--arch", "resnet18", "-o", tmp_path / "x.parquet")
    assert both.exit_code == 2 and "with several models give --out-dir DIR" in both.output
    none = _invoke("predict", *paths[:2], root, "--arch", "resnet18")
    assert none.exit_code == 2 and "need --out-dir DIR" in none.output
    one = _invoke("predict", paths[0], root, "--arch", "resnet18")
    assert one.exit_code == 2 and "-o RUN.parquet" in one.output
    stale = _invoke("predict", paths[0], root, "--arch", "resnet18", "-o", tmp_path / "x.parquet", "--cache",
                    tmp_path / "c")
    assert stale.exit_code == 2 and "--cache is for several models" in stale.output


def test_models_failed_is_a_relabel_error():
    assert issubclass(ModelsFailed, RelabelError)





# ---------------------------------------------------------------- torchrun

TORCHRUN_SCRIPT = """
import os, sys
sys.path.insert(0, {here!r})
from relabel.inference import LoadedModel
from relabel.inference.checkpoints import ModelSpec, predict_models
from test_predict import SMALL, tiny_net

specs = [ModelSpec(LoadedModel(tiny_net(), f"m{{i}}", preprocess=SMALL, description=f"tiny {{i}}"), seed=i)
         for i in range(3)]
for spec, seed in zip(specs, (2, 5, 7)):  # different weights per model
    import torch
    torch.manual_seed(seed)
    for p in spec.model.module.parameters():
        p.data.normal_()
result = predict_models(specs, sys.argv[1], out_dir=sys.argv[2], cache=sys.argv[3], workers=0, shard_size=3,
                        batch_size=2, keep_logits=True, on_error="skip")
print(f"rank {{os.environ['RANK']}} wrote {{sorted(result.runs)}}", flush=True)
"""


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_two_gloo_processes_equal_one_process_for_n_models(tmp_path):
    import subprocess

    from test_distributed import _free_port

    root = tmp_path / "val"
    image_tree(root, per_class=7)  # 14 images, 5 shards of 3: rank 0 takes 0, 2, 4 and rank 1 takes 1, 3
    script = tmp_path / "sweep_script.py"
    script.write_text(TORCHRUN_SCRIPT.format(here=str(Path(__file__).resolve().parent)))
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}

    def launch(nproc: int, out: str, cache: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", str(nproc),
                   "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(script), str(root),
                   str(tmp_path / out), str(tmp_path / cache)]
        return subprocess.run(command, capture_output=True, text=True, timeout=480, env=env, cwd=tmp_path)

    two = launch(2, "two", "cache2")
    assert two.returncode == 0, two.stdout + two.stderr
    assert sorted(re.findall(r"rank (\d) wrote \['m0', 'm1', 'm2'\]", two.stdout)) == ["0", "1"], two.stdout
    one = launch(1, "one", "cache1")
    assert one.returncode == 0, one.stdout + one.stderr
    # each rank decoded (and cached) its own shards only
    entries = sorted(json.loads((p / "entry.json").read_text())["shards"]
                     for p in (tmp_path / "cache2").glob("decoded-*"))
    assert entries == [[[0, 3], [6, 9], [12, 14]], [[3, 6], [9, 12]]]
    for i in range(3):
        _same_file(tmp_path / "two" / f"m{i}.parquet", tmp_path / "one" / f"m{i}.parquet")
    assert not list((tmp_path / "two").glob("*.shards"))
