"""Write a report's files: ``index.html``, ``summary.md`` and ``figures/*.png``, each atomically."""

from __future__ import annotations

from pathlib import Path

from relabel.export import atomic_path
from relabel.report.content import Report
from relabel.report.figures import render_figures
from relabel.report.html import render_html
from relabel.report.markdown import render_markdown

__all__ = ["write_report"]


def write_report(report: Report, out_dir: str | Path, *, max_classes: int = 30) -> list[Path]:
    """Render ``report`` into ``out_dir`` and return the paths written.

    ``index.html`` is a self-contained page (figures embedded; it opens without network),
    ``figures/`` holds the same figures as PNG files, ``summary.md`` a Markdown summary for a
    pull request. Each file is written to a temporary name and renamed into place, so a failed
    render leaves no half-written file; the page is written last. ``max_classes`` bounds the
    affected classes that get their own section and bar chart (largest drops first; the table
    lists every class).
    """
    out = Path(out_dir)
    figures = render_figures(report, max_classes=max_classes)
    page = render_html(report, figures, max_classes=max_classes)
    summary = render_markdown(report, figures, max_classes=max_classes)
    written = []
    for figure in figures:
        written.append(_write_bytes(out / "figures" / figure.name, figure.png))
    written.append(_write_bytes(out / "summary.md", summary.encode("utf-8")))
    written.append(_write_bytes(out / "index.html", page.encode("utf-8")))
    return written


def _write_bytes(path: Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
