"""What relabel writes and prints, as a hostile or careless user meets it: one row per case, through the CLI.

The output side of #12 / #17. Each builder writes real files into ``tmp_path`` (a label space,
annotations, relabel run Parquet files, images) and returns the command line; a row passes
when the command exits with its code and prints its fragment, with no traceback
(``catch_exceptions=False``). Rows with a ``check`` look at what was (not) written. Below the
table: provenance.json and its readers, the folder lock with two processes, ``--json``,
Ctrl-C and the caller's matplotlib backend.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import relabel
from relabel import Run, RunMeta, write_run
from relabel.cli.main import cli

Builder = Callable[[Path], list[Any]]

#: A class name that would set the terminal's title (OSC 0), return the carriage, and reverse what follows.
HOSTILE = "lap\x1b]0;pwned\x07top\r\u202eevil"
CLASSES = ["laptop", "notebook", "desk", "monitor"]


@dataclass(frozen=True)
class Case:
    build: Builder
    exit_code: int
    fragment: str
    check: Callable[[Path, Any], None] | None = None


def office(tmp: Path, names: list[str] = CLASSES, *, seeds: tuple[int, ...] = (0, 1)) -> list[Any]:
    """A 4-class label space, annotations and runs of two recipes (laptop loses half its images in the strong one)."""
    (tmp / "classes.json").write_text(json.dumps([{"key": k, "name": n} for k, n in zip(CLASSES, names)]))
    rng = np.random.default_rng(0)
    keys = [f"img{i}.jpg" for i in range(80)]
    truth = np.repeat(np.arange(4), 20)
    (tmp / "labels.json").write_text(json.dumps(
        {k: {"original": CLASSES[t], "labels": [CLASSES[t]]} for k, t in zip(keys, truth)}))
    base = np.where(rng.uniform(size=80) < 0.95, truth, (truth + 1) % 4)
    strong = base.copy()
    strong[truth == 0] = np.where(rng.uniform(size=20) < 0.5, 1, 0)
    runs = []
    for seed in seeds:
        for name, group, strength, ids in (("base", "rrc-0.5", 0.5, base), ("strong", "rrc-0.08", 0.08, strong)):
            path = tmp / f"{name}{seed}.parquet"
            write_run(Run(RunMeta(f"{name}{seed}", group, strength, seed), np.array(keys, dtype=object), ids[:, None]),
                      path)
            runs.append(path)
    return ["evaluate", "--annotations", tmp / "labels.json", "--label-space", tmp / "classes.json", *runs]


def images(folder: Path, n: int = 2) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (16, 12), (40 * i, 80, 120)).save(folder / f"img{i}.jpg")
    return folder


def _nothing_written(tmp: Path, result: Any) -> None:
    assert not (tmp / "out").exists()
    assert not [p for p in tmp.iterdir() if p.name.startswith(".out.")]


def _read_only(tmp: Path) -> Path:
    """A folder this process cannot write in (root writes through mode bits: /proc/sys is read-only to it too)."""
    if os.geteuid() == 0:
        return Path("/proc/sys")
    folder = tmp / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def _no_raw_controls(tmp: Path, result: Any) -> None:
    for text in (result.stdout, result.stderr):
        assert not any(c in text for c in ("\x1b]", "\x07", "\r", "\u202e")), repr(text[:400])
    assert "lap\\x1b]0;pwned\\x07top\\r\\u202eevil" in result.stdout  # what the file holds, made visible
    summary = (tmp / "page" / "summary.md").read_text(encoding="utf-8")
    assert not any(c in summary for c in ("\x1b", "\x07", "\r", "\u202e"))
    assert "\\\\u202eevil" in summary  # the escape, its backslash escaped for Markdown


def _unchanged_image(tmp: Path, result: Any) -> None:
    from PIL import Image

    with Image.open(tmp / "imgs" / "img0.jpg") as image:
        assert image.size == (16, 12)


def _run_inside_out(tmp: Path) -> list[Any]:
    args = office(tmp)
    (tmp / "res").mkdir()
    shutil.copy(args[-1], tmp / "res" / "per_class.parquet")  # a run saved under a results file's name
    return [*args[:-1], tmp / "res" / "per_class.parquet", "--out", tmp / "res"]


def _manifest_run_inside_out(tmp: Path) -> list[Any]:
    args = _run_inside_out(tmp)
    (tmp / "runs.yaml").write_text(f"runs:\n  - {{path: {tmp / 'res' / 'per_class.parquet'}, name: a, group: g}}\n")
    return [*args[:5], "--manifest", tmp / "runs.yaml", "--out", tmp / "res"]


def _plan(*extra: str) -> Builder:
    def build(tmp: Path) -> list[Any]:
        args = [*office(tmp, [HOSTILE, *CLASSES[1:]]), "--reference", "rrc-0.5", "--hierarchy", "none", "--n-bootstrap",
                "200", "--out", tmp / "out"]
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return ["plan", tmp / "out", *extra]

    return build


def _plan_escaped(tmp: Path, result: Any) -> None:
    assert not any(c in result.output for c in ("\x1b]", "\x07", "\r", "\u202e")), repr(result.output[:400])
    assert "lap\\x1b]0;pwned\\x07top\\r\\u202eevil" in result.stdout


def _touch(path: Path) -> Path:
    path.write_text("not a folder")
    return path


def _assert_absent(path: Path) -> None:
    assert not path.exists()


def _assert_equal(a: Any, b: Any) -> None:
    assert a == b


def _assert_no_escape(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text


CASES: dict[str, Case] = {
    # -------- #17: every output path of one command is checked before anything is written
    "--recommend DIR/per_class.json beside --out DIR": Case(
        lambda tmp: [*office(tmp), "--reference", "rrc-0.5", "--out", tmp / "out", "--recommend",
                     tmp / "out" / "per_class.json"], 1,
        "would write " + "{tmp}/out/per_class.csv, which the results folder (--out) writes too", _nothing_written),
    "--recommend DIR/comparison_params.json": Case(
        lambda tmp: [*office(tmp), "--reference", "rrc-0.5", "--out", tmp / "out", "--recommend",
                     tmp / "out" / "comparison_params.json"], 1,
        "comparison_params.json, which the results folder (--out) writes too", _nothing_written),
    "--recommend over an input file": Case(
        lambda tmp: [*office(tmp), "--reference", "rrc-0.5", "--recommend", tmp / "labels.json"], 1,
        "which is an input of this command"),
    "--out over the results files of a run it reads": Case(_run_inside_out, 1, "which is an input of this command"),
    "--out over a run its manifest lists": Case(_manifest_run_inside_out, 1, "which is an input of this command"),
    # -------- #12: unwritable targets are one line, before anything is computed
    "--out under a regular file": Case(
        lambda tmp: [*office(tmp), "--out", _touch(tmp / "afile") / "out"], 1, "afile is a file, not a folder"),
    "--out in a read-only folder": Case(
        lambda tmp: [*office(tmp), "--out", _read_only(tmp) / "out"], 1, "is not writable (permission denied)"),
    "--report in a read-only folder": Case(
        lambda tmp: [*office(tmp), "--report", _read_only(tmp) / "page"], 1, "is not writable (permission denied)"),
    "--out that is a file": Case(lambda tmp: [*office(tmp), "--out", _touch(tmp / "afile")], 2, "is a file"),
    # -------- #17: predict writes what its name says, never over its own input
    "predict -o out.csv": Case(
        lambda tmp: ["predict", "resnet18", "--weights", "none", "--num-classes", "4", images(tmp / "imgs"), "-o",
                     tmp / "out.csv", "--workers", "0", "--device", "cpu"], 1,
        "its name must end in .parquet (supported: .parquet",
        lambda tmp, result: _assert_absent(tmp / "out.csv")),
    "predict -o one of its input images": Case(
        lambda tmp: ["predict", "resnet18", "--weights", "none", "--num-classes", "4", images(tmp / "imgs"), "-o",
                     tmp / "imgs" / "img0.jpg", "--workers", "0", "--device", "cpu"], 1,
        "is one of the input images", _unchanged_image),
    # -------- #12: terminal injection, in the terminal and in summary.md
    "control and bidi characters in a class name": Case(
        lambda tmp: [*office(tmp, [HOSTILE, *CLASSES[1:]]), "--reference", "rrc-0.5", "--hierarchy", "none",
                     "--n-bootstrap", "200", "--report", tmp / "page"], 0, "affected", _no_raw_controls),
    "control characters in an error message": Case(
        lambda tmp: [*office(tmp), "--reference", "rrc-\x1b]0;pwned\x07"], 1, "\\x1b]0;pwned\\x07",
        lambda tmp, result: _assert_no_escape(result.output)),
    # -------- #12: conventions
    "-q after the subcommand": Case(lambda tmp: [*office(tmp), "-q"], 0, "",
                                    lambda tmp, result: _assert_equal(result.output, "")),
    "-v after the subcommand": Case(lambda tmp: [*office(tmp), "-v"], 0, "base0"),
    "relabel plan escapes class names": Case(_plan(), 0, "Detectable drop", _plan_escaped),
    "-q after plan": Case(_plan("-q"), 0, "", lambda tmp, result: _assert_equal(result.output, "")),
    "-v before and -q after contradict": Case(lambda tmp: ["-v", *office(tmp), "--quiet"], 2,
                                              "-v/--verbose and -q/--quiet contradict each other"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_output_case(tmp_path, name):
    case = CASES[name]
    args = [str(a) for a in case.build(tmp_path)]

    result = CliRunner().invoke(cli, args, catch_exceptions=False)

    assert result.exit_code == case.exit_code, result.output[:3000]
    assert case.fragment.replace("{tmp}", str(tmp_path)) in result.output, result.output[:3000]
    if case.check is not None:
        case.check(tmp_path, result)


# ---------------------------------------------------------------- provenance.json


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_results_folder_states_what_wrote_it(tmp_path):
    args = [str(a) for a in [*office(tmp_path), "--reference", "rrc-0.5", "--n-bootstrap", "200", "--hierarchy", "none",
                             "--out", tmp_path / "out"]]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output

    provenance = relabel.read_provenance(tmp_path / "out")
    assert provenance.relabel_version == relabel.__version__
    assert provenance.command == ("relabel", *args)
    assert provenance.created.endswith("Z") and provenance.created[:2] == "20"
    runs = {Path(r.path).name: r for r in provenance.runs}
    assert sorted(runs) == ["base0.parquet", "base1.parquet", "strong0.parquet", "strong1.parquet"]
    strong = runs["strong1.parquet"]
    assert (strong.name, strong.group, strong.strength, strong.seed) == ("strong1", "rrc-0.08", 0.08, 1)
    assert strong.sha256 == _sha256(tmp_path / "strong1.parquet")
    assert strong.size == (tmp_path / "strong1.parquet").stat().st_size
    assert provenance.annotations["source"] == str(tmp_path / "labels.json")
    assert provenance.annotations["sha256"] == _sha256(tmp_path / "labels.json")
    assert provenance.label_space["n_classes"] == 4
    assert provenance.options["reference"] == "rrc-0.5" and provenance.options["n_bootstrap"] == 200
    written = {p.name for p in (tmp_path / "out").iterdir()} - {"provenance.json"}
    assert set(provenance.files) == written
    assert all(provenance.files[n].sha256 == _sha256(tmp_path / "out" / n) for n in written)

    params = json.loads((tmp_path / "out" / "evaluate_params.json").read_text())
    assert params["annotations"]["source"] == str(tmp_path / "labels.json")
    assert params["label_space"] == dict(provenance.label_space)
    assert params["options"]["label_space"] == str(tmp_path / "classes.json")
    assert relabel.read_results(tmp_path / "out").provenance == provenance


def test_stale_results_files_are_left_unread(tmp_path):
    """Comparison files of another command (1000 ImageNet classes, other groups) copied into a folder: not reported."""
    demo = tmp_path / "demo"
    assert CliRunner().invoke(cli, ["evaluate", "--demo", "--n-bootstrap", "100", "--out", str(demo)]).exit_code == 0
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [str(a) for a in [*office(tmp_path), "--out", out]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    stale = sorted(p.name for p in demo.iterdir() if p.name.startswith(("comparison_", "categorisation_")))
    for name in stale:
        shutil.copy(demo / name, out / name)

    report = CliRunner().invoke(cli, ["report", str(out)], catch_exceptions=False)

    assert report.exit_code == 0, report.output
    assert f"left unread {len(stale)} results files that provenance.json does not list (categorisation_" in (
        report.stderr)
    page = (out / "report" / "index.html").read_text()
    assert "Siberian husky" not in page and "Norfolk terrier" not in page  # classes the demo found affected
    results = relabel.read_results(out)
    assert results.comparison is None and results.categorisation is None


def test_a_listed_file_that_is_gone_or_changed_is_said(tmp_path):
    out = tmp_path / "out"
    args = [str(a) for a in [*office(tmp_path), "--reference", "rrc-0.5", "--n-bootstrap", "100", "--hierarchy", "none",
                             "--out", out]]
    assert CliRunner().invoke(cli, args).exit_code == 0
    table = pd.read_parquet(out / "overall.parquet")
    table.to_parquet(out / "overall.parquet", index=False, compression="gzip")  # same rows, other bytes
    with pytest.warns(relabel.RelabelWarning, match=r"overall\.parquet changed after 'relabel evaluate"):
        relabel.read_results(out)
    (out / "comparison_flows.parquet").unlink()
    result = CliRunner().invoke(cli, ["report", str(out)])
    assert result.exit_code == 1
    assert "comparison_flows.parquet is missing, but provenance.json lists it as written by 'relabel evaluate" in (
        result.output)


def test_read_provenance_names_the_file_and_field(tmp_path):
    with pytest.raises(relabel.InputError, match=r"provenance\.json is missing"):
        relabel.read_provenance(tmp_path)
    (tmp_path / "provenance.json").write_text(json.dumps({"schema": "relabel.provenance/1", "command": "relabel"}))
    with pytest.raises(relabel.InputError, match=r"provenance\.json: field 'command' must be a list"):
        relabel.read_provenance(tmp_path)


# ---------------------------------------------------------------- two writers, one folder

_HOLD = textwrap.dedent("""
    import sys
    from relabel._atomic import folder_lock
    with folder_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()
""")


def test_a_second_writer_of_one_folder_is_refused(tmp_path):
    args = [str(a) for a in [*office(tmp_path), "--out", tmp_path / "out"]]
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path / "out")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 1
        assert f"is being written by another relabel process (process {holder.pid}" in result.output
        assert not (tmp_path / "out").exists()
    finally:
        holder.communicate("")
    assert holder.returncode == 0
    result = CliRunner().invoke(cli, args, catch_exceptions=False)  # the lock went with its holder
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".out.lock").exists()


def test_two_evaluate_processes_never_mix_one_folder(tmp_path):
    """Two real `relabel evaluate` on one --out: each finishes or is refused, and the folder is one run's, whole."""
    common = [str(a) for a in office(tmp_path, seeds=(0, 1, 2))]
    two = [common[:5] + [r for r in common[5:] if r.endswith(("0.parquet", "1.parquet"))],
           common[:5] + [r for r in common[5:] if r.endswith("2.parquet")]]
    procs = [subprocess.Popen([sys.executable, "-m", "relabel.cli", *args, "--out", str(tmp_path / "out")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in two]
    outcomes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(code == 0 or (code == 1 and "is being written by another relabel process" in err)
               for code, err in outcomes), outcomes
    assert any(code == 0 for code, _ in outcomes)
    provenance = relabel.read_provenance(tmp_path / "out")
    written = {p.name for p in (tmp_path / "out").iterdir()} - {"provenance.json"}
    assert set(provenance.files) == written
    assert all(provenance.files[n].sha256 == _sha256(tmp_path / "out" / n) for n in written)
    runs = sorted(relabel.read_results(tmp_path / "out").runs["run"])
    assert runs in (["base0", "base1", "strong0", "strong1"], ["base2", "strong2"])
    assert {Path(r.path).stem for r in provenance.runs} == set(runs)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


# ---------------------------------------------------------------- --json


def test_json_prints_the_documented_summary(tmp_path):
    out = tmp_path / "out"
    args = [str(a) for a in [*office(tmp_path), "--reference", "rrc-0.5", "--n-bootstrap", "200", "--hierarchy", "none",
                             "--out", out, "--json"]]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output

    summary = json.loads(result.stdout)  # stdout is the JSON document alone
    assert summary["schema"] == "relabel.summary/1" and summary["simulated"] is False
    overall = pd.read_csv(out / "overall.csv").set_index("run")
    assert {r["name"]: r["acc_original"] for r in summary["runs"]} == pytest.approx(
        overall["acc_original"].to_dict())
    comparison = summary["comparison"]
    assert comparison["reference"] == "rrc-0.5" and comparison["metric"] == "multilabel"
    (group,) = comparison["groups"]
    table = pd.read_csv(out / "comparison_summary.csv").set_index("group").loc["rrc-0.08"]
    assert (group["group"], group["n_affected"], group["n_improved"], group["n_explained_by_multilabels"]) == (
        "rrc-0.08", table["n_affected"], table["n_improved"], table["n_explained_by_multilabels"])
    assert [c["class_name"] for c in group["affected"]] == ["laptop"]
    laptop = group["affected"][0]
    assert laptop["category"] is not None and laptop["delta"] < -0.05 and laptop["ci_low"] <= laptop["delta"]
    assert summary["recommendation"] is None
    assert str(out / "provenance.json") in summary["written"]
    assert result.stderr == ""  # the files written are in the document


def test_json_without_comparison_and_quiet(tmp_path):
    args = [str(a) for a in office(tmp_path)]
    summary = json.loads(CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False).stdout)
    assert summary["comparison"] is None and len(summary["runs"]) == 4 and summary["written"] == []
    assert CliRunner().invoke(cli, ["--quiet", *args, "--json"], catch_exceptions=False).stdout == ""


# ---------------------------------------------------------------- Ctrl-C


def test_ctrl_c_while_writing_leaves_the_earlier_results(tmp_path, monkeypatch):
    out = tmp_path / "out"
    args = [str(a) for a in [*office(tmp_path), "--reference", "rrc-0.5", "--n-bootstrap", "100", "--hierarchy", "none",
                             "--out", out]]
    assert CliRunner().invoke(cli, args).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*a: Any, **k: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("relabel.export.write_categorisation", interrupted)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)

    assert result.exit_code == 130
    assert result.output == "relabel: interrupted (Ctrl-C); nothing was half-written\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


_SLOW_WRITE = textwrap.dedent("""
    import signal, sys, time
    # as from a terminal: a process started in the background by a non-interactive shell inherits SIGINT ignored,
    # and Python then installs no KeyboardInterrupt handler
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import relabel.export
    def slow(*args, **kwargs):
        print("writing", file=sys.stderr, flush=True)
        for _ in range(3000):  # short sleeps: a SIGINT that lands before a sleep starts is seen at the next one
            time.sleep(0.1)
    relabel.export.write_categorisation = slow  # the write of the categorisation tables takes long
    from relabel.cli.main import cli
    cli(sys.argv[1:], prog_name="relabel")
""")


def test_ctrl_c_from_the_terminal_exits_130(tmp_path):
    """A real SIGINT to a real process while it writes its results folder (over an earlier one)."""
    out = tmp_path / "out"
    args = [str(a) for a in [*office(tmp_path), "--reference", "rrc-0.5", "--n-bootstrap", "100", "--hierarchy", "none",
                             "--out", out]]
    assert CliRunner().invoke(cli, args).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and proc.stderr.readline() == "writing\n"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert stderr == "relabel: interrupted (Ctrl-C); nothing was half-written\n" and stdout == ""
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


# ---------------------------------------------------------------- the caller's matplotlib


def test_the_report_keeps_the_callers_matplotlib_backend(tmp_path):
    args = [str(a) for a in [*office(tmp_path), "--reference", "rrc-0.5", "--n-bootstrap", "100", "--hierarchy", "none",
                             "--out", tmp_path / "out"]]
    assert CliRunner().invoke(cli, args).exit_code == 0
    script = textwrap.dedent("""
        import sys
        import matplotlib
        matplotlib.use("svg")
        from relabel.report import load_report, write_report
        written = write_report(load_report(sys.argv[1]), sys.argv[2])
        assert any(str(p).endswith(".png") for p in written), written
        print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out"), str(tmp_path / "page")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["svg", "False"]
    assert (tmp_path / "page" / "figures").is_dir()


def test_provenance_names_the_model_relabel_predict_recorded(tmp_path):
    run = tmp_path / "r18.parquet"
    predicted = CliRunner().invoke(cli, ["predict", "resnet18", "--weights", "none", "--num-classes", "4",
                                         str(images(tmp_path / "imgs")), "-o", str(run), "--workers", "0", "--device",
                                         "cpu", "--topk", "1", "--group", "base", "--seed", "3"], catch_exceptions=False)
    assert predicted.exit_code == 0, predicted.output
    (tmp_path / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    (tmp_path / "labels.csv").write_text("image,original\nimg0.jpg,laptop\nimg1.jpg,desk\n")
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(tmp_path / "labels.csv"), "--label-space",
                                      str(tmp_path / "classes.txt"), str(run), "--out", str(tmp_path / "out")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (entry,) = relabel.read_provenance(tmp_path / "out").runs
    assert "resnet18" in entry.model and len(entry.model_sha256) == 64
    assert (entry.name, entry.group, entry.seed, entry.sha256) == ("r18", "base", 3, _sha256(run))
