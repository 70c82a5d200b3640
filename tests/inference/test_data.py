"""Image folders: every real image once, symbolic links followed without loops."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from relabel import InputError
from relabel.inference import open_images


def _images(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (8, 8)).save(folder / f"img{i}.jpg")
    return folder


def test_a_symlink_loop_is_refused(tmp_path):
    _images(tmp_path / "val" / "a")
    os.symlink("..", tmp_path / "val" / "a" / "up")
    with pytest.raises(InputError, match=r"val: a symbolic link loop: .*a/up leads back to .*val, a folder above it"):
        open_images(tmp_path / "val")


def test_linked_folders_and_files_are_read_once_under_their_own_paths(tmp_path):
    _images(tmp_path / "val" / "b")
    os.symlink("b", tmp_path / "val" / "a_alias")  # sorts before b: still b's own keys
    os.symlink("b/img1.jpg", tmp_path / "val" / "copy.jpg")
    os.symlink("missing.jpg", tmp_path / "val" / "broken.jpg")
    _images(tmp_path / "elsewhere", 2)
    os.symlink(tmp_path / "elsewhere", tmp_path / "val" / "linked")  # only reachable through the link: kept
    assert open_images(tmp_path / "val").keys.tolist() == ["b/img0.jpg", "b/img1.jpg", "b/img2.jpg",
                                                           "linked/img0.jpg", "linked/img1.jpg"]


def test_hard_links_are_separate_images(tmp_path):
    folder = _images(tmp_path / "val", 1)
    os.link(folder / "img0.jpg", folder / "img0_again.jpg")
    assert open_images(folder).keys.tolist() == ["img0.jpg", "img0_again.jpg"]
