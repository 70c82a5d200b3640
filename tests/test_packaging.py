"""Packaging: every package and data file under relabel/ ships, the version has one source, a source tree imports."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest

import relabel

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "relabel"


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and not p.name.startswith(".") and p.suffix != ".pyc"]


def test_package_discovery_finds_every_package_under_relabel():
    from setuptools import find_packages

    find = _pyproject()["tool"]["setuptools"]["packages"]["find"]
    found = set(find_packages(where=str(ROOT), include=find["include"], exclude=find.get("exclude", ())))
    packages = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")
                if "__pycache__" not in p.parts}
    assert found == packages
    assert {"relabel.cli", "relabel.annotations", "relabel.overrides", "relabel.inference"} <= found
    # a folder of modules without __init__.py would be left out of the wheel silently
    folders = {p.parent for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    assert all((folder / "__init__.py").exists() for folder in folders), sorted(map(str, folders))


def test_every_data_file_under_relabel_is_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]
    unlisted = []
    for path in _files():
        if path.suffix == ".py":
            continue
        package = path.parent
        while not (package / "__init__.py").exists():
            package = package.parent
        name = ".".join(package.relative_to(ROOT).parts)
        relative = path.relative_to(package).as_posix()
        if not any(fnmatch.fnmatch(relative, pattern) for pattern in data.get(name, [])):
            unlisted.append(f"{name}: {relative}")
    assert unlisted == []
    assert {"page.css", "page.js"} <= {p.name for p in (PACKAGE / "report").iterdir()}


def test_the_version_is_written_once():
    config = _pyproject()
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "relabel._version.__version__"}
    from importlib.metadata import version

    assert version("relabel") == relabel.__version__  # the installed metadata came from the same place


def test_an_uninstalled_source_tree_imports_the_cli_and_the_shipped_data():
    """With only the dependencies on the path (no editable install, no .pth files), relabel.cli and
    relabel.annotations are found in the tree itself."""
    deps = [p for p in sys.path if p and (Path(p) / "pandas").is_dir()]
    code = (
        "import sys; sys.path[:0] = sys.argv[1:]\n"
        "import importlib.resources, relabel, relabel.cli.main\n"
        "names = {p.name for p in importlib.resources.files('relabel.annotations').iterdir()}\n"
        "assert 'imagenet1k_classes.tsv' in names, names\n"
        "print(relabel.__file__, relabel.cli.main.__file__, relabel.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code, str(ROOT), *deps], capture_output=True, text=True,
                         check=True, cwd=ROOT / "tests")
    package, cli, version = out.stdout.split()
    assert Path(package) == PACKAGE / "__init__.py" and Path(cli) == PACKAGE / "cli" / "main.py"
    assert version == relabel.__version__
