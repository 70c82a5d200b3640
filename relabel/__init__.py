"""relabel: which classes a training change hurt, whether the loss is real, why, and what to change.

The data flow is the architecture::

    Run ─────────┐
                 ├─ pair() → PairedRun ─ evaluate() → Evaluation ─┐  (one per run)
    Annotations ─┘                                                ├─ compare() → Comparison ─ …
                                                   (groups, seeds)┘
"""

from relabel._version import __version__
from relabel.errors import (
    ComparisonError,
    DownloadError,
    InputError,
    LabelSpaceError,
    OverridesError,
    PairingError,
    RelabelError,
    RelabelWarning,
)
from relabel.categorisation import (
    Categorisation,
    Category,
    CategoryThresholds,
    Confidence,
    LossDriver,
    categorise,
    decide,
    pair_evidence,
)
from relabel.comparison import Comparison, Explanation, Metric, compare
from relabel.evaluation import Evaluation, PerImage, class_id_dtype, evaluate, evaluate_runs, pair_accuracy
from relabel.gate import Gate, gate
from relabel.selfcheck import SelfCheck, self_check
from relabel.export import (
    Results,
    read_results,
    write_categorisation,
    write_comparison,
    write_evaluations,
    write_overrides,
    write_recommendation,
    write_recommendation_table,
    write_results,
    write_self_check,
    write_table,
)
from relabel.hierarchy import Hierarchy, imagenet_1k_hierarchy, load_hierarchy
from relabel.labelspace import LabelSpace, imagenet_1k, load_label_space
from relabel.loading import load_runs
from relabel.loading.annotations import Annotations, load_annotations
from relabel.loading.manifest import Manifest, RunSpec, read_manifest
from relabel.loading.runs import ImageKeys, Run, RunMeta, load_run, write_run
from relabel.overrides import Augmentation, Override, Overrides, Side, SideInfo
from relabel.overrides import load as load_overrides
from relabel.pairing import PairedRun, pair
from relabel.provenance import Provenance, read_provenance
from relabel.recommendation import Recommendation, recommend
from relabel.ablation import AblationPlan, plan_ablation, write_ablation_plan
from relabel.demos.closed_loop import ClosedLoop, closed_loop
from relabel.report import Report, build_report, load_report, write_report
from relabel.synthetic import SyntheticRuns, simulate_runs
from relabel.thumbnails import add_thumbnails
from relabel.wordnet import WordNetMapping, load_wordnet_map, map_to_wordnet

__all__ = [
    "AblationPlan",
    "ClosedLoop",
    "closed_loop",
    "plan_ablation",
    "write_ablation_plan",
    "Annotations",
    "Augmentation",
    "Categorisation",
    "Category",
    "ClassConditionalDataset",
    "ClassConditionalTransform",
    "CategoryThresholds",
    "Comparison",
    "ComparisonError",
    "Confidence",
    "DownloadError",
    "Evaluation",
    "Explanation",
    "Gate",
    "Hierarchy",
    "InputError",
    "LabelSpace",
    "LabelSpaceError",
    "LossDriver",
    "Manifest",
    "Metric",
    "Override",
    "Overrides",
    "OverridesError",
    "PairedRun",
    "PairingError",
    "PerImage",
    "Provenance",
    "Recommendation",
    "Report",
    "Results",
    "RelabelError",
    "RelabelWarning",
    "ImageKeys",
    "Run",
    "RunMeta",
    "SelfCheck",
    "RunSpec",
    "Side",
    "SideInfo",
    "SyntheticRuns",
    "WordNetMapping",
    "__version__",
    "categorise",
    "add_thumbnails",
    "build_report",
    "build_transform",
    "compare",
    "decide",
    "class_id_dtype",
    "evaluate",
    "evaluate_runs",
    "gate",
    "imagenet_1k",
    "imagenet_1k_hierarchy",
    "load_annotations",
    "load_hierarchy",
    "load_label_space",
    "load_overrides",
    "load_report",
    "load_run",
    "load_runs",
    "load_wordnet_map",
    "map_to_wordnet",
    "pair",
    "pair_accuracy",
    "pair_evidence",
    "predict",
    "read_manifest",
    "read_provenance",
    "read_results",
    "recommend",
    "self_check",
    "simulate_runs",
    "write_categorisation",
    "write_comparison",
    "write_evaluations",
    "write_overrides",
    "write_recommendation",
    "write_recommendation_table",
    "write_report",
    "write_self_check",
    "write_results",
    "write_run",
    "write_table",
]


def __getattr__(name: str) -> object:
    """Names that import torch are loaded only when asked, so ``import relabel`` stays torch-free."""
    if name == "predict":
        from relabel.inference import predict

        return predict
    if name in ("ClassConditionalTransform", "ClassConditionalDataset", "build_transform"):
        import relabel.transforms

        return getattr(relabel.transforms, name)
    raise AttributeError(f"module 'relabel' has no attribute {name!r}")
