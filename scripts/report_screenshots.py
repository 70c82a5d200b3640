"""Regenerate the report screenshots in docs/ (needs Debian's chromium and the real ReaL labels).

    .venv/bin/python scripts/report_screenshots.py

Renders the simulated demo, the 5 recipes × 3 losses sweep (tests/report/sweep.py), the closed
loop (rrc-0.5 compared with rrc-0.08) and a small file-based set with thumbnails, then takes one
headless-Chromium screenshot per new view (the provenance of the file-based set). For the
scatter, a copy of the page marks one point as clicked, as page.js does on a click. Each PNG is
quantised to a palette to stay under 300 KB.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "report")]

import relabel  # noqa: E402
from relabel.report import build_report, write_report  # noqa: E402

DOCS = ROOT / "docs"


def shoot(page: Path, name: str, anchor: str, height: int, work: Path) -> None:
    out = DOCS / name
    shot = work / f"{name}.raw.png"
    subprocess.run([shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={work / 'profile'}", "--hide-scrollbars", f"--window-size=1180,{height}",
                    f"--screenshot={shot}", page.as_uri() + anchor], check=True, capture_output=True)
    from PIL import Image

    with Image.open(shot) as image:
        image.convert("RGB").quantize(colors=96).save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


def isolate(page: Path, section: str, work: Path, mark: str | None = None) -> Path:
    """A copy of the page that shows only one section (and, for the scatter, one clicked point)."""
    text = page.read_text(encoding="utf-8")
    start = text.index(f'<section id="{section}">')
    end = text.index("</section>", start) + len("</section>")
    head = text[:text.index("<main>") + len("<main>")]
    body = text[start:end]
    if mark:
        at = body.index(f'data-name="{mark}"')
        circle = body.rindex("<circle", 0, at)
        body = body[:circle] + body[circle:].replace('class="pt pt-affected"', 'class="pt pt-affected chosen"', 1)
        body = body.replace("Hover over or click a point to see its class.",
                            f"{mark}: clicked (page.js writes the class, its key and both changes here)", 1)
    copy = work / f"{section}.html"
    copy.write_text(head + body + "</main></body></html>", encoding="utf-8")
    return copy


def main() -> None:
    from sweep import REFERENCE, sweep_runs
    from test_report_thumbnails import _dataset, _evaluate

    work = Path(tempfile.mkdtemp(prefix="relabel-shots-"))
    annotations = relabel.load_annotations("real")
    simulated = relabel.simulate_runs(annotations, seed=0)
    evaluations = [relabel.evaluate(relabel.pair(r, annotations)) for r in simulated.runs]
    comparison = relabel.compare(evaluations, reference="rrc-0.5", n_bootstrap=300, seed=0)
    categorisation = relabel.categorise(comparison, annotations)
    write_report(build_report(evaluations, comparison, categorisation, simulated=True), work / "demo")
    demo = work / "demo" / "index.html"
    shoot(isolate(demo, "change", work, mark="stage"), "report-scatter.png", "", 900, work)
    text = demo.read_text(encoding="utf-8")
    card = text.index('<article class="affected"')
    (work / "card.html").write_text(text[:text.index("<main>") + 6] + text[card:text.index("</article>", card)]
                                    + "</article></main></body></html>", encoding="utf-8")
    shoot(work / "card.html", "report-seeds.png", "", 620, work)

    runs = sweep_runs(annotations)
    evaluations = [relabel.evaluate(relabel.pair(r, annotations)) for r in runs]
    comparison = relabel.compare(evaluations, reference=REFERENCE, n_bootstrap=200, seed=0)
    write_report(build_report(evaluations, comparison, simulated=True), work / "sweep")
    shoot(isolate(work / "sweep" / "index.html", "matrix", work), "report-matrix.png", "", 1300, work)

    loop = relabel.simulate_runs(annotations, seed=0, reverse_share=0.0)
    evaluations = [relabel.evaluate(relabel.pair(r, annotations)) for r in loop.runs]
    comparison = relabel.compare(evaluations, reference="rrc-0.08", n_bootstrap=300, seed=0)
    write_report(build_report(evaluations, comparison, simulated=True), work / "loop")
    shoot(isolate(work / "loop" / "index.html", "headline", work), "report-closed-loop.png", "", 520, work)

    files = work / "files"
    files.mkdir()
    _, _, run_files = _dataset(files, hostile=False)
    done = _evaluate(files, run_files, "--report", str(files / "report"), "--images", str(files / "images"))
    assert done.exit_code == 0, done.output
    page = (files / "report" / "index.html").read_text(encoding="utf-8")
    card = page.index('<article class="affected"')
    (work / "thumbs.html").write_text(page[:page.index("<main>") + 6] + page[card:page.index("</article>", card)]
                                      + "</article></main></body></html>", encoding="utf-8")
    shoot(work / "thumbs.html", "report-thumbnails.png", "", 900, work)
    shoot(isolate(files / "report" / "index.html", "provenance", work), "report-provenance.png", "", 560, work)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
