"""The override file: class-conditional augmentation for the next training run, as a format.

Stage: export (the recommender's output, the trainer's input). The file is versioned JSON or
YAML, published as the JSON Schema ``relabel/overrides.schema.json`` (package data) and
documented in ``docs/overrides.md``::

    {
      "schema": "relabel.overrides/1",
      "label_space": "imagenet-1k",
      "default": {"random_resized_crop": {"scale": [0.08, 1.0]}},
      "overrides": [
        {
          "classes": ["n03782006", "n04152593"],
          "transforms": {"random_resized_crop": {"scale": [0.5, 1.0]}},
          "reason": "monitor lost 12 points to screen under rrc-0.08",
          "evidence": {"acc_multilabel": {"rrc-0.5": 0.81, "rrc-0.08": 0.69}},
          "side": {"lost": ["n03782006"], "absorbing": ["n04152593"], "target": "both"}
        }
      ]
    }

Class keys are the label space's keys (WordNet ids for ImageNet). Scale parameters are
fractions of the image area in (0, 1], never percent. An override changes only the parameters
it names; the rest come from the trainer's default pipeline.

The package is the format alone — it imports neither torch nor any trainer, and nothing of
the stages that write it:

* :mod:`~relabel.overrides.vocabulary` — augmentation names, parameter defaults and rules,
  the one pipeline order;
* :mod:`~relabel.overrides.validation` — the JSON Schema and the semantic rules, with
  messages that name the file, the line and the field;
* :mod:`~relabel.overrides.model` — :class:`Override` and :class:`Overrides`, validated once;
* :mod:`~relabel.overrides.files` — JSON/YAML reading (with line numbers) and writing;
* :mod:`~relabel.overrides.table` — the flat CSV table.

The trainer side consumes :meth:`Overrides.resolve`: :func:`relabel.transforms.build_transform`
builds torchvision pipelines from it. Arrows only go down to the format: a new augmentation is
an entry in ``vocabulary`` (and the schema), a new trainer an adapter beside ``transforms``
that reads ``resolve(classes)``; neither touches the other.
"""

from __future__ import annotations

import warnings
from typing import Any

from relabel.overrides.files import dumps_json, dumps_yaml, load, loads, write
from relabel.overrides.model import Override, Overrides, SideInfo
from relabel.overrides.table import CSV_COLUMNS, to_csv_table
from relabel.overrides.validation import schema
from relabel.overrides.vocabulary import (
    ORDER,
    PARAMETER_DEFAULTS,
    SCHEMA_VERSION,
    Augmentation,
    Side,
    explicit_parameters,
    merge_parameters,
)

__all__ = [
    "SCHEMA_VERSION",
    "Augmentation",
    "Side",
    "SideInfo",
    "Override",
    "Overrides",
    "ORDER",
    "PARAMETER_DEFAULTS",
    "CSV_COLUMNS",
    "schema",
    "load",
    "loads",
    "dumps_json",
    "dumps_yaml",
    "to_csv_table",
    "write",
    "explicit_parameters",
    "merge_parameters",
]


def __getattr__(name: str) -> Any:
    """``relabel.overrides.build_transform`` moved to the trainer side: deprecated here."""
    if name == "build_transform":
        warnings.warn(
            "relabel.overrides.build_transform is deprecated and will be removed; use "
            "relabel.transforms.build_transform (the trainer side owns building pipelines)",
            DeprecationWarning, stacklevel=2,
        )
        import relabel.transforms  # the deprecated way up; goes with this alias

        return relabel.transforms.build_transform
    raise AttributeError(f"module 'relabel.overrides' has no attribute {name!r}")
