"""OCR: how exactly scanned pages are read, and how long a scanned page takes to ingest.

    python -m benchmarks.bench_ocr [--pages 6] [--tiny] [--out DIR]

Pages of real prose (the seed article, then the Python 3.11 docs' tutorial when Debian's
python3.11-doc is installed) are printed to images as a scanner delivers them: black text on
white, 11 pt, at 300 dpi (the resolution the PDF loader renders scans at) and at 200 dpi, each
wrapped as an image-only PDF. Each PDF is read by the loader (`document_from_bytes` with OCR
on and no cache: render, Tesseract, text assembly). Reported per resolution: the character
error rate of the recognised text against the printed text (Levenshtein distance over the
printed text's length, both with runs of whitespace made one space), and the wall-clock
seconds per page, against the baseline of a bare `pytesseract.image_to_string` of the same
page images, timed in the same run (interleaved page by page). Writes
benchmarks/results/ocr.json (or DIR/ocr.json).
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, RESULTS, save

TARGET_CER = 0.02  # issue 18: clean 300 dpi scans
FONT_POINTS = 11
LINE_CHARS = 80  # characters per printed line: about a page's width at 11 pt
LINES_PER_PAGE = 42
FONTS = (
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
)
TUTORIAL = Path("/usr/share/doc/python3.11/html/tutorial")


def source_text(pages: int) -> str:
    """Real prose for `pages` printed pages: the seed article, then the Python tutorial."""
    parts = [path.read_text(encoding="utf-8") for path in sorted((REPO / "seeds").iterdir())]
    if TUTORIAL.is_dir():
        from assistant.loaders import document_from_bytes

        for page in ("introduction.html", "controlflow.html", "datastructures.html"):
            data = (TUTORIAL / page).read_bytes()
            parts.append(document_from_bytes(data, ".html", page, page).text)
    text = "\n".join(parts)
    lines = [line for para in text.split("\n") for line in textwrap.wrap(para, LINE_CHARS)]
    return "\n".join(lines[: pages * LINES_PER_PAGE])


def printed_pages(text: str) -> list[list[str]]:
    lines = text.split("\n")
    return [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]


def page_image(lines: list[str], dpi: int) -> Any:
    """A US Letter page with these lines printed at FONT_POINTS, as scanned at `dpi`."""
    from PIL import Image, ImageDraw, ImageFont

    size = round(FONT_POINTS * dpi / 72)
    font_path = next((path for path in FONTS if Path(path).exists()), None)
    font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size=size)
    page = Image.new("L", (round(8.5 * dpi), round(11 * dpi)), 255)
    draw = ImageDraw.Draw(page)
    margin, step = dpi, round(size * 1.35)
    for row, line in enumerate(lines):
        draw.text((margin, margin + row * step), line, fill=0, font=font)
    return page


def as_pdf(image: Any, dpi: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "PDF", resolution=dpi)
    return buffer.getvalue()


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def error_rate(printed: str, read: str) -> float:
    """Characters to insert, delete or substitute, over the printed text's length."""
    from rapidfuzz.distance import Levenshtein

    reference = normalised(printed)
    return Levenshtein.distance(reference, normalised(read)) / max(1, len(reference))


def measure(pages: list[list[str]], dpi: int) -> dict[str, Any]:
    """Read every page through the loader and through bare Tesseract, interleaved."""
    import pytesseract

    from assistant.loaders import document_from_bytes
    from assistant.loaders.ocr import Ocr

    ocr = Ocr()  # no cache: every page is recognised
    loader_s, bare_s, rates = [], [], []
    for number, lines in enumerate(pages, 1):
        image = page_image(lines, dpi)
        pdf = as_pdf(image, dpi)
        started = time.perf_counter()
        document = document_from_bytes(pdf, ".pdf", f"scan-{number}.pdf", "scan", ocr)
        loader_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        pytesseract.image_to_string(image, lang="eng")
        bare_s.append(time.perf_counter() - started)
        rates.append(error_rate("\n".join(lines), document.text))
    printed = sum(len(normalised("\n".join(lines))) for lines in pages)
    return {
        "dpi": dpi,
        "pages": len(pages),
        "characters": printed,
        # over all pages: the total distance over the total printed length
        "cer": round(
            sum(r * len(normalised("\n".join(p))) for r, p in zip(rates, pages, strict=True))
            / printed,
            5,
        ),
        "worst_page_cer": round(max(rates), 5),
        "loader_s_per_page": round(statistics.median(loader_s), 3),
        "bare_tesseract_s_per_page": round(statistics.median(bare_s), 3),
        "loader_vs_bare": round(statistics.median(loader_s) / statistics.median(bare_s), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=6, help="printed pages per resolution")
    parser.add_argument("--tiny", action="store_true", help="one short page at 300 dpi only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where ocr.json goes")
    args = parser.parse_args(argv)
    if args.tiny:
        pages, resolutions = [source_text(1).split("\n")[:6]], (300,)
    else:
        pages, resolutions = printed_pages(source_text(args.pages)), (300, 200)
    runs = [measure(pages, dpi) for dpi in resolutions]
    for run in runs:
        print(
            f"{run['dpi']} dpi: CER {run['cer']:.2%} (worst page {run['worst_page_cer']:.2%}), "
            f"{run['loader_s_per_page']} s/page (bare Tesseract {run['bare_tesseract_s_per_page']})"
        )
    command = "python -m benchmarks.bench_ocr" + (
        " --tiny" if args.tiny else f" --pages {args.pages}"
    )
    save(
        "ocr",
        {"command": command, "target_cer": TARGET_CER, "font_points": FONT_POINTS, "runs": runs},
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
