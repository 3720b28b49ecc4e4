"""Throughput of ccsieve's default pipeline against the equivalent datatrove pipeline, side by side.

Both pipelines read the same WARC (by default the 646-page bench WARC of ../shared/testdata), run
extraction -> language id -> Gopher repetition -> Gopher quality -> C4 -> FineWeb, and write Parquet:

* ccsieve: ``pipeline.run.run_pipeline(..., load_config(), executor="local", workers=1)``;
* datatrove: ``LocalPipelineExecutor(tasks=1, workers=1)`` over WarcReader -> Trafilatura ->
  LanguageFilter -> GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter -> FineWebQualityFilter
  -> ParquetWriter, with the settings of ccsieve's default config (see ``build_datatrove_pipeline``).

Fairness. Every measured run is a fresh Python process, pinned to one CPU (the extraction child
processes both pipelines start inherit the pin), so no model, tokenizer or extraction process is
reused between runs. In that process the same libraries are imported first, outside the timer
(``import_seconds`` is reported); the timer (``time.perf_counter``) then covers the whole run:
building the pipeline, loading lid.176 and spaCy, starting the extraction child, reading, extracting,
filtering, writing Parquet and each framework's own stats files. Interpreter start is not timed.
Runs alternate ccsieve, datatrove, ccsieve, ... and the median of ``--repeat`` runs is reported.

Nothing is downloaded: datatrove's language filter is pointed at the local lid.176.ftz that ccsieve
uses (``filters.models.lid176_path()``) instead of fetching lid.176.bin.

Usage (from the repository root)::

    .venv/bin/python benchmarks/throughput.py [--input WARC] [--repeat N] [--limit K] [--payload-type]

``--payload-type`` adds WARC-Identified-Payload-Type to a temporary copy of the input first: real
Common Crawl WARCs carry it, the bench WARC does not, and without it datatrove's reader asks libmagic,
which skips some HTML pages as JavaScript or XML (see docs/performance.md).

datatrove's steps need packages ccsieve does not: ``.venv/bin/pip install faust-cchardet python-magic
warcio fasteners`` (the first three are the ``bench`` extra; LanguageFilter also wants fasteners).
python-magic loads the system library libmagic1 (``apt-get install -y libmagic1`` where it is missing).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO_ROOT.parent / "shared" / "testdata" / "bench-warc" / "bench.warc.gz"
PIPELINES = ("ccsieve", "datatrove")

# ccsieve's default extract stage (jobs/configs/default.yaml): trafilatura defaults, no dedup cache,
# tables in, comments out, 5 s per page.
EXTRACT_TIMEOUT_S = 5.0
LANGUAGES = ["en"]
LANGUAGE_THRESHOLD = 0.65

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


# --------------------------------------------------------------------------------------------------
# datatrove's pipeline
# --------------------------------------------------------------------------------------------------


def _local_language_filter(model_path: str) -> Any:
    """datatrove's LanguageFilter (ft176 backend) reading a local fastText file instead of downloading.

    datatrove's ``FT176LID.model`` fetches lid.176.bin through ``cached_asset_path_or_download``; the
    subclass below changes only where the file comes from, so prediction and the keep rule are datatrove's.
    """
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.utils.lid import FT176LID

    class LocalFT176LID(FT176LID):
        def __init__(self, languages: list[str] | None, path: str) -> None:
            super().__init__(languages)
            self.path = path

        @property
        def model(self) -> Any:
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(self.path)
            return self._model

    language_filter = LanguageFilter(languages=LANGUAGES, language_threshold=LANGUAGE_THRESHOLD)
    language_filter.model = LocalFT176LID(language_filter.languages, model_path)
    return language_filter


def build_datatrove_steps(model_path: str) -> list[Any]:
    """datatrove's steps between reader and writer, matching ccsieve's default stages."""
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return [
        # datatrove hard-codes include_comments=False; include_tables=True is trafilatura's default.
        Trafilatura(
            favour_precision=False, timeout=EXTRACT_TIMEOUT_S, deduplicate=False, include_tables=True
        ),
        _local_language_filter(model_path),
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
    ]


def build_datatrove_pipeline(input_path: Path, output_dir: Path, model_path: str) -> list[Any]:
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import ParquetWriter

    return [
        WarcReader(str(input_path.parent), glob_pattern=input_path.name, recursive=False),
        *build_datatrove_steps(model_path),
        # zstd as ccsieve's sink (datatrove's default is snappy); datatrove's other writer defaults kept.
        ParquetWriter(str(output_dir / "data"), compression="zstd"),
    ]


# --------------------------------------------------------------------------------------------------
# One measured run (executed in a fresh child process)
# --------------------------------------------------------------------------------------------------


# Imported in every measured process before its timer starts, whichever pipeline it runs.
PRELOADED_MODULES = (
    "datatrove.executor",
    "datatrove.pipeline.extractors",
    "datatrove.pipeline.filters",
    "datatrove.pipeline.readers",
    "datatrove.pipeline.writers",
    "fasttext",
    "pyarrow.parquet",
    "spacy",
    "trafilatura",
    "filters.heuristics",
    "filters.language",
    "pipeline.run",
)


def _import_everything() -> None:
    """The same imports for both pipelines, done before the timer starts."""
    for module in PRELOADED_MODULES:
        importlib.import_module(module)


def run_ccsieve(input_path: Path, output_dir: Path) -> dict[str, Any]:
    from pipeline.config import load_config
    from pipeline.run import run_pipeline

    start = time.perf_counter()
    stats = run_pipeline(
        [str(input_path)],
        str(output_dir),
        load_config(),
        executor="local",
        workers=1,
        overwrite=True,
        progress=False,
    )
    seconds = time.perf_counter() - start
    data = stats.to_dict()
    return {
        "seconds": seconds,
        "kept": data["kept"],
        "records_read": data["responses_read"],
        "steps": {
            label: {"seconds": s["seconds"], "in": s["seen"], "out": s["kept"], "dropped": s["dropped"]}
            for label, s in data["stages"].items()
        },
    }


def run_datatrove(input_path: Path, output_dir: Path) -> dict[str, Any]:
    from datatrove.executor import LocalPipelineExecutor

    from filters.models import lid176_path

    start = time.perf_counter()
    executor = LocalPipelineExecutor(
        build_datatrove_pipeline(input_path, output_dir, str(lid176_path())),
        tasks=1,
        workers=1,
        logging_dir=str(output_dir / "logs"),
        skip_completed=False,
    )
    stats = executor.run()
    seconds = time.perf_counter() - start
    steps: dict[str, Any] = {}
    kept = 0
    for step in stats.stats:
        counts = {k: _count(v) for k, v in step.stats.to_dict().items()}
        label = "".join(ch for ch in step.name.rsplit(":", 1)[-1] if ch.isascii()).strip()
        if "READER" in step.name:
            passed = counts.get("documents", 0)
        elif "WRITER" in step.name:
            passed = kept = counts.get("total", 0)
        else:
            passed = counts.get("forwarded", 0)
        steps[label] = {
            "seconds": step.time_stats.total,
            "in": counts.get("total"),
            "out": passed,
            "dropped": {
                k: v for k, v in counts.items() if k.startswith("dropped") or k in ("timeout", "clean_error")
            },
        }
    return {"seconds": seconds, "kept": kept, "steps": steps}


def _count(value: Any) -> int:
    """A datatrove counter as an int (its to_dict gives 0, or a dict with "total")."""
    return int(value.get("total", 0)) if isinstance(value, dict) else int(value)


def worker_main(name: str, input_path: Path, output_dir: Path, cpu: int) -> None:
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    start = time.perf_counter()
    _import_everything()
    import_seconds = time.perf_counter() - start
    run = run_ccsieve if name == "ccsieve" else run_datatrove
    result = run(input_path, output_dir)
    result["import_seconds"] = import_seconds
    result["pipeline"] = name
    print("RESULT " + json.dumps(result), flush=True)


def measure(name: str, input_path: Path, output_dir: Path, cpu: int) -> dict[str, Any]:
    """Run one pipeline in a fresh interpreter and return what it measured."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
    cmd += ["--input", str(input_path), "--output", str(output_dir), "--cpu", str(cpu)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise RuntimeError(f"{name} run failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1].removeprefix("RESULT "))


# --------------------------------------------------------------------------------------------------
# Input preparation
# --------------------------------------------------------------------------------------------------


def count_responses(path: Path) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    with open(path, "rb") as fh:
        return sum(1 for _ in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=False))


def truncate_warc(src: Path, dst: Path, limit: int) -> None:
    """Copy the head of ``src`` up to (not including) the request/response after the ``limit``-th response."""
    from warcio.archiveiterator import ArchiveIterator

    responses = 0
    cut: int | None = None
    with open(src, "rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            if record.rec_type in ("request", "response") and responses >= limit:
                cut = records.get_record_offset()
                break
            if record.rec_type == "response":
                responses += 1
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        if cut is None:
            shutil.copyfileobj(fin, fout)
        else:
            fout.write(fin.read(cut))


def add_payload_type(src: Path, dst: Path) -> int:
    """Copy a WARC of one gzip member per record, adding ``WARC-Identified-Payload-Type`` (the HTTP
    Content-Type's MIME type) to each response that lacks it, as Common Crawl's WARCs have it.

    Without the header datatrove's WarcReader asks libmagic, which calls some HTML pages JavaScript or
    XML and skips them; ccsieve ignores the header. Returns the number of records changed.
    """
    data = src.read_bytes()
    changed = 0
    pos = 0
    with open(dst, "wb") as out:
        while pos < len(data):
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            record = inflater.decompress(data[pos:])
            end = len(data) - len(inflater.unused_data)
            head, sep, block = record.partition(b"\r\n\r\n")
            if b"\r\nWARC-Type: response" in head and b"WARC-Identified-Payload-Type" not in head:
                http_head = block.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1")
                mime = next(
                    (
                        line.split(":", 1)[1].split(";", 1)[0].strip().lower()
                        for line in http_head.splitlines()[1:]
                        if line.lower().startswith("content-type:")
                    ),
                    None,
                )
                if mime:
                    head += f"\r\nWARC-Identified-Payload-Type: {mime}".encode()
                    record = head + sep + block
                    changed += 1
                    out.write(gzip.compress(record, compresslevel=6, mtime=0))
                    pos = end
                    continue
            out.write(data[pos:end])
            pos = end
    return changed


# --------------------------------------------------------------------------------------------------
# Comparing what was kept
# --------------------------------------------------------------------------------------------------


def _read_parquet(folder: Path, columns: list[str]) -> dict[str, dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.parquet")):
        for row in pq.read_table(path, columns=columns).to_pylist():
            rows[row["id"]] = row
    return rows


def _reader_reason(payload: bytes, payload_type: str | None) -> str:
    """Why datatrove's WarcReader skipped a response; mirrors ``process_record`` of
    ``datatrove.pipeline.readers.warc`` (libmagic decides when WARC-Identified-Payload-Type is absent)."""
    import cchardet
    import magic

    html_types = ("text/html", "application/xhtml+xml")
    if payload_type is not None and payload_type not in html_types:
        return f"reader: WARC-Identified-Payload-Type {payload_type}"
    if payload_type is None:
        mime = magic.from_buffer(payload, mime=True)
        if mime not in html_types:
            return f"reader: libmagic says {mime}"
    return f"reader: not UTF-8, cchardet says {cchardet.detect(payload)['encoding']}"


def _datatrove_verdict(html: str, steps: list[Any]) -> tuple[str, str | None]:
    """Where datatrove drops one page, replayed in this process (extraction without the time limit)."""
    from datatrove.data import Document

    extractor, *filters = steps
    text = extractor.extract(html)
    if not text:
        return "extract: no text", None
    doc = Document(text=text, id="x", metadata={})
    for step in filters:
        result = step.filter(doc)
        keep, reason = (result, None) if isinstance(result, bool) else result
        if not keep:
            label = "".join(ch for ch in step.name if ch.isascii()).strip()
            detail = ""
            if "language_score" in doc.metadata and "Language" in label:
                detail = f" (top {doc.metadata['language']})"
            return f"{label}: {reason or 'dropped'}{detail}", text
    return "kept when replayed (extraction timeout or error in the timed run?)", text


def _response_offsets(path: Path, wanted: set[str]) -> dict[str, int]:
    from warcio.archiveiterator import ArchiveIterator

    offsets = {}
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            doc_id = record.rec_headers.get_header("WARC-Record-ID")
            if record.rec_type == "response" and doc_id in wanted:
                offsets[doc_id] = records.get_record_offset()
    return offsets


def _record_at(fh: Any, offset: int) -> Any:
    from warcio.archiveiterator import ArchiveIterator

    fh.seek(offset)
    return next(iter(ArchiveIterator(fh)))


def replay_datatrove(
    input_path: Path, ids: list[str], ccsieve_text: dict[str, str]
) -> tuple[Counter[str], int]:
    """Where datatrove drops each of ``ids``, replayed step by step in this process (untimed).

    Returns the reasons and how many of the pages extract to the same text as ccsieve's.
    """
    from datatrove.pipeline.readers.warc import process_record

    from filters.models import lid176_path

    steps = build_datatrove_steps(str(lid176_path()))
    reasons: Counter[str] = Counter()
    same_text = 0
    with open(input_path, "rb") as fh:
        for doc_id, offset in _response_offsets(input_path, set(ids)).items():
            extracted = process_record(_record_at(fh, offset))
            if extracted is None:  # process_record consumed the payload: read it again
                record = _record_at(fh, offset)
                payload_type = record.rec_headers.get_header("WARC-Identified-Payload-Type")
                reasons[_reader_reason(record.content_stream().read(), payload_type)] += 1
                continue
            verdict, text = _datatrove_verdict(extracted["text"], steps)
            reasons[verdict] += 1
            same_text += text is not None and text.strip() == ccsieve_text[doc_id].strip()
    return reasons, same_text


def compare_outputs(input_path: Path, ccsieve_dir: Path, datatrove_dir: Path) -> dict[str, Any]:
    """Kept documents of the two runs, compared by WARC-Record-ID, with why the other side dropped them."""
    logging.getLogger("warcio").setLevel(logging.ERROR)  # one URL of the bench WARC has a space in it
    cc_kept = _read_parquet(ccsieve_dir / "data", ["id", "text"])
    dt_kept = _read_parquet(datatrove_dir / "data", ["id", "text"])
    cc_drops = _read_parquet(ccsieve_dir / "dropped", ["id", "stage", "reason"])
    only_cc = sorted(set(cc_kept) - set(dt_kept))
    only_dt = sorted(set(dt_kept) - set(cc_kept))
    both = set(cc_kept) & set(dt_kept)

    why_cc_dropped: Counter[str] = Counter()
    for doc_id in only_dt:
        drop = cc_drops.get(doc_id)
        why_cc_dropped[f"{drop['stage']}: {drop['reason']}" if drop else "not found"] += 1
    why_dt_dropped, same_text_only_cc = replay_datatrove(
        input_path, only_cc, {i: cc_kept[i]["text"] for i in only_cc}
    )
    same_text = sum(cc_kept[i]["text"].strip() == dt_kept[i]["text"].strip() for i in both)
    return {
        "kept_both": len(both),
        "kept_only_ccsieve": len(only_cc),
        "kept_only_datatrove": len(only_dt),
        "kept_both_same_text": same_text,
        "only_ccsieve_datatrove_drop": dict(why_dt_dropped.most_common()),
        "only_ccsieve_same_extracted_text": same_text_only_cc,
        "only_datatrove_ccsieve_drop": dict(why_cc_dropped.most_common()),
    }


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def _median_steps(runs: list[dict[str, Any]]) -> dict[str, float]:
    labels = list(runs[0]["steps"])
    return {label: statistics.median(r["steps"][label]["seconds"] for r in runs) for label in labels}


def summarise(name: str, runs: list[dict[str, Any]], docs_in: int) -> dict[str, Any]:
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "docs_in": docs_in,
        "kept": runs[-1]["kept"],
        "seconds": round(seconds, 3),
        "seconds_all": [round(r["seconds"], 3) for r in runs],
        "docs_per_s": round(docs_in / seconds, 2),
        "import_seconds": round(statistics.median(r["import_seconds"] for r in runs), 3),
        "step_seconds": {k: round(v, 3) for k, v in _median_steps(runs).items()},
        "steps": runs[-1]["steps"],
    }


def print_report(result: dict[str, Any]) -> None:
    cc, dt = result["ccsieve"], result["datatrove"]
    print()
    variant = ", WARC-Identified-Payload-Type added" if result["payload_type_added"] else ""
    print(f"input: {result['input']}  ({result['docs_in']} response records{variant})")
    pin = f"pinned to CPU {result['cpu']}" if result["cpu"] >= 0 else "not pinned"
    print(f"runs: {result['repeat']} per pipeline, alternating; one process each, {pin}")
    print()
    header = f"{'pipeline':<10} {'docs in':>8} {'kept':>6} {'seconds':>9} {'docs/s':>8}   all runs (s)"
    print(header)
    print("-" * len(header))
    for name, s in (("ccsieve", cc), ("datatrove", dt)):
        runs = ", ".join(f"{x:.2f}" for x in s["seconds_all"])
        figures = f"{s['docs_in']:>8} {s['kept']:>6} {s['seconds']:>9.2f} {s['docs_per_s']:>8.2f}"
        print(f"{name:<10} {figures}   {runs}")
    print()
    print(f"throughput ratio ccsieve/datatrove (docs/s): {result['ratio_ccsieve_over_datatrove']:.3f}")
    imports = f"ccsieve {cc['import_seconds']:.2f} s, datatrove {dt['import_seconds']:.2f} s"
    print(f"imports before the timer (not counted): {imports}")
    for name, s in (("ccsieve", cc), ("datatrove", dt)):
        print()
        print(f"{name} steps (median seconds; in -> out of the last run):")
        for label, secs in s["step_seconds"].items():
            step = s["steps"][label]
            dropped = ", ".join(f"{k} {v}" for k, v in sorted(step["dropped"].items(), key=lambda kv: -kv[1]))
            seen = "-" if step["in"] is None else str(step["in"])
            print(f"  {label:<20} {secs:>8.2f}  {seen:>5} -> {step['out']:<5} {dropped}")
    diff = result["kept_diff"]
    print()
    print(
        f"kept by both: {diff['kept_both']} ({diff['kept_both_same_text']} with identical text); "
        f"only ccsieve: {diff['kept_only_ccsieve']}; only datatrove: {diff['kept_only_datatrove']}"
    )
    if diff["only_ccsieve_datatrove_drop"]:
        print("  kept only by ccsieve -- where datatrove drops them (replayed):")
        for reason, n in diff["only_ccsieve_datatrove_drop"].items():
            print(f"    {n:>4}  {reason}")
        print(f"    ({diff['only_ccsieve_same_extracted_text']} of them extract to the same text in both)")
    if diff["only_datatrove_ccsieve_drop"]:
        print("  kept only by datatrove -- where ccsieve dropped them:")
        for reason, n in diff["only_datatrove_ccsieve_drop"].items():
            print(f"    {n:>4}  {reason}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="WARC file (default: bench WARC)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per pipeline, alternating; median shown")
    parser.add_argument("--limit", type=int, default=None, help="use only the first K response records")
    parser.add_argument(
        "--payload-type",
        action="store_true",
        help="add WARC-Identified-Payload-Type to the responses first, as Common Crawl WARCs have it",
    )
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin each run to (-1: no pinning)")
    parser.add_argument("--keep-output", action="store_true", help="keep the temporary output folders")
    parser.add_argument("--worker", choices=PIPELINES, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # Belt and braces: nothing here downloads, and the Hugging Face hub client that datatrove imports
    # must not try either (inherited by the measured processes).
    os.environ["HF_HUB_OFFLINE"] = "1"
    cpu = max(os.sched_getaffinity(0)) if args.cpu is None else args.cpu

    if args.worker:
        worker_main(args.worker, args.input, args.output, cpu)
        return 0

    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.input.is_file():
        parser.error(f"input not found: {args.input}")
    workdir = Path(tempfile.mkdtemp(prefix="ccsieve-bench-"))
    try:
        input_path = args.input.resolve()
        if args.limit is not None:
            input_path = workdir / f"first{args.limit}.warc.gz"
            truncate_warc(args.input, input_path, args.limit)
        if args.payload_type:
            typed = workdir / "typed.warc.gz"
            changed = add_payload_type(input_path, typed)
            print(f"added WARC-Identified-Payload-Type to {changed} responses", flush=True)
            input_path = typed
        docs_in = count_responses(input_path)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PIPELINES}
        for i in range(args.repeat):
            for name in PIPELINES:
                out = workdir / f"{name}-{i}"
                result = measure(name, input_path, out, cpu)
                runs[name].append(result)
                print(
                    f"run {i + 1}/{args.repeat} {name:<9} {result['seconds']:8.2f} s  kept {result['kept']}",
                    flush=True,
                )
                if i < args.repeat - 1:
                    shutil.rmtree(out, ignore_errors=True)
        last = args.repeat - 1
        cc = summarise("ccsieve", runs["ccsieve"], docs_in)
        dt = summarise("datatrove", runs["datatrove"], docs_in)
        result = {
            "input": os.path.relpath(args.input, REPO_ROOT),
            "limit": args.limit,
            "payload_type_added": args.payload_type,
            "docs_in": docs_in,
            "repeat": args.repeat,
            "cpu": cpu,
            "ccsieve": cc,
            "datatrove": dt,
            "ratio_ccsieve_over_datatrove": round(cc["docs_per_s"] / dt["docs_per_s"], 3),
            "kept_diff": compare_outputs(
                input_path, workdir / f"ccsieve-{last}", workdir / f"datatrove-{last}"
            ),
        }
        print_report(result)
        if args.keep_output:
            print(f"\noutputs kept in {workdir}")
        for s in (cc, dt):
            del s["steps"]
        print(json.dumps(result, sort_keys=True))
    finally:
        if not args.keep_output:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
