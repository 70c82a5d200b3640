"""The report of the simulated demo: files, figures, content, the results-folder loader and the CLI."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import relabel
from relabel.cli.main import cli
from relabel.report import build_report, load_report, write_report
from relabel.report.content import affected_classes
from relabel.report.figures import render_figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(real_annotations):
    """The demo's stages: evaluations, comparison, categorisation, recommendation (simulated runs)."""
    simulated = relabel.simulate_runs(real_annotations, seed=0)
    evaluations = [relabel.evaluate(relabel.pair(run, real_annotations)) for run in simulated.runs]
    comparison = relabel.compare(evaluations, reference="rrc-0.5", n_bootstrap=300, seed=0)
    categorisation = relabel.categorise(comparison, real_annotations)
    recommendation = relabel.recommend(comparison, categorisation, augmentations=simulated.augmentations)
    return evaluations, comparison, categorisation, recommendation


@pytest.fixture(scope="module")
def demo_report(demo):
    return build_report(*demo, simulated=True)


@pytest.fixture(scope="module")
def demo_dir(demo_report, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-report")
    written = write_report(demo_report, out)
    return out, written


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature, IHDR and every chunk's CRC."""
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in chunk {kind!r}"
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    ihdr = data[16:24]
    return struct.unpack(">II", ihdr)


def test_files_are_written_and_figures_are_valid_pngs(demo_dir, demo_report):
    out, written = demo_dir
    names = {p.relative_to(out).as_posix() for p in written}
    assert {"index.html", "summary.md", "figures/scatter-1-rrc-0.08.png", "figures/curves.png"} <= names
    affected = affected_classes(demo_report)
    assert len(affected) == 7
    assert {f"figures/{a.figure}" for a in affected} <= names
    for path in written:
        assert path.exists() and path.stat().st_size > 0
        if path.suffix == ".png":
            width, height = _png_size(path.read_bytes())
            assert 200 < width < 2000 and 100 < height < 2000
    assert not [p for p in out.rglob("*.tmp")], "temporary files were left behind"


def test_page_is_self_contained(demo_dir):
    out, _ = demo_dir
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    sources = re.findall(r'\b(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith(("data:", "#")) for s in sources), sorted(set(s[:30] for s in sources))
    assert "http://" not in page and "https://" not in page
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 9  # scatter, curves, 7 classes


def test_page_shows_the_results_without_recomputing(demo_dir, demo):
    out, _ = demo_dir
    _, comparison, categorisation, recommendation = demo
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Simulated predictions" in page
    summary = comparison.summary.iloc[0]
    assert f"<b>{int(summary['n_affected'])}</b> affected classes" in page
    assert (f"{int(summary['n_affected_original'])} classes drop under original labels: "
            f"{int(summary['n_explained'])} explained by multi-labels, {int(summary['n_partly_explained'])} partly "
            f"explained, {int(summary['n_not_explained'])} not explained") in page
    assert f"Net on multi-labels: {int(summary['n_affected'])} classes worse (mean " in page
    for category, n in categorisation.classes["category"].value_counts().items():
        assert f'<span class="chip cat-{category}">{category} {n}</span>' in page
    for row in comparison.affected.itertuples():
        assert f'id="class-1-{row.class_index}"' in page
        assert f"{100 * row.delta_multilabel:+.1f} points" in page
    for reason in categorisation.classes["reason"]:
        assert reason.replace("'", "&#x27;") in page
    for override in recommendation.overrides.overrides:
        assert override.reason.replace("'", "&#x27;") in page
    assert "multi-label scoring" in page  # monitor / screen is ambiguous: no override, score with multi-labels
    assert f"{100 * recommendation.effect['expected_change']:+.2f} points" in page
    # the per-class table holds every class, affected ones first
    assert page.count('<tr class="is-affected"') == 7
    assert page.count("<tr class=\"is-explained\"") == 3
    assert page.count(" data-search=") == 1000


def test_markdown_summary(demo_dir, demo):
    out, _ = demo_dir
    _, comparison, _, _ = demo
    text = (out / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("# relabel report: rrc-0.08 against rrc-0.5\n")
    assert "Simulated predictions" in text
    assert "**7 affected classes**" in text
    for name in comparison.affected["class_name"]:
        assert f"| {name} |" in text
    for link in re.findall(r"\]\((figures/[^)]+)\)", text):
        assert (out / link).exists(), link


def test_results_folder_renders_the_same_figures(demo, demo_report, tmp_path):
    """relabel evaluate --out writes tables; reading them back draws byte-identical figures."""
    evaluations, comparison, categorisation, recommendation = demo
    relabel.write_evaluations(evaluations, tmp_path)
    relabel.write_comparison(comparison, tmp_path)
    relabel.write_categorisation(categorisation, tmp_path)
    relabel.write_recommendation(recommendation, tmp_path / "overrides.json")
    loaded = load_report(tmp_path, overrides=tmp_path / "overrides.json", simulated=True)
    assert loaded.comparison.params == {k: v for k, v in comparison.params.items()}
    assert loaded.comparison.label_space.keys == comparison.label_space.keys
    direct = {f.name: f.png for f in render_figures(demo_report)}
    again = {f.name: f.png for f in render_figures(loaded)}
    assert direct.keys() == again.keys()
    assert [name for name in direct if direct[name] != again[name]] == []
    assert [a.override.reason for a in affected_classes(loaded) if a.override is not None] == [
        a.override.reason for a in affected_classes(demo_report) if a.override is not None]


def test_cli_renders_a_results_folder(demo, tmp_path):
    evaluations, comparison, categorisation, recommendation = demo
    results = tmp_path / "results"
    relabel.write_evaluations(evaluations, results)
    relabel.write_comparison(comparison, results)
    relabel.write_categorisation(categorisation, results)
    relabel.write_recommendation(recommendation, results / "overrides.json")
    result = CliRunner().invoke(cli, ["report", str(results), "--overrides", str(results / "overrides.json"),
                                      "--simulated", "--max-classes", "3"])
    assert result.exit_code == 0, result.output
    out = results / "report"
    assert f"wrote {out / 'index.html'}" in result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Simulated predictions" in page and f"from <code>{results}</code>" in page
    assert page.count('<article class="affected"') == 3 and "and 4 more affected classes" in page
    assert len(list((out / "figures").glob("flows-*.png"))) == 3


def test_evaluate_recommend_folder_reports_its_recommendation_without_flags(tmp_path):
    """relabel evaluate --out --recommend records the override file; relabel report finds it."""
    results, elsewhere = tmp_path / "results", tmp_path / "next" / "overrides.yaml"
    result = CliRunner().invoke(cli, ["evaluate", "--demo", "--out", str(results), "--recommend", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert f"wrote {results / 'recommendation.csv'}" in result.output
    result = CliRunner().invoke(cli, ["report", str(results)])
    assert result.exit_code == 0, result.output
    page = (results / "report" / "index.html").read_text(encoding="utf-8")
    assert "Recommendation: keep <b>rrc-0.08</b> as the default recipe" in page
    loaded = load_report(results)
    assert loaded.recommendation.params["default_group"] == "rrc-0.08"
    assert loaded.overrides is not None and loaded.overrides.source == str(elsewhere)
    given = load_report(results, overrides=elsewhere)
    assert [a.override for a in affected_classes(loaded)] == [a.override for a in affected_classes(given)]
    assert sum(a.override is not None for a in affected_classes(loaded)) == 6
    table = pd.read_csv(results / "recommendation.csv")
    assert (table["action"] == "override").sum() == len(loaded.overrides.overrides)
    # the folder alone (override file gone): the recommendation's actions still show, overrides do not
    elsewhere.unlink()
    with pytest.warns(relabel.RelabelWarning, match="names the override file .*next/overrides.yaml, which is not there"):
        alone = load_report(results)
    assert alone.overrides is None and len(alone.recommendation.table) == len(loaded.recommendation.table)


def test_a_damaged_recommendation_params_file_is_named(demo, tmp_path):
    evaluations, comparison, categorisation, recommendation = demo
    relabel.write_evaluations(evaluations, tmp_path)
    relabel.write_comparison(comparison, tmp_path)
    relabel.write_recommendation_table(recommendation, tmp_path)
    (tmp_path / "recommendation_params.json").write_text('{"params": {"default_group": "rrc-0.08"}, "effect": {}}')
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'recommendation_params.json'}: expected 'effect' with numbers" in result.output
    assert not (tmp_path / "report").exists()


def test_cli_without_a_comparison_and_not_simulated(demo, tmp_path):
    evaluations = demo[0]
    relabel.write_evaluations(evaluations, tmp_path)
    result = CliRunner().invoke(cli, ["report", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Simulated predictions" not in page
    assert "No comparison" in page
    assert page.count(" data-search=") == 2 * 1000  # per (class, group)
    assert not (tmp_path / "r" / "figures").exists()


def test_evaluate_params_marks_a_folder_simulated(demo, tmp_path):
    relabel.write_evaluations(demo[0], tmp_path)
    (tmp_path / "evaluate_params.json").write_text('{"simulated": true}')
    assert load_report(tmp_path).simulated
    assert not load_report(tmp_path, simulated=False).simulated


@pytest.mark.parametrize("missing", ["overall.parquet", "comparison_params.json", "comparison_summary.parquet"])
def test_cli_names_a_missing_results_file(demo, tmp_path, missing):
    evaluations, comparison, _, _ = demo
    relabel.write_evaluations(evaluations, tmp_path)
    relabel.write_comparison(comparison, tmp_path)
    (tmp_path / missing).unlink()
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert missing in result.output and str(tmp_path) in result.output
    assert not (tmp_path / "report").exists()


def test_cli_refuses_a_table_that_is_not_relabels(demo, tmp_path):
    relabel.write_evaluations(demo[0], tmp_path)
    relabel.write_table(demo[0][0].per_class.drop(columns=["acc_original"]), tmp_path / "overall.parquet")
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 1
    assert "overall.parquet: expected relabel's columns; missing ['run', 'group', 'acc_original']" in result.output


def test_report_package_imports_matplotlib_only_to_draw():
    import subprocess
    import sys

    code = ("import sys, relabel.report, relabel.cli.main; "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_readme_screenshot_exists():
    shot = Path(__file__).resolve().parents[2] / "docs" / "report.png"
    width, height = _png_size(shot.read_bytes())
    assert width >= 800 and height >= 600
