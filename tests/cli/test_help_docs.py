"""docs/cli.md holds the current --help of every command (STYLE rule 9: generated, so it cannot drift)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_docs_cli_md_matches_the_help_texts():
    spec = importlib.util.spec_from_file_location("cli_help", ROOT / "scripts" / "cli_help.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render()
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == expected, (
        "docs/cli.md is out of date: run `python scripts/cli_help.py`"
    )
    for command in ("evaluate", "predict", "report", "demo closed-loop"):
        assert f"## relabel {command}" in expected
