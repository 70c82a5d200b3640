"""Click parameter types and option groups shared by relabel's commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from relabel.comparison import Metric
from relabel.loading.manifest import RunSpec
from relabel.overrides import Side


class RunSpecType(click.ParamType):
    """``NAME=PATH`` (or a bare ``PATH``, named after the file) → :class:`RunSpec`."""

    name = "NAME=PATH"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> RunSpec:
        if isinstance(value, RunSpec):
            return value
        text = str(value)
        name, sep, path = text.partition("=")
        if not sep:
            name, path = "", text
        if sep and not name:
            self.fail(f"{text!r}: the run name before '=' is empty", param, ctx)
        if Path(path).is_dir():
            self.fail(f"{text!r}: {path!r} is a folder; expected a run file", param, ctx)
        if not Path(path).is_file():
            self.fail(f"{text!r}: run file {path!r} does not exist", param, ctx)
        return RunSpec(Path(path), name or None)


RUN_SPEC = RunSpecType()


class PercentagePoints(click.ParamType):
    """Percentage points on the command line (``5`` = 5 points) → a fraction (0.05).

    Above 0 and below 100 points; ``allow_zero`` admits 0 (a threshold that can be switched off).
    """

    name = "POINTS"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            points = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of percentage points", param, ctx)
        low_ok = points >= 0 if self.allow_zero else points > 0
        if not (low_ok and points < 100):
            bound = "at least 0" if self.allow_zero else "above 0"
            self.fail(f"{value!r} is in percentage points (2 = 2 points) and must be {bound} and below 100",
                      param, ctx)
        return points / 100


def recommendation_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--recommend FILE`` and how the overrides are chosen."""
    options = [
        click.option("--include-ambiguous", is_flag=True,
                     help="Also override ambiguous classes (by default they get the advice to score with multi-labels)."),
        click.option("--target", type=click.Choice(Side.choices()), default=Side.BOTH.value, show_default=True,
                     help="Which side of a pair gets the override: the class that lost accuracy, the partner that "
                          "absorbed its predictions, or both."),
        click.option("--default-group", metavar="GROUP",
                     help="The recipe the next run keeps for all other classes [default: the compared group with "
                          "the best mean class accuracy]."),
        click.option("--recommend", "recommend_path", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Write class-conditional augmentation overrides here (.json, .yaml or .yml; a flat .csv "
                          "is written beside it). Needs --reference and the groups' augmentations (manifest 'groups')."),
    ]
    for option in options:
        f = option(f)
    return f


def comparison_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--reference`` and the thresholds and bootstrap settings of a comparison."""
    options = [
        click.option("--bootstrap-seed", default=0, show_default=True, type=int, help="Seed of the bootstrap draws."),
        click.option("--shrink", is_flag=True,
                     help="Add delta_shrunk: empirical-Bayes shrinkage of the class deltas toward the group's mean "
                          "(the affected rule does not use it)."),
        click.option("--paired", is_flag=True,
                     help="The groups share seeds (seed s had one initialisation and data order in every group): "
                          "resample seeds jointly. Also set by 'paired: true' in the manifest; never assumed."),
        click.option("--n-bootstrap", default=1000, show_default=True, type=click.IntRange(100),
                     help="Bootstrap draws for the confidence intervals."),
        click.option("--min-flow-share", default="0", show_default=True, type=PercentagePoints(allow_zero=True),
                     help="Smallest rise, in percentage points, of the share of an affected class's images lost to "
                          "a class for it to be named a partner (0: the test of --flow-alpha alone decides)."),
        click.option("--flow-alpha", default=0.05, show_default=True,
                     type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     help="Family-wise error rate for naming partners: Holm over each affected class's candidate "
                          "destinations, on the bootstrap p-value of the rise of their share."),
        click.option("--fdr-method", default="bh", show_default=True, type=click.Choice(["bh", "by"]),
                     help="Multiple-testing correction across classes: bh (Benjamini-Hochberg; assumes independent "
                          "or positively dependent classes) or by (Benjamini-Yekutieli; valid under any dependence, "
                          "e.g. the opposite moves of two confused classes, at a loss of power)."),
        click.option("--fdr", default=0.05, show_default=True,
                     type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     help="False discovery rate across classes (see --fdr-method), a fraction: 0.05 = 5%."),
        click.option("--min-drop", default="5", show_default=True, type=PercentagePoints(),
                     help="Smallest accuracy change, in percentage points, for a class to count as affected "
                          "(a drop) or improved (a rise)."),
        click.option("--metric", type=click.Choice(Metric.choices()),
                     help="Labels that decide which classes are affected [default: multilabel when the "
                          "annotations have multi-labels, else original]."),
        click.option("--reference", metavar="GROUP",
                     help="Compare every other group of runs with this group (class by class)."),
    ]
    for option in options:
        f = option(f)
    return f


class SplitCount(click.ParamType):
    """The N of ``--self-check [N]``: a whole number of A/A splits, at least 1."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value))
            except ValueError:
                hint = (" (a file or folder right after --self-check is read as N: name it before --self-check, "
                        "or give N)" if Path(str(value)).exists() else "")
                self.fail(f"expected the number of A/A splits N, a whole number of at least 1 (--self-check alone: "
                          f"{SELF_CHECK_SPLITS}); got {value!r}{hint}", param, ctx)
        if number < 1:
            self.fail(f"{number} is not in the range x>=1: N is the number of A/A splits, a whole number of at "
                      f"least 1", param, ctx)
        return number


#: Splits of ``--self-check`` given without N.
SELF_CHECK_SPLITS = 100


def self_check_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--self-check [N]``, ``--self-check-bootstrap`` and ``--self-check-split``; ``what`` ends --self-check's help."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option("--self-check-split", "self_check_split", default="auto", show_default=True,
                         type=click.Choice(["auto", "seeds", "images"]),
                         help="How a self-check split is drawn (with --self-check): halves of the seeds, halves of "
                              "each class's images, or auto (seeds with 4 or more runs, else images).")(f)
        f = click.option("--self-check-bootstrap", "self_check_bootstrap", default=200, show_default=True,
                         type=click.IntRange(50),
                         help="Bootstrap draws per self-check split (with --self-check). Fewer than the comparison's: "
                              "a split's decision rests on z = delta / SE, and 200 draws give the SE within about 5%; "
                              "the noise this adds can only make a split flag more classes, so the check errs on the "
                              "strict side.")(f)
        return click.option("--self-check", "self_check_splits", type=SplitCount(), is_flag=False,
                            flag_value=SELF_CHECK_SPLITS, metavar="[N]",
                            help=f"A/A self-check: split the reference group's runs into two pseudo-recipes N times "
                                 f"(default {SELF_CHECK_SPLITS}) and report how often the comparison rule (--min-drop, "
                                 f"--fdr, --fdr-method, --paired) flags a class that cannot differ; halves of the "
                                 f"seeds with 4 or more runs, else halves of each class's images (--self-check-split; "
                                 f"docs/results.md). "
                                 f"{what}")(f)

    return decorate


def categorisation_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--hierarchy`` and ``--wordnet-map``: how the affected classes of a comparison are categorised."""
    options = [
        click.option("--wordnet-map", "wordnet_map", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                     help="CSV of class_key,synset rows (WordNet ids such as n02121620; empty = unmapped) that "
                          "correct the automatic mapping of class names to WordNet; implies --hierarchy wordnet."),
        click.option("--hierarchy", default="auto", show_default=True, metavar="auto|none|wordnet|imagenet-1k|FILE",
                     help="Class hierarchy for categorising affected classes: the shipped WordNet graph for "
                          "ImageNet (auto), none, wordnet (map a custom label space's class names to WordNet "
                          "3.0 nouns; see docs/categorisation.md), or a parent-map file (CSV/TSV child,parent "
                          "or JSON)."),
    ]
    for option in options:
        f = option(f)
    return f


def annotation_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--annotations``, ``--split``, ``--original-labels`` and ``--label-space``."""
    f = click.option(
        "--label-space", "label_space", metavar="imagenet-1k|PATH",
        help="Class list: 'imagenet-1k' (built in), a CSV/JSON/text file of your classes, or a saved HF dataset "
             "(its ClassLabel names). Default: imagenet-1k for ReaL, else the classes found in the annotations.",
    )(f)
    f = click.option("--split", "split", metavar="NAME",
                     help="Split of an --annotations dataset saved as an HF DatasetDict.")(f)
    f = click.option(
        "--original-labels", "original_labels", metavar="PATH",
        help="Original single labels when the annotations lack them (CSV image,label or 'FILE LABEL' lines).",
    )(f)
    f = click.option(
        "--annotations", "annotations", metavar="real|PATH",
        help="Multi-label annotations: 'real' (ImageNet ReaL, bundled with imagenet-x or downloaded once), "
             "a JSON/CSV/Parquet file or a saved HF dataset folder.",
    )(f)
    return f


def run_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Run files, their metadata and the reader options for generic tables and arrays."""
    options = [
        click.option("--keep-logits", is_flag=True, help="Keep full logits instead of reducing them to top-5."),
        click.option("--allow-chance", is_flag=True,
                     help="Accept chance-level accuracy of runs keyed by position (--order, --canonical-order), "
                          "which otherwise stops with an error: it usually means the order is wrong."),
        click.option("--canonical-order", is_flag=True,
                     help="Rows of .npy/.npz/.pt arrays follow the sorted ImageNet validation file names."),
        click.option("--order", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                     help="Image order of .npy/.npz/.pt arrays: one key or path per line, or a JSON list."),
        click.option("--score-column", metavar="NAME", help="Score column of CSV/Parquet/JSON runs."),
        click.option("--pred-column", metavar="NAME", help="Predicted-class (or top-k list) column of table runs."),
        click.option("--image-column", metavar="NAME", help="Image-key column of table runs (default: detected)."),
        click.option("--seed", "seeds", multiple=True, type=int,
                     help="Seed of each --run (once for all, or once per --run in order)."),
        click.option("--strength", "strengths", multiple=True, type=float,
                     help="Numeric strength of each --run, e.g. the RRC scale lower bound."),
        click.option("--group", "groups", multiple=True,
                     help="Group (recipe) of each --run (once for all, or once per --run in order)."),
        click.option("--manifest", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                     help="YAML/JSON runs manifest listing many runs with their metadata."),
        click.option("--run", "run_specs", multiple=True, type=RUN_SPEC,
                     help="A run file, as NAME=PATH or PATH (repeatable). Formats: see the README."),
    ]
    for option in options:
        f = option(f)
    return f


def spread(values: tuple[Any, ...], n: int, option: str) -> list[Any]:
    """One value per run: none, one for all, or exactly one per run."""
    if not values:
        return [None] * n
    if len(values) == 1:
        return list(values) * n
    if len(values) == n:
        return list(values)
    raise click.UsageError(f"{option} was given {len(values)} times for {n} runs; give it once or once per --run")
