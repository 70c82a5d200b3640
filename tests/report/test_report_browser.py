"""The page in a real browser (headless Debian Chromium), and user-given names that must stay text.

The browser tests open ``index.html?selftest=1`` with ``--dump-dom``: the page's own script
clicks table headers, filters, and writes what it saw into ``<pre id="selftest">``. Every
console message (uncaught errors, CSP violations, failed loads) reaches Chromium's stderr as a
``CONSOLE`` log line with ``--enable-logging=stderr``; the page must log none. They are skipped
when ``chromium`` is absent; ``.ci/run`` installs it, so they run in CI.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import relabel
from relabel import Annotations, LabelSpace, Run, RunMeta
from relabel.report import build_report, write_report
from relabel.report.content import affected_classes

SCRIPT_NAME = "<script>alert(1)</script>"
NAMES = (SCRIPT_NAME, "plain", "a|b *c* [d](e)", "$x^2$ & <b>co</b>")
KEYS = ("k0", "k<1>\"'", "k|2", "k$3")
GROUP = "strong <i>"

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it so CI runs this test",
)


def _tiny_report() -> relabel.report.Report:
    """Four classes with hostile names; class 0 loses 70% of its images to class 1 under GROUP."""
    space = LabelSpace(keys=KEYS, names=NAMES, name="hostile")
    per_class = 100
    true = np.repeat(np.arange(4), per_class)
    images = np.array([f"img{i}.jpg" for i in range(len(true))], dtype=object)
    annotations = Annotations.from_lists(list(images), true.tolist(), [[int(t)] for t in true], label_space=space)
    rng = np.random.default_rng(0)
    runs = []
    for group, strength in (("weak", 0.5), (GROUP, 0.08)):
        for seed in range(2):
            pred = true.copy()
            u = rng.random(len(true))
            pred[u < 0.08] = (true[u < 0.08] + 1) % 4  # 8% errors everywhere
            if group == GROUP:
                moved = (true == 0) & (u >= 0.08) & (u < 0.78)
                pred[moved] = 1
            runs.append(Run(RunMeta(f"{group}-{seed}", group, strength, seed), images, pred[:, None]))
    evaluations = [relabel.evaluate(relabel.pair(run, annotations)) for run in runs]
    comparison = relabel.compare(evaluations, reference="weak", n_bootstrap=200, seed=0)
    categorisation = relabel.categorise(comparison, annotations, hierarchy=None)
    augmentations = {"weak": {"random_resized_crop": {"scale": [0.5, 1.0]}},
                     GROUP: {"random_resized_crop": {"scale": [0.08, 1.0]}}}
    recommendation = relabel.recommend(comparison, categorisation, augmentations=augmentations)
    return build_report(evaluations, comparison, categorisation, recommendation, title=f"classes like {SCRIPT_NAME}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    report = _tiny_report()
    out = tmp_path_factory.mktemp("tiny-report")
    return report, out, write_report(report, out)


@pytest.fixture(scope="module")
def demo_page(real_annotations, tmp_path_factory):
    simulated = relabel.simulate_runs(real_annotations, seed=0)
    evaluations = [relabel.evaluate(relabel.pair(run, real_annotations)) for run in simulated.runs]
    comparison = relabel.compare(evaluations, reference="rrc-0.5", n_bootstrap=300, seed=0)
    categorisation = relabel.categorise(comparison, real_annotations)
    recommendation = relabel.recommend(comparison, categorisation, augmentations=simulated.augmentations)
    out = tmp_path_factory.mktemp("demo-page")
    write_report(build_report(evaluations, comparison, categorisation, recommendation, simulated=True), out)
    return out / "index.html"


# --------------------------------------------------------------------------------------------
# names are text (no browser needed)


def test_the_tiny_report_has_the_script_class_affected(tiny):
    report, _, _ = tiny
    assert [a.class_name for a in affected_classes(report)] == [SCRIPT_NAME]
    assert report.overrides is not None and len(report.overrides.overrides) == 1


def test_html_escapes_every_user_given_name(tiny):
    _, out, _ = tiny
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<script") == 1  # the page's own script, nothing from a class name
    assert SCRIPT_NAME not in page and "<b>co</b>" not in page and "<i>" not in page
    for text in (*NAMES, *KEYS, GROUP):
        assert html.escape(text, quote=True) in page, text
    assert "<title>classes like &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page


def test_markdown_escapes_every_user_given_name(tiny):
    _, out, _ = tiny
    text = (out / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>" not in text and "<i>" not in text
    assert "| &lt;script&gt;alert(1)&lt;/script&gt; |" in text
    assert "strong &lt;i&gt;" in text
    # within each table, every row has as many cell separators as the header: no name splits a cell
    tables: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert len(tables) == 2
    for table in tables:
        assert len({len(re.findall(r"(?<!\\)\|", row)) for row in table}) == 1, table


def test_markdown_escaping():
    from relabel.report.markdown import md

    assert md("a|b *c* [d](e) `x` _y_ ~z~ #w") == r"a\|b \*c\* \[d\](e) \`x\` \_y\_ \~z\~ \#w"
    assert md(SCRIPT_NAME) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert md("two\nlines") == "two lines"
    assert md("a\rb\u202ec\x1b[2J") == r"a\\rb\\u202ec\\x1b\[2J"  # no bare \r, bidi override or escape sequence


def test_figures_draw_names_as_text_and_file_names_are_safe(tiny):
    report, out, written = tiny
    names = sorted(p.name for p in written if p.suffix == ".png")
    assert names == ["curves.png", "flows-1-0.png", "scatter-1-strong-i.png"]
    assert all(re.fullmatch(r"[A-Za-z0-9.-]+", n) for n in names)
    from relabel.report.figures import _text

    assert _text("$x^2$ & co") == r"\$x^2\$ & co"  # no maths mode: shown as typed


# --------------------------------------------------------------------------------------------
# in the browser


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _open(page: Path, profile: Path) -> tuple[dict, list[str]]:
    """The page's self-test outcome and every console message Chromium logged."""
    done = _chromium(profile, "--virtual-time-budget=5000", "--dump-dom", page.as_uri() + "?selftest=1")
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    found = re.search(r'<pre id="selftest"[^>]*>(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1), f"the self-test wrote nothing; console: {console}"
    return json.loads(html.unescape(found.group(1))), console


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_demo_page_has_no_console_errors_and_its_table_sorts(demo_page, tmp_path):
    outcome, console = _open(demo_page, tmp_path / "profile")
    assert console == []
    assert outcome["ok"], outcome
    assert outcome["checks"] == {"scatter_identifies": True, "first_click_sorts": True, "second_click_reverses": True,
                                 "text_sorts": True,
                                 "filter_narrows": True, "filter_clears": True}
    assert outcome["rows"] == 1000
    # the table starts sorted by the drop (worst first); the first click reverses it, the second restores it
    assert outcome["first_click"] == "descending" and outcome["top_after_second_click"] == "stage"
    assert outcome["first_by_name"] == "abacus"
    assert outcome["images"] == [True] * 9  # every embedded figure decoded
    assert outcome["scripts"] == 1


@needs_chromium
def test_demo_page_screenshot(demo_page, tmp_path):
    shot = tmp_path / "report.png"
    done = _chromium(tmp_path / "profile", "--hide-scrollbars", "--window-size=1280,1600", f"--screenshot={shot}",
                     demo_page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line for line in done.stderr.splitlines() if ":CONSOLE" in line] == []
    assert _png_size(shot.read_bytes()) == (1280, 1600)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one


@needs_chromium
def test_script_class_name_is_shown_as_text_in_the_browser(tiny, tmp_path):
    _, out, _ = tiny
    outcome, console = _open(out / "index.html", tmp_path / "profile")
    assert console == []  # alert() never ran, nothing was blocked
    assert outcome["ok"], outcome
    assert outcome["scripts"] == 1
    assert outcome["top_after_second_click"] == SCRIPT_NAME  # the class cell's text is the name itself


def _plain_report(tmp_path: Path) -> Path:
    """Three groups without strengths, no multi-labels: class 0 ('cat') loses half its images to 'dog' in b."""
    space = LabelSpace.from_names(["cat", "dog", "bird", "fish"])
    true = np.repeat(np.arange(4), 100)
    images = np.array([f"i{i}.jpg" for i in range(len(true))], dtype=object)
    annotations = Annotations.from_lists(list(images), true.tolist(), None, label_space=space)
    rng = np.random.default_rng(1)
    runs = []
    for group in ("a", "b", "c"):
        for seed in range(2):
            pred = true.copy()
            u = rng.random(len(true))
            pred[u < 0.1] = (true[u < 0.1] + 1) % 4
            if group == "b":
                pred[(true == 0) & (u > 0.1) & (u < 0.6)] = 1
            runs.append(Run(RunMeta(f"{group}{seed}", group, None, seed), images, pred[:, None]))
    evaluations = [relabel.evaluate(relabel.pair(run, annotations)) for run in runs]
    comparison = relabel.compare(evaluations, reference="a", n_bootstrap=100, seed=0)
    categorisation = relabel.categorise(comparison, annotations, hierarchy=None)
    write_report(build_report(evaluations, comparison, categorisation), tmp_path)
    return tmp_path


def test_without_multilabels_or_strengths(tmp_path):
    out = _plain_report(tmp_path)
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["flows-1-0.png"]  # no scatter, no curves
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'data-key="delta_original"' in page and 'data-key="delta_multilabel"' not in page
    assert "multi-label accuracy" not in page
    assert page.count("annotations have no multi-label sets") == 1
    assert '<select id="group-filter">' in page and "> affected or improved only</label>" in page
    text = (out / "summary.md").read_text(encoding="utf-8")
    assert "**b**: **1 affected class** (insufficient evidence 1)" in text and "**c**: **0 affected classes**" in text


@needs_chromium
def test_page_without_multilabels_sorts_in_the_browser(tmp_path):
    out = _plain_report(tmp_path / "report")
    outcome, console = _open(out / "index.html", tmp_path / "profile")
    assert console == []
    assert outcome["ok"], outcome
    assert outcome["rows"] == 8 and outcome["top_after_second_click"] == "cat"
