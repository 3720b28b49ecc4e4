"""Cut a real WARC at many points and check that ccsieve's reader notices every cut.

For each cut point (seeded, uniform over the file's bytes) the prefix is read by
``extractors.warc.WarcReader`` and, side by side, by bare fastwarc. A cut is *detected* when the
reader raises ``SourceError`` (ccsieve) or when fastwarc raises or hands over a record block shorter
than its Content-Length (bare fastwarc: the most a caller of fastwarc alone can notice). A cut that
falls exactly on a record boundary leaves a valid, shorter WARC: nothing can detect it, and it is
counted apart. Also checked, for ccsieve: the responses yielded as documents or ordinary drops are
exactly the responses whose records end before the cut (the intact ones are kept, none invented).

Usage (from the repository root)::

    .venv/bin/python benchmarks/truncation_sweep.py [--cuts 300] [--warc PATH ...]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402 -- after sys.path

from extractors.warc import SourceError, WarcReader  # noqa: E402
from pipeline.document import DropRecord  # noqa: E402


def record_spans(path: Path) -> list[tuple[int, int, bool]]:
    """(start, end, is_response) of every record, from the intact file (end = next record's start)."""
    with open(path, "rb") as fh:
        starts = [(int(r.stream_pos), r.record_type == WarcRecordType.response) for r in ArchiveIterator(fh)]
    size = path.stat().st_size
    ends = [s for s, _ in starts[1:]] + [size]
    return [(s, e, resp) for (s, resp), e in zip(starts, ends, strict=True)]


def bare_fastwarc_detects(path: Path) -> tuple[bool, bool]:
    """(fastwarc raised, fastwarc raised or handed over a block shorter than its Content-Length)."""
    short = False
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False):
                short |= len(record.reader.read()) != int(record.content_length)
    except Exception:
        return True, True
    return False, short


def ccsieve_reads(path: Path) -> tuple[bool, int]:
    """(detected, responses kept or dropped for an ordinary reason)."""
    kept = 0
    try:
        for item in WarcReader().read(str(path)):
            if not (isinstance(item, DropRecord) and item.reason in ("truncated", "bad_warc_headers")):
                kept += 1
    except SourceError:
        return True, kept
    return False, kept


def sweep(warc: Path, cuts: int, seed: int = 0) -> dict[str, object]:
    data = warc.read_bytes()
    spans = record_spans(warc)
    boundaries = {s for s, _, _ in spans} | {len(data)}
    points = sorted(random.Random(seed).sample(range(1, len(data)), min(cuts, len(data) - 1)))
    found = {"ccsieve": 0, "fastwarc_raises": 0, "fastwarc_raises_or_short": 0}
    at_boundary = wrong_kept = 0
    with tempfile.TemporaryDirectory() as tmp:
        cut_file = Path(tmp) / ("cut" + "".join(warc.suffixes))
        for point in points:
            cut_file.write_bytes(data[:point])
            detected, kept = ccsieve_reads(cut_file)
            expected = sum(1 for _, end, resp in spans if resp and end <= point)
            if point in boundaries:
                at_boundary += 1
                wrong_kept += kept != expected
                continue
            found["ccsieve"] += detected
            raised, short = bare_fastwarc_detects(cut_file)
            found["fastwarc_raises"] += raised
            found["fastwarc_raises_or_short"] += short
            wrong_kept += kept != expected
    inside = len(points) - at_boundary
    return {
        "cuts": len(points),
        "inside": inside,
        "at_boundary": at_boundary,
        "wrong_kept": wrong_kept,
        **found,
    }


def check_overhead(warc: Path, repeats: int = 5) -> tuple[float, float]:
    """Best-of-``repeats`` seconds to read every response of ``warc``, without and with the check,
    alternating in one run (the shared machine's noise hits both alike)."""
    from extractors import warc as warc_module

    def read(checked: bool) -> float:
        original = warc_module.CheckedStream
        if not checked:  # the same reader with the check's wrapper replaced by the bare stream
            warc_module.CheckedStream = _Bare  # type: ignore[misc,assignment]
        try:
            start = time.perf_counter()
            for _ in WarcReader().read(str(warc)):
                pass
            return time.perf_counter() - start
        finally:
            warc_module.CheckedStream = original  # type: ignore[misc]

    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for checked in (False, True):
            times[checked].append(read(checked))
    return min(times[False]), min(times[True])


class _Bare:
    def __init__(self, raw: object) -> None:
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)  # type: ignore[attr-defined,no-any-return]

    def tell(self) -> int:
        return self._raw.tell()  # type: ignore[attr-defined,no-any-return]

    def source_offset(self, position: int) -> int:
        return position  # fastwarc reads the file itself here: its positions are file offsets

    def drain(self) -> None:
        return None


def _pct(n: int, total: int) -> str:
    return f"{n} ({100 * n / total:.1f} %)" if total else str(n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warc", nargs="+", type=Path, default=[TESTDATA / "bench-warc/bench.warc.gz",
                        TESTDATA / "warc-dolma/sample-0000.warc.gz"])  # fmt: skip
    parser.add_argument(
        "--overhead", action="store_true", help="only time the reader with and without the check"
    )
    args = parser.parse_args()
    if args.overhead:
        for warc in args.warc:
            bare, checked = check_overhead(warc)
            print(f"{warc.name}: reader without the check {bare:.3f} s, with it {checked:.3f} s "
                  f"({checked / bare:.2f}x)")  # fmt: skip
        return 0
    print("| WARC | cuts | inside a record | ccsieve detects | fastwarc raises | fastwarc raises or short "
          "block | on a boundary | kept != intact records before the cut | seconds |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for warc in args.warc:
        start = time.perf_counter()
        r = sweep(warc, args.cuts, args.seed)
        inside = int(r["inside"])  # type: ignore[call-overload]
        cells = [_pct(int(r[k]), inside) for k in ("ccsieve", "fastwarc_raises", "fastwarc_raises_or_short")]  # type: ignore[call-overload]
        print(f"| {warc.name} | {r['cuts']} | {inside} | {' | '.join(cells)} | "
              f"{r['at_boundary']} | {r['wrong_kept']} | {time.perf_counter() - start:.0f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
