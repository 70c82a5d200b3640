"""The public surface: everything in __all__ exists, and the README's examples name real things."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import relabel


def test_all_names_exist():
    missing = [name for name in relabel.__all__ if not hasattr(relabel, name)]
    assert missing == []


def test_readme_python_calls_are_public():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    called = set(re.findall(r"relabel\.([a-z_]+)\(", readme))
    assert called, "the README shows no relabel.* calls"
    assert called <= set(relabel.__all__), called - set(relabel.__all__)


def test_shipped_data_is_found_through_importlib_resources():
    from importlib import resources

    files = {p.name for p in resources.files("relabel.annotations").iterdir()}
    assert {"imagenet1k_classes.tsv", "imagenet1k_hierarchy.tsv", "sources.json"} <= files
    assert len(relabel.imagenet_1k()) == 1000


def test_the_cli_starts_without_torch_or_scipy_stats():
    """`relabel --help` stays quick: torch and scipy.stats (most of a second each) load when used."""
    code = "import sys, relabel, relabel.cli.main; print(sorted({'torch', 'scipy.stats'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
