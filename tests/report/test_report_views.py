"""The page's interactive views: the scatter that identifies every class, per-seed points, the sweep
matrix on a 5 recipes × 3 losses fixture, and the closed loop (a retraining that recovers classes).

The browser tests open the page in headless Debian Chromium (as tests/report/test_report_browser.py
does) and read what the page's own script saw; they are skipped when ``chromium`` is absent.
"""

from __future__ import annotations

import html
import json
import re
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from sweep import LOSSES, RECIPES, REFERENCE, sweep_runs
from test_report_browser import GROUP, NAMES, SCRIPT_NAME, _open, _tiny_report, needs_chromium

import relabel
from relabel.cli.main import cli
from relabel.report import build_report, write_report
from relabel.report.content import improved_lead, seed_values
from relabel.report.views import matrix_rows


@pytest.fixture(scope="module")
def tiny_page(tmp_path_factory):
    report = _tiny_report()
    out = tmp_path_factory.mktemp("tiny-views")
    write_report(report, out)
    return report, out / "index.html"


@pytest.fixture(scope="module")
def demo_views(real_annotations, tmp_path_factory):
    simulated = relabel.simulate_runs(real_annotations, seed=0)
    evaluations = [relabel.evaluate(relabel.pair(run, real_annotations)) for run in simulated.runs]
    comparison = relabel.compare(evaluations, reference="rrc-0.5", n_bootstrap=300, seed=0)
    categorisation = relabel.categorise(comparison, real_annotations)
    report = build_report(evaluations, comparison, categorisation, simulated=True)
    out = tmp_path_factory.mktemp("demo-views")
    write_report(report, out)
    return report, out / "index.html"


@pytest.fixture(scope="module")
def sweep_results(real_annotations, tmp_path_factory):
    """The 15-group sweep written as a results folder, and rendered by `relabel report` (the CLI)."""
    evaluations = [relabel.evaluate(relabel.pair(run, real_annotations)) for run in sweep_runs(real_annotations)]
    comparison = relabel.compare(evaluations, reference=REFERENCE, n_bootstrap=200, seed=0)
    categorisation = relabel.categorise(comparison, real_annotations)
    results = tmp_path_factory.mktemp("sweep-results")
    relabel.write_evaluations(evaluations, results)
    relabel.write_comparison(comparison, results)
    relabel.write_categorisation(categorisation, results)
    done = CliRunner().invoke(cli, ["report", str(results), "--simulated"])
    assert done.exit_code == 0, done.output
    return comparison, results / "report" / "index.html"


@pytest.fixture(scope="module")
def closed_loop(real_annotations, tmp_path_factory):
    """A retraining with the weak crop (rrc-0.5) compared with the default that hurt classes (rrc-0.08)."""
    simulated = relabel.simulate_runs(real_annotations, seed=0, reverse_share=0.0)
    evaluations = [relabel.evaluate(relabel.pair(run, real_annotations)) for run in simulated.runs]
    comparison = relabel.compare(evaluations, reference="rrc-0.08", n_bootstrap=300, seed=0)
    results = tmp_path_factory.mktemp("loop-results")
    relabel.write_evaluations(evaluations, results)
    relabel.write_comparison(comparison, results)
    done = CliRunner().invoke(cli, ["report", str(results), "--simulated"])
    assert done.exit_code == 0, done.output
    return simulated, comparison, results / "report"


def _page(path) -> str:
    return path.read_text(encoding="utf-8")


def _circles(page: str) -> list[str]:
    return re.findall(r"<circle class=\"pt [^>]*>", page)


# --------------------------------------------------------------------------------------------
# the scatter: every class is a point that names it


def test_every_class_is_a_point_with_its_name_and_changes(demo_views):
    report, path = demo_views
    page = _page(path)
    circles = _circles(page)
    rows = report.comparison.per_class
    assert len(circles) == len(rows) == 1000
    drawn = {html.unescape(re.search(r'data-name="([^"]*)"', c).group(1)) for c in circles}
    assert drawn == set(rows["class_name"])
    stage = next(c for c in circles if 'data-name="stage"' in c)
    row = rows[rows["class_name"] == "stage"].iloc[0]
    assert 'class="pt pt-affected"' in stage
    assert f'data-x="{100 * row.delta_original:.1f}"' in stage and f'data-y="{100 * row.delta_multilabel:.1f}"' in stage
    assert sum('pt-affected' in c for c in circles) == int(rows["affected"].sum()) == 7
    # bounded: about 120 bytes a class
    svg = re.search(r'<svg class="scatter".*?</svg>', page, re.S).group(0)
    assert len(svg.encode()) < 160 * 1000


def test_scatter_names_are_escaped(tiny_page):
    _, path = tiny_page
    page = _page(path)
    names = [html.unescape(re.search(r'data-name="([^"]*)"', c).group(1)) for c in _circles(page)]
    assert sorted(names) == sorted(NAMES)
    svg = re.search(r'<svg class="scatter".*?</svg>', page, re.S).group(0)
    assert "<script" not in svg and "<b>" not in svg and "&lt;script&gt;" in svg


# --------------------------------------------------------------------------------------------
# seeds


def test_each_affected_card_lists_every_seed(demo_views):
    report, path = demo_views
    page = _page(path)
    lines = re.findall(r'<p class="seeds">.*?</p>', page, re.S)
    assert len(lines) == 7
    stage = report.comparison.per_class
    stage = int(stage.loc[stage["class_name"] == "stage", "class_index"].iloc[0])
    values = seed_values(report, "rrc-0.08", stage)
    assert list(values["seed"]) == [0, 1, 2] and len(values) == 3
    per_class = report.per_class
    expected = per_class[(per_class["group"] == "rrc-0.08") & (per_class["class_index"] == stage)]["acc_multilabel"]
    assert list(values["value"]) == list(expected)
    line = next(x for x in lines if f"seed 0 {100 * values['value'].iloc[0]:.1f}%" in x)
    assert line.count("data-seed=") == 6  # three seeds of the reference, three of the group


def test_seed_values_carry_no_name_unescaped(tiny_page):
    _, path = tiny_page
    line = re.search(r'<p class="seeds">.*?</p>', _page(path), re.S).group(0)
    assert "<i>" not in line and html.escape(GROUP) in line and "strong &lt;i&gt;-0" in line


# --------------------------------------------------------------------------------------------
# the sweep matrix


def test_sweep_page_has_the_matrix_and_counts(sweep_results):
    comparison, path = sweep_results
    page = _page(path)
    section = re.search(r'<section id="matrix">.*?</section>', page, re.S).group(0)
    groups = [f"{r} / {loss}" for r in RECIPES for loss in LOSSES if f"{r} / {loss}" != REFERENCE]
    heads = [html.unescape(h) for h in re.findall(r'<th class="g" title="([^"]*)"', section)]
    assert sorted(heads) == sorted(groups) and len(heads) == 14
    rows = re.findall(r"<tr><th class=\"c\" title=", section)
    assert len(rows) == 40
    affected = comparison.per_class[comparison.per_class["affected"].astype(bool)]
    assert section.count('class="cell affected"') == len(affected) > 0
    # the counts per group are Comparison.summary's
    degraded = re.search(r"degraded \(affected\) classes</th>(.*?)</tr>", section).group(1)
    summary = comparison.summary.set_index("group")
    assert [int(v) for v in re.findall(r">(\d+)</td>", degraded)] == [int(summary.at[g, "n_affected"]) for g in heads]
    improved = re.search(r"improved classes</th>(.*?)</tr>", section).group(1)
    assert [int(v) for v in re.findall(r">(\d+)</td>", improved)] == [int(summary.at[g, "n_improved"]) for g in heads]
    # the trade-off: one point per group
    assert section.count('<g class="tp"') == 14
    assert len(section.encode()) < 200_000


def test_matrix_rows_bound_and_order(demo_views):
    report, _ = demo_views
    table = matrix_rows(report, max_rows=10)
    assert len(table) == 10
    affected = report.comparison.affected
    assert list(table.index[:7]) == list(affected.sort_values("delta_multilabel", kind="stable")["class_index"])
    assert table.columns.tolist() == ["class_key", "class_name", "rrc-0.08"]


def test_matrix_escapes_names(tiny_page):
    _, path = tiny_page
    section = re.search(r'<section id="matrix">.*?</section>', _page(path), re.S).group(0)
    assert "<script" not in section and "<i>" not in section
    assert html.escape(SCRIPT_NAME) in section and html.escape(GROUP, quote=True) in section


# --------------------------------------------------------------------------------------------
# the closed loop


def test_a_retraining_that_recovers_classes_headlines_them(closed_loop):
    simulated, comparison, out = closed_loop
    lead = improved_lead(relabel.report.load_report(out.parent), "rrc-0.5")
    assert lead is not None
    n_improved, n_affected = lead
    planted = set(simulated.planted["class_index"])
    improved = set(comparison.improved["class_index"])
    assert n_improved == len(improved) >= 5 and improved <= planted and n_affected < n_improved
    page = _page(out / "index.html")
    assert f'<p class="big good" data-kind="improved"><b>{n_improved}</b> improved classes' in page
    assert 'data-kind="affected"' not in page
    summary = _page(out / "summary.md")
    assert f"**rrc-0.5**: **{n_improved} improved classes** (recovered or gained), {n_affected} affected" in summary


def test_a_change_that_hurts_keeps_the_affected_headline(demo_views):
    report, path = demo_views
    assert improved_lead(report, "rrc-0.08") is None
    assert '<p class="big" data-kind="affected"><b>7</b> affected classes' in _page(path)


# --------------------------------------------------------------------------------------------
# in the browser


@needs_chromium
def test_demo_scatter_identifies_every_class_in_the_browser(demo_views, tmp_path):
    _, path = demo_views
    outcome, console = _open(path, tmp_path / "profile")
    assert console == []
    assert outcome["ok"], outcome
    assert outcome["checks"]["scatter_identifies"] is True
    assert outcome["scatter"] == [{"points": 1000, "identified": 1000, "clicked": "tusker"}]
    assert outcome["seeds"] == [6] * 7
    assert outcome["matrix"]["groups"] == 1 and outcome["matrix"]["affected"] == 7
    assert outcome["matrix"]["first"] == "stage"
    assert outcome["headline"] == ["affected 7"]


@needs_chromium
def test_hostile_names_stay_text_in_the_new_views(tiny_page, tmp_path):
    _, path = tiny_page
    outcome, console = _open(path, tmp_path / "profile")
    assert console == [] and outcome["ok"], outcome
    assert outcome["scripts"] == 1
    assert outcome["scatter"] == [{"points": 4, "identified": 4, "clicked": SCRIPT_NAME}]
    assert outcome["matrix"]["first"] == SCRIPT_NAME and outcome["matrix"]["tradeoff"] == [GROUP]


@needs_chromium
def test_sweep_page_in_the_browser(sweep_results, tmp_path):
    comparison, path = sweep_results
    outcome, console = _open(path, tmp_path / "profile")
    assert console == []
    assert outcome["ok"], outcome
    assert len(outcome["scatter"]) == 14
    assert all(s["points"] == s["identified"] == 1000 for s in outcome["scatter"])
    matrix = outcome["matrix"]
    assert matrix["groups"] == 14 and matrix["rows"] == 40 and matrix["cells"] == 14 * 40
    assert matrix["affected"] == int(comparison.per_class["affected"].sum())
    assert sorted(matrix["tradeoff"]) == sorted(comparison.summary["group"].astype(str))
    assert len(outcome["seeds"]) == int(comparison.per_class["affected"].sum())
    assert set(outcome["seeds"]) == {4}  # two seeds of the reference, two of the group


@needs_chromium
def test_closed_loop_page_in_the_browser(closed_loop, tmp_path):
    _, comparison, out = closed_loop
    outcome, console = _open(out / "index.html", tmp_path / "profile")
    assert console == [] and outcome["ok"], outcome
    assert outcome["headline"] == [f"improved {len(comparison.improved)}"]
    assert outcome["matrix"]["improved"] == len(comparison.improved)


@pytest.mark.parametrize("name", ["report-scatter.png", "report-seeds.png", "report-matrix.png",
                                  "report-closed-loop.png", "report-thumbnails.png", "report-provenance.png"])
def test_screenshots_of_the_new_views_are_in_docs_and_the_readme(name):
    root = Path(__file__).resolve().parents[2]
    shot = root / "docs" / name
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24])[0] >= 800
    assert len(data) < 300_000
    assert f"](docs/{name})" in (root / "README.md").read_text(encoding="utf-8")


def test_a_results_folder_report_shows_its_provenance_json(tmp_path):
    results = tmp_path / "results"
    done = CliRunner().invoke(cli, ["evaluate", "--demo", "--out", str(results)])
    assert done.exit_code == 0, done.output
    done = CliRunner().invoke(cli, ["report", str(results)])
    assert done.exit_code == 0, done.output
    record = json.loads((results / "provenance.json").read_text(encoding="utf-8"))
    page = _page(results / "report" / "index.html")
    section = re.search(r'<section id="provenance">.*?</section>', page, re.S).group(0)
    assert f"Made by relabel <b>{record['relabel_version']}</b> at {record['created']} from simulated predictions" in section
    runs = re.search(r"<caption>Run files.*?</table>", section, re.S).group(0)
    assert runs.count("<tr><td><code>") == len(record["runs"]) == 6
    for run in record["runs"]:
        assert (f"<tr><td><code>{html.escape(run['path'])}</code>" in runs
                and f"<td>{html.escape(run['name'])}</td><td>{html.escape(run['group'])}</td>" in runs)
    for name, d in record["files"].items():
        assert f'<code title="{d["sha256"]}">' in section and f"<code>{name}</code>" in section
