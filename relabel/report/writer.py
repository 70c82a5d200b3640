"""Write a report's files: ``index.html``, ``summary.md`` and ``figures/*.png``, all at once."""

from __future__ import annotations

from pathlib import Path

from relabel._atomic import atomic_dir, write_bytes
from relabel.report.content import Report
from relabel.report.figures import render_figures
from relabel.report.html import render_html
from relabel.report.markdown import render_markdown

__all__ = ["write_report"]

_OWNED = frozenset({"index.html", "summary.md", "figures"})


def write_report(report: Report, out_dir: str | Path, *, max_classes: int = 30) -> list[Path]:
    """Render ``report`` into ``out_dir`` and return the paths written.

    ``index.html`` is a self-contained page (figures embedded; it opens without network),
    ``figures/`` holds the same figures as PNG files, ``summary.md`` a Markdown summary for a
    pull request. Everything is rendered first, then written into a folder beside ``out_dir``
    that is swapped in whole (:func:`relabel._atomic.atomic_dir`): a failed render or write
    leaves the earlier report as it was, and figures of an earlier report do not linger. Other
    files in ``out_dir`` are kept. ``max_classes`` bounds the affected classes that get their
    own section and bar chart (largest drops first; the table lists every class).
    """
    out = Path(out_dir)
    figures = render_figures(report, max_classes=max_classes)
    page = render_html(report, figures, max_classes=max_classes)
    summary = render_markdown(report, figures, max_classes=max_classes)
    names = [f"figures/{figure.name}" for figure in figures] + ["summary.md", "index.html"]
    with atomic_dir(out, owned=_OWNED.__contains__) as staging:
        for figure in figures:
            write_bytes(staging / "figures" / figure.name, figure.png)
        write_bytes(staging / "summary.md", summary.encode("utf-8"))
        write_bytes(staging / "index.html", page.encode("utf-8"))
    return [out / name for name in names]
