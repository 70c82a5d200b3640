"""A/A self-check (relabel.self_check) and Benjamini-Yekutieli q-values."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from shaped import simulate, single_labels, write_files

from relabel import ComparisonError, compare, evaluate, pair, read_results, self_check
from relabel.cli.main import cli
from relabel.gate import gate
from relabel.selfcheck import _draw_halves, _image_halves
from relabel.stats import benjamini_hochberg, benjamini_yekutieli, fdr_adjust

SIZES = [1000] * 4 + [30] * 6


def _evaluations(n_seeds, groups=("a",), accuracy=None):
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {g: (None, n_seeds, accuracy or {}) for g in groups}, jitter=0.05)
    return [evaluate(pair(run, shaped.annotations)) for run in runs], shaped, runs


# --------------------------------------------------------------------------------------------
# Benjamini-Yekutieli


def test_by_q_values_by_hand():
    # m = 3, c(3) = 1 + 1/2 + 1/3 = 11/6; BH: 0.03, 0.03, 0.04; BY = BH * 11/6 (step-up minimum, capped at 1)
    p = np.array([0.04, 0.01, np.nan, 0.02])
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04, 0.03, np.nan, 0.03], rtol=1e-12)
    np.testing.assert_allclose(benjamini_yekutieli(p), [0.04 * 11 / 6, 0.055, np.nan, 0.055], rtol=1e-12)
    np.testing.assert_allclose(benjamini_yekutieli(np.array([0.5, 0.9])), [1.0, 1.0])  # capped at 1


def test_by_follows_the_published_formula():
    """q_(i) = min_{j >= i} min(1, c(m) m p_(j) / j), written as a plain loop (statsmodels' fdr_by is this formula)."""
    try:
        from statsmodels.stats.multitest import multipletests
    except ImportError:
        multipletests = None
    p = np.random.default_rng(3).random(200) ** 4
    m = len(p)
    c = sum(1 / i for i in range(1, m + 1))
    order = np.argsort(p)
    expected = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, c * m * p[i] / rank)
        expected[i] = min(1.0, running)
    np.testing.assert_allclose(fdr_adjust(p, "by"), expected, rtol=1e-12)
    if multipletests is not None:
        np.testing.assert_allclose(fdr_adjust(p, "by"), multipletests(p, method="fdr_by")[1], rtol=1e-12)
    with pytest.raises(ValueError, match=r"expected one of \['bh', 'by'\], got 'holm'"):
        fdr_adjust(p, "holm")


def test_compare_with_by_records_it_and_finds_no_more_than_bh():
    evs, _, _ = _evaluations(2, groups=("a", "b"), accuracy=None)
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {"a": (None, 2, {}), "b": (None, 2, {"airplane": 0.74, "truck": 0.5})}, jitter=0.05)
    evs = [evaluate(pair(run, shaped.annotations)) for run in runs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bh = compare(evs, reference="a", n_bootstrap=300)
        by = compare(evs, reference="a", n_bootstrap=300, fdr_method="by")
    assert bh.params["fdr_method"] == "bh" and by.params["fdr_method"] == "by"
    np.testing.assert_allclose(by.per_class["p_value_original"], bh.per_class["p_value_original"])
    np.testing.assert_allclose(by.per_class["q_value_original"],
                               benjamini_yekutieli(bh.per_class["p_value_original"].to_numpy()))
    assert set(by.affected["class_index"]) <= set(bh.affected["class_index"])
    assert (by.per_class["detectable_drop"] >= bh.per_class["detectable_drop"] - 1e-12).all()
    # the gate re-adjusts a BH comparison's stored p-values: the verdict of computing with BY
    regated = gate(bh, fdr_method="by")
    assert regated.params["fdr_method"] == "by"
    assert regated.classes["affected"].sum() == by.per_class["affected"].sum()
    with pytest.raises(ComparisonError, match=r"fdr_method is one of \['bh', 'by'\].*got 'bonferroni'"):
        compare(evs, reference="a", fdr_method="bonferroni")


# --------------------------------------------------------------------------------------------
# the self-check


def test_seed_splits_apply_compares_rule_exactly():
    """Each seed split's counts are those of compare() on its halves, with the split's bootstrap seed."""
    evs, _, _ = _evaluations(4)
    check = self_check(evs, group="a", n_splits=4, n_bootstrap=200, min_drop=0.02, fdr=0.2, seed=5)
    assert check.params["split"] == "seeds" and list(check.splits["n_runs_a"]) == [2] * 4
    by_name = {ev.meta.name: ev for ev in evs}
    for row in check.splits.itertuples(index=False):
        halves = [[dataclasses.replace(by_name[n], meta=dataclasses.replace(by_name[n].meta, group=g))
                   for n in names.split(";")] for g, names in (("A", row.runs_a), ("B", row.runs_b))]
        assert not set(row.runs_a.split(";")) & set(row.runs_b.split(";"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            slow = compare(halves[0] + halves[1], reference="A", n_bootstrap=200, min_drop=0.02, fdr=0.2,
                           seed=row.bootstrap_seed)
        assert row.n_false_affected == int(slow.per_class["affected"].sum())
        assert row.n_false_improved == int(slow.per_class["improved"].sum())
        assert row.min_q_value == pytest.approx(slow.per_class["q_value_original"].min(), rel=1e-12)
    # the same seed gives the same check; another seed other splits
    again = self_check(evs, group="a", n_splits=4, n_bootstrap=200, min_drop=0.02, fdr=0.2, seed=5)
    assert again.splits.equals(check.splits)
    other = self_check(evs, group="a", n_splits=4, n_bootstrap=200, min_drop=0.02, fdr=0.2, seed=6)
    assert not other.splits[["runs_a", "bootstrap_seed"]].equals(check.splits[["runs_a", "bootstrap_seed"]])


def test_paired_seed_splits_use_equal_halves():
    evs, _, _ = _evaluations(5)
    check = self_check(evs, group="a", n_splits=6, n_bootstrap=100, paired=True)
    assert set(check.splits["n_runs_a"]) == {2} and set(check.splits["n_runs_b"]) == {2}
    unpaired = self_check(evs, group="a", n_splits=6, n_bootstrap=100)
    assert set(zip(unpaired.splits["n_runs_a"], unpaired.splits["n_runs_b"])) == {(2, 3)}


def test_image_halves_are_disjoint_equal_and_within_class_and_scoring():
    true = np.array([0, 0, 0, 0, 0, 1, 1, 2, 3, 3, 3])
    correct = np.ones((2, 1, len(true)))
    correct[1, 0, [0, 1]] = np.nan  # two images of class 0 are not scored with multi-labels
    halves = _image_halves(true, correct, 4)
    first, second = _draw_halves(true, halves, np.random.default_rng(0))
    assert not set(first) & set(second)
    np.testing.assert_array_equal(true[first], true[second])  # pseudo-image k: one class on both sides
    np.testing.assert_array_equal(np.isnan(correct[1, 0, first]), np.isnan(correct[1, 0, second]))
    # class 0: 2 unscored (1 each side) and 3 scored (1 each side, one left out); class 1: 1 each; 2: none; 3: 1 each
    assert np.bincount(true[first], minlength=4).tolist() == [2, 1, 0, 1]


def test_image_splits_with_few_seeds_and_a_calibrated_rule():
    evs, _, _ = _evaluations(2)
    check = self_check(evs, group="a", n_splits=40, n_bootstrap=200, fdr=0.1, fdr_method="by", seed=1)
    assert check.params["split"] == "images"
    assert set(check.splits["runs_a"]) == {"a-seed0;a-seed1"} == set(check.splits["runs_b"])
    assert check.rate == check.splits["any_false"].mean()
    assert check.rate_error == pytest.approx(np.sqrt(check.rate * (1 - check.rate) / 40))
    assert check.calibrated and "within --fdr 0.1 (Benjamini-Yekutieli)" in check.summary_line()
    assert json.loads(json.dumps(check.to_dict()))["n_splits"] == 40


def test_a_rate_above_the_fdr_is_flagged():
    """The verdict: rate at most fdr + max(2 sqrt(fdr (1 - fdr) / N), 1 / N); 5 of 40 at fdr 0.05 is above it."""
    evs, _, _ = _evaluations(4)
    check = self_check(evs, group="a", n_splits=40, n_bootstrap=100)
    for flagged, calibrated in ((5, False), (4, True)):  # bound: 0.05 + 2 sqrt(0.0475 / 40) = 0.119; 5/40 = 0.125
        splits = check.splits.assign(any_false=np.arange(40) < flagged, n_false=(np.arange(40) < flagged).astype(int))
        forged = dataclasses.replace(check, splits=splits)
        assert forged.rate == flagged / 40
        assert forged.calibrated is calibrated
    forged = dataclasses.replace(check, splits=check.splits.assign(any_false=np.arange(40) < 6))
    assert not forged.calibrated
    assert "ABOVE --fdr 0.05" in forged.summary_line() and "try --fdr-method by or more seeds" in forged.summary_line()


def test_self_check_errors_name_the_group_and_the_fix():
    evs, shaped, _ = _evaluations(1)
    with pytest.raises(ComparisonError, match=r"group 'zz' has no runs; groups are \['a'\]"):
        self_check(evs, group="zz")
    with pytest.raises(ComparisonError, match=r"group 'a' has 1 run .*splitting seeds needs at least 2"):
        self_check(evs, group="a", split="seeds")
    with pytest.raises(ComparisonError, match="n_splits is a number of splits, at least 1; got 0"):
        self_check(evs, group="a", n_splits=0)
    with pytest.raises(ComparisonError, match=r"expected one of \['seeds', 'images'\]"):
        self_check(evs, group="a", split="classes")
    tiny = single_labels([1, 1, 1])  # one image per class: nothing to halve
    runs = simulate(tiny, {"a": (None, 1, {})})
    with pytest.raises(ComparisonError, match="no class with two images to split into halves"):
        self_check([evaluate(pair(r, tiny.annotations)) for r in runs], group="a")


# --------------------------------------------------------------------------------------------
# through the command line, on real files


def test_cli_self_check_writes_the_table_and_prints_the_line(tmp_path):
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {"s050": (0.5, 4, {}), "s008": (0.08, 4, {"truck": 0.5})}, jitter=0.05)
    manifest = write_files(tmp_path / "in", shaped, runs)
    out = tmp_path / "out"
    args = ["evaluate", "--manifest", str(manifest), "--reference", "s050", "--n-bootstrap", "200",
            "--fdr-method", "by", "--self-check", "12", "--out", str(out), "--report", str(tmp_path / "report")]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "self-check (A/A): " in result.stdout and "of 12 splits of group 's050' (halves of its seeds, 2 vs 2 runs)" \
        in result.stdout
    assert "q <= 0.05 (Benjamini-Yekutieli)" in result.stdout
    loaded = read_results(out)
    assert loaded.self_check is not None and len(loaded.self_check.splits) == 12
    assert loaded.comparison.params["fdr_method"] == "by"
    assert (out / "self_check.csv").is_file()
    files = json.loads((out / "provenance.json").read_text())["files"]
    assert {"self_check.csv", "self_check.parquet", "self_check_params.json"} <= set(files)
    params = json.loads((out / "self_check_params.json").read_text())
    assert params["params"]["fdr_method"] == "by" and params["summary"]["n_splits"] == 12
    page = (tmp_path / "report" / "index.html").read_text()
    assert 'id="self-check"' in page and "Benjamini-Yekutieli q-value" in page
    assert "Self-check (A/A)" in (tmp_path / "report" / "summary.md").read_text()
    later = CliRunner().invoke(cli, ["report", str(out), "--out", str(tmp_path / "later")], catch_exceptions=False)
    assert later.exit_code == 0, later.output  # relabel report reads the self-check back from the folder
    assert 'id="self-check"' in (tmp_path / "later" / "index.html").read_text()
    as_json = CliRunner().invoke(cli, [*args[:-4], "--json"], catch_exceptions=False)
    summary = json.loads(as_json.stdout)
    assert summary["self_check"]["n_splits"] == 12 and summary["comparison"]["fdr_method"] == "by"
    # the default N is 100; one group needs no --reference; a group with one run splits its images
    one = write_files(tmp_path / "one", shaped, runs[:1])
    single = CliRunner().invoke(cli, ["evaluate", "--manifest", str(one), "--self-check", "--n-bootstrap", "100"],
                                catch_exceptions=False)
    assert single.exit_code == 0, single.output
    assert "of 100 splits of group 's050' (halves of each class's images, 1 vs 1 runs)" in single.stdout


def test_cli_self_check_errors(tmp_path):
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {"s050": (0.5, 1, {}), "s008": (0.08, 1, {})})
    manifest = write_files(tmp_path / "in", shaped, runs)
    result = CliRunner().invoke(cli, ["evaluate", "--manifest", str(manifest), "--self-check", "5",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "--self-check splits one group's runs: give --reference GROUP (groups: s008, s050)" in result.output
    assert not (tmp_path / "out").exists()
    bad = CliRunner().invoke(cli, ["evaluate", "--manifest", str(manifest), "--self-check", "0"])
    assert bad.exit_code == 2 and "0 is not in the range x>=1" in bad.output
    tiny = single_labels([1, 1, 1])
    tiny_manifest = write_files(tmp_path / "tiny", tiny, simulate(tiny, {"a": (None, 1, {})}))
    result = CliRunner().invoke(cli, ["evaluate", "--manifest", str(tiny_manifest), "--self-check", "5",
                                      "--allow-chance"])
    assert result.exit_code == 1
    assert "self-check: group 'a' has 1 run and no class with two images to split into halves" in result.output


def test_image_splits_of_the_demo_are_calibrated_with_students_t(monkeypatch):
    """The simulated demo (real ReaL labels, 1000 classes of about 50 images, 3 seeds): 40 image splits at FDR 0.05
    with BH stay within the bound. With z referred to the normal distribution instead of Student's t with n - 1
    degrees of freedom (25 pseudo-images a class here), the same splits flag a class in about one in five."""
    import relabel.stats
    from relabel import load_annotations, simulate_runs

    annotations = load_annotations("real")
    runs = simulate_runs(annotations, seed=0, n_seeds=3).runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluations = [evaluate(pair(run, annotations)) for run in runs]
    settings = {"group": "rrc-0.5", "n_splits": 40, "n_bootstrap": 200, "seed": 3}
    check = self_check(evaluations, **settings)
    assert check.params["split"] == "images" and check.calibrated, check.summary_line()
    summarise = relabel.stats._summarise
    monkeypatch.setattr(relabel.stats, "_summarise", lambda *args: summarise(*args[:5]))  # without df: normal
    normal = self_check(evaluations, **settings)
    assert not normal.calibrated and normal.rate > check.rate, normal.summary_line()


@pytest.mark.parametrize("n_seeds", [4, 2])  # seed splits, image splits
def test_splits_do_not_depend_on_the_number_of_threads(n_seeds):
    """Splits run side by side on threads; each is drawn before any runs, so the table is the same."""
    evs, _, _ = _evaluations(n_seeds)
    one = self_check(evs, group="a", n_splits=5, n_bootstrap=100, min_drop=0.02, fdr=0.5, n_jobs=1)
    three = self_check(evs, group="a", n_splits=5, n_bootstrap=100, min_drop=0.02, fdr=0.5, n_jobs=3)
    assert list(one.splits["split"]) == list(range(5))
    assert one.splits.equals(three.splits)


def test_cli_self_check_split_chooses_how_the_splits_are_drawn(tmp_path):
    """--self-check-split images on a 4-seed group (auto would halve its seeds), refused alone and on a finished folder."""
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {"s050": (0.5, 4, {}), "s008": (0.08, 4, {})}, jitter=0.05)
    manifest = write_files(tmp_path / "in", shaped, runs)
    out = tmp_path / "out"
    base = ["evaluate", "--manifest", str(manifest), "--reference", "s050", "--n-bootstrap", "100"]
    result = CliRunner().invoke(cli, [*base, "--self-check", "3", "--self-check-split", "images", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "of 3 splits of group 's050' (halves of each class's images, 4 vs 4 runs)" in result.stdout
    loaded = read_results(out)
    assert loaded.self_check.params["split"] == "images" and set(loaded.self_check.splits["mode"]) == {"images"}
    seeds = CliRunner().invoke(cli, [*base, "--self-check", "3", "--self-check-split", "seeds"], catch_exceptions=False)
    assert "(halves of its seeds, 2 vs 2 runs)" in seeds.stdout
    alone = CliRunner().invoke(cli, [*base, "--self-check-split", "images"])
    assert alone.exit_code == 2
    assert "--self-check-split images chooses how to split the runs for the A/A self-check: give --self-check [N]" \
        in alone.output
    finished = CliRunner().invoke(cli, ["check", str(out), "--self-check", "--self-check-split", "seeds"])
    assert finished.exit_code == 2 and "--self-check-split applies when computing one" in finished.output


def test_self_check_refuses_a_thread_count_below_one():
    evs, _, _ = _evaluations(4)
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ComparisonError, match=r"self-check: n_jobs is a number of threads, at least 1 .*got "):
            self_check(evs, group="a", n_splits=2, n_bootstrap=50, n_jobs=bad)
