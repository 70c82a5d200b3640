"""Thumbnails of each affected class's images: `relabel evaluate --report DIR --images ROOT` on files.

Real files throughout: a label space CSV, annotations JSON, run Parquet files and JPEG images
written with Pillow (noise, the worst case for JPEG size), some with hostile names.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image
from test_report_browser import SCRIPT_NAME, _open, _tiny_report, needs_chromium

import relabel
from relabel import Run, RunMeta, write_run
from relabel.cli.main import cli
from relabel.errors import InputError
from relabel.report import write_report
from relabel.report.content import Examples
from relabel.thumbnails import add_thumbnails, thumbnail

HOSTILE_KEY = 'photos/"<img src=x onerror=alert(1)>".jpg'


def _noise(path: Path, seed: int, size: tuple[int, int] = (200, 150)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format="JPEG", quality=90)


def _dataset(root: Path, n_classes: int = 4, n_lost: int = 1, per_class: int = 40, hostile: bool = True):
    """Files for `relabel evaluate`: classes 0..n_lost-1 lose 70% of their images to the next class in 'strong'."""
    names = [SCRIPT_NAME if hostile and c == 0 else f"class {c}" for c in range(n_classes)]
    keys = [f"k{c}" for c in range(n_classes)]
    pd.DataFrame({"key": keys, "name": names}).to_csv(root / "classes.csv", index=False)
    true = np.repeat(np.arange(n_classes), per_class)
    images = [f"photos/img{i}.jpg" for i in range(len(true))]
    if hostile:
        images[1] = HOSTILE_KEY  # an image of class 0, predicted as its partner in 'strong'
    (root / "labels.json").write_text(json.dumps(
        {key: {"original": keys[t], "labels": [keys[t]]} for key, t in zip(images, true)}))
    for i, key in enumerate(images):
        _noise(root / "images" / key, i)
    rng = np.random.default_rng(0)
    runs = []
    for group, strength in (("weak", 0.5), ("strong", 0.08)):
        for seed in range(2):
            pred = true.copy()
            u = rng.random(len(true))
            pred[u < 0.05] = (true[u < 0.05] + 2) % n_classes
            if group == "strong":
                moved = (true < n_lost) & (u >= 0.05) & (u < 0.75)
                pred[moved] = true[moved] + 1
                pred[1] = 1 if hostile else pred[1]
            path = root / f"{group}-{seed}.parquet"
            write_run(Run(RunMeta(f"{group}-{seed}", group, strength, seed), np.array(images, dtype=object),
                          pred[:, None]), path)
            runs.append(path)
    return names, images, runs


def _evaluate(root: Path, runs: list[Path], *extra: str):
    args = ["evaluate", "--annotations", str(root / "labels.json"), "--label-space", str(root / "classes.csv")]
    for path in runs:
        args += ["--run", f"{path.stem}={path}"]
    return CliRunner().invoke(cli, [*args, "--reference", "weak", "--n-bootstrap", "200", *extra])


@pytest.fixture(scope="module")
def thumbs(tmp_path_factory):
    root = tmp_path_factory.mktemp("thumbs")
    names, images, runs = _dataset(root)
    done = _evaluate(root, runs, "--report", str(root / "report"), "--images", str(root / "images"))
    assert done.exit_code == 0, done.output
    return root, names, images


def _card(page: str) -> str:
    return re.search(r'<article class="affected".*?</article>', page, re.S).group(0)


def test_the_card_shows_thumbnails_of_moved_stayed_and_partner_images(thumbs):
    root, _, images = thumbs
    page = (root / "report" / "index.html").read_text(encoding="utf-8")
    card = _card(page)
    kinds = dict(re.findall(r'<div class="thumbs" data-kind="(\w+)">(.*?)</div>', card, re.S))
    assert set(kinds) == {"moved", "stayed", "partner"}
    shown = {k: [html.unescape(x) for x in re.findall(r'<figure class="thumb" data-key="([^"]*)"', v)]
             for k, v in kinds.items()}
    assert len(shown["moved"]) == 6 and len(shown["stayed"]) == 3 and len(shown["partner"]) == 3
    # the moved images are class-0 images that strong-0 predicts as class 1 (its partner), in annotation order
    run = pd.read_parquet(root / "strong-0.parquet")
    top1 = {key: int(ids[0]) for key, ids in zip(run["image"], run["topk_ids"])}
    index = {key: i for i, key in enumerate(images)}
    assert HOSTILE_KEY in shown["moved"]
    assert [index[k] for k in shown["moved"]] == sorted(i for i in range(40) if top1[images[i]] == 1)[:6]
    assert [index[k] for k in shown["stayed"]] == sorted(i for i in range(40) if top1[images[i]] == 0)[:3]
    assert [index[k] for k in shown["partner"]] == sorted(i for i in range(40, 80) if top1[images[i]] == 1)[:3]
    # each thumbnail is a real JPEG of at most 96 pixels a side
    for data in re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', card):
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            assert image.format == "JPEG" and max(image.size) <= 96 and image.size == (96, 72)


def test_hostile_image_paths_and_names_stay_text(thumbs):
    root, _, _ = thumbs
    page = (root / "report" / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert html.escape(HOSTILE_KEY, quote=True) in page
    assert page.count("<script") == 1


def test_without_images_the_keys_are_listed(tmp_path):
    _, images, runs = _dataset(tmp_path)
    done = _evaluate(tmp_path, runs, "--report", str(tmp_path / "report"))
    assert done.exit_code == 0, done.output
    card = _card((tmp_path / "report" / "index.html").read_text(encoding="utf-8"))
    assert '<figure class="thumb"' not in card
    keys = [html.unescape(k) for k in re.findall(r'<code class="thumb-key" data-key="([^"]*)"', card)]
    assert len(keys) == 12 and HOSTILE_KEY in keys and "Give <code>--images ROOT</code>" in card


def test_images_needs_report(tmp_path):
    _, _, runs = _dataset(tmp_path, hostile=False, per_class=10)
    done = _evaluate(tmp_path, runs, "--images", str(tmp_path / "images"))
    assert done.exit_code == 2 and "--images needs --report DIR" in done.output


def test_a_missing_image_is_listed_and_a_bad_one_is_named(tmp_path):
    _, images, runs = _dataset(tmp_path, hostile=False, per_class=20)
    (tmp_path / "images" / images[0]).unlink()
    done = _evaluate(tmp_path, runs, "--report", str(tmp_path / "report"), "--images", str(tmp_path / "images"))
    assert done.exit_code == 0, done.output
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert f'<code class="thumb-key" data-key="{images[0]}">' in page and page.count('<figure class="thumb"') == 11
    (tmp_path / "images" / images[0]).write_text("not an image")
    done = _evaluate(tmp_path, runs, "--report", str(tmp_path / "r2"), "--images", str(tmp_path / "images"))
    assert done.exit_code != 0
    assert f"image {tmp_path / 'images' / images[0]}: cannot be read as an image" in done.output
    with pytest.raises(InputError, match="cannot be read as an image"):
        thumbnail(tmp_path / "images" / images[0])


@pytest.mark.parametrize("key", ["../secret.jpg", "/etc/hostname", "photos/../../secret.jpg"])
def test_keys_that_leave_the_folder_are_refused(tmp_path, key):
    report = _tiny_report()
    (tmp_path / "images").mkdir()
    (tmp_path / "secret.jpg").write_bytes(b"")
    hostile = replace(report, examples={("strong <i>", 0): Examples("run", "plain", (key,), (), ())})
    with pytest.raises(InputError, match=re.escape(f"image key {key!r} leaves the image folder")):
        add_thumbnails(hostile, tmp_path / "images")


def test_a_link_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "images").mkdir()
    _noise(tmp_path / "outside.jpg", 0)
    (tmp_path / "images" / "in.jpg").symlink_to(tmp_path / "outside.jpg")
    report = replace(_tiny_report(), examples={("strong <i>", 0): Examples("run", "plain", ("in.jpg",), (), ())})
    with pytest.raises(InputError, match="image key 'in.jpg' is a link to .*outside.jpg, outside the image folder"):
        add_thumbnails(report, tmp_path / "images")


def test_size_bound_with_thumbnails_for_20_affected_classes(tmp_path):
    """The stated limit (relabel.thumbnails): at most 5 MB for 20 affected classes with thumbnails."""
    _, _, runs = _dataset(tmp_path, n_classes=42, n_lost=40, per_class=20, hostile=False)
    done = _evaluate(tmp_path, runs, "--report", str(tmp_path / "report"), "--images", str(tmp_path / "images"))
    assert done.exit_code == 0, done.output
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    cards = page.count('<article class="affected"')
    assert cards >= 20
    assert page.count('<figure class="thumb"') >= 20 * 12 * 0.9
    assert len(page.encode()) <= 5_000_000, len(page.encode())


@needs_chromium
def test_thumbnails_decode_in_the_browser(thumbs, tmp_path):
    root, _, _ = thumbs
    outcome, console = _open(root / "report" / "index.html", tmp_path / "profile")
    assert console == [] and outcome["ok"], outcome
    assert outcome["scripts"] == 1
    assert len(outcome["images"]) >= 12 + 3 and all(outcome["images"])
    assert outcome["thumbnails"] == 12


# --------------------------------------------------------------------------------------------
# provenance (the same files through the CLI)


def test_the_provenance_names_every_run_file_with_its_digest_and_the_command(thumbs):
    root, _, _ = thumbs
    page = (root / "report" / "index.html").read_text(encoding="utf-8")
    section = re.search(r'<section id="provenance">.*?</section>', page, re.S).group(0)
    for path in sorted(root.glob("*.parquet")):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f"<code>{path}</code></td><td class=num>{path.stat().st_size:,}</td>" in section
        assert f'<code title="{sha}">{sha[:12]}…</code>' in section
    assert f"Made by relabel <b>{relabel.__version__}</b>" in section
    command = html.unescape(re.search(r'<code class="command">(.*?)</code>', section).group(1))
    assert "--images" in command and "--report" in command and str(root / "labels.json") in command
    assert "Label space:" in section and "n_classes <code>4</code>" in section


def test_hostile_run_file_paths_stay_text_in_the_provenance(tmp_path):
    _, _, runs = _dataset(tmp_path, hostile=False, per_class=10)
    hostile = tmp_path / 'run <i>"x"&amp.parquet'
    runs[0].rename(hostile)
    runs[0] = hostile
    done = _evaluate(tmp_path, runs, "--report", str(tmp_path / "report"))
    assert done.exit_code == 0, done.output
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    section = re.search(r'<section id="provenance">.*?</section>', page, re.S).group(0)
    assert "<i>" not in section and html.escape(str(hostile), quote=True) in section


def test_without_a_record_the_provenance_lists_what_the_report_knows(tmp_path):
    report = _tiny_report()
    assert report.provenance is None
    write_report(report, tmp_path)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    section = re.search(r'<section id="provenance">.*?</section>', page, re.S).group(0)
    assert "No provenance record came with these results" in section
    assert section.count("<tr><td>") == 4 and "strong &lt;i&gt;-1" in section and "<i>" not in section
    assert "Label space: hostile, 4 classes." in section
