"""Screenshot of ``report.html`` for the docs: runs the default pipeline on jobs/samples, renders the page.

Writes ``docs/img/report.png`` (the top of the page, 1280 px wide, PNG palette-quantised with Pillow
when it is installed so that the file stays commit-sized). Needs Debian's headless Chromium
(``make chromium``). Nothing is downloaded.

Usage (from the repository root)::

    .venv/bin/python benchmarks/report_screenshot.py [--input jobs/samples] [--output docs/img/report.png]
        [--dedup dedup_stats.json] [--height 2000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
MAX_BYTES = 500_000


def screenshot(page: Path, png: Path, profile: Path, height: int) -> None:
    """Render ``page`` with headless Chromium into ``png``."""
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            f"--screenshot={png}",
            f"--window-size=1280,{height}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def shrink(png: Path) -> None:
    """Quantise to a 64-colour palette when Pillow is available (charts and text lose nothing visible)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(png, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default="jobs/samples")
    parser.add_argument("--output", default="docs/img/report.png")
    parser.add_argument("--dedup", default=None, help="a dedup_stats.json to include")
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "jobs.process_cc", "--input", args.input, "--output", str(run)]
        subprocess.run([*cmd, "--no-progress"], cwd=ROOT, check=True, capture_output=True)
        from pipeline.report_html import write_report_html

        page = Path(write_report_html(str(run), str(run / "report.html"), args.dedup))
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(page, out, Path(tmp) / "profile", args.height)
    shrink(out)
    size = out.stat().st_size
    print(f"{out}: {size:,} bytes")
    if size > MAX_BYTES:
        print(f"warning: over {MAX_BYTES:,} bytes; use a smaller --height", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
