"""Report: the findings as a page a person reads, PNG figures, and a Markdown summary.

Stage after :mod:`relabel.recommendation` (any earlier stage's results are enough): it renders
the result objects and never recomputes a statistic.

* :func:`build_report` gathers ``Evaluation`` objects and, where computed, the ``Comparison``,
  ``Categorisation`` and ``Recommendation`` into a :class:`Report`;
* :func:`load_report` gathers the same from a folder written by ``relabel evaluate --out DIR``
  (read by :func:`relabel.export.read_results`: the report itself opens no file);
* :func:`write_report` writes ``index.html`` (self-contained: no network needed),
  ``figures/*.png`` (matplotlib, imported only here: ``pip install 'relabel[report]'``) and
  ``summary.md``.

Examples
--------
>>> import relabel
>>> from relabel.report import build_report, write_report
>>> annotations = relabel.load_annotations("real")                         # doctest: +SKIP
>>> simulated = relabel.simulate_runs(annotations)                         # doctest: +SKIP
>>> evaluations = [relabel.evaluate(relabel.pair(r, annotations)) for r in simulated.runs]  # doctest: +SKIP
>>> comparison = relabel.compare(evaluations, reference="rrc-0.5")          # doctest: +SKIP
>>> report = build_report(evaluations, comparison, simulated=True)          # doctest: +SKIP
>>> write_report(report, "report/")                                         # doctest: +SKIP
"""

from relabel.report.content import Report, build_report, load_report
from relabel.report.writer import write_report

__all__ = ["Report", "build_report", "load_report", "write_report"]
