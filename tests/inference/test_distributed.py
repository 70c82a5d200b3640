"""predict() under torchrun: 2 CPU processes (gloo, 127.0.0.1 only) give the same run as 1 process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from relabel import LabelSpace, RelabelWarning, load_run
from relabel.inference import predict, shards_dir

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_predict import SMALL, image_tree, tiny_net  # noqa: E402

SCRIPT = """
import os, sys
sys.path.insert(0, {here!r})
from relabel.inference import predict, shards
from test_predict import SMALL, tiny_net

written = []
write = shards.ShardWriter.__call__

def record(self, result):
    write(self, result)
    written.append(result.shard.index)

shards.ShardWriter.__call__ = record
run = predict(tiny_net(), sys.argv[1], out=sys.argv[2], preprocess=SMALL, workers=int(sys.argv[3]), shard_size=3,
              batch_size=2, keep_logits=True, on_error="skip", name="dist", group="g", seed=1)
print(f"rank {{os.environ['RANK']}} of {{os.environ['WORLD_SIZE']}} wrote {{written}} and returned {{run.n_images}} images",
      flush=True)
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "predict_script.py"
    script.write_text(SCRIPT.format(here=str(HERE)))
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_two_gloo_processes_equal_one_process(tmp_path):
    root = tmp_path / "val"
    keys = image_tree(root, per_class=7)  # 14 images, 5 shards of 3: rank 0 takes 0, 2, 4 and rank 1 takes 1, 3
    (root / "n02" / "broken.jpg").write_bytes(b"not an image")  # shard 2 holds it; skipped on rank 0
    out = tmp_path / "dist.parquet"
    result = _torchrun(tmp_path, str(root), str(out), "1")
    assert result.returncode == 0, result.stdout + result.stderr
    reports = sorted(re.findall(r"rank (\d) of 2 wrote \[([0-9, ]*)\] and returned (\d+) images", result.stdout))
    assert reports == [("0", "0, 2, 4", "14"), ("1", "1, 3", "14")], result.stdout
    assert not shards_dir(out).exists()

    with pytest.warns(RelabelWarning, match=r"skipped 1 unreadable image \(1 offender: 'n02/broken\.jpg'"):
        single = predict(tiny_net(), root, preprocess=SMALL, workers=0, shard_size=3, batch_size=2,
                         keep_logits=True, on_error="skip")
    both = load_run(out, label_space=LabelSpace.from_names(list("abcd")), keep_logits=True)
    assert (both.meta.name, both.meta.group, both.meta.seed) == ("dist", "g", 1)
    assert both.images.tolist() == single.images.tolist() == keys
    np.testing.assert_array_equal(both.topk_ids, single.topk_ids)
    np.testing.assert_allclose(both.topk_scores, single.topk_scores, rtol=0, atol=1e-5)
    np.testing.assert_allclose(both.logits, single.logits, rtol=0, atol=1e-4)
