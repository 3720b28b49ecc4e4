"""Hostile inputs: a corpus of malformed WARCs plus seeded mutations of real ones, through the job.

The corpus (``malformed_corpus``): wrong Content-Length both ways, zero-length records, binary
payloads labelled text/html, undecodable and mis-declared charsets, an HTTP gzip bomb, a WARC-level
gzip bomb, garbage, an empty file, a WARC cut inside its headers. The mutations (``mutate``) take the
real WARCs of ../shared/testdata and the bundled samples and, seeded, either damage the compressed
bytes (flip, cut, insert, append) or damage one record's content and recompress it (Content-Length,
header lines, HTTP status line, body bytes, charset label, binary body, NUL bytes, duplicate or
dropped records).

``check_run`` then holds the run to its promises: the job exits normally (0, or 1 when an input was
reported), every input has its marker, every failed input an error message, every stage's counts add
up (seen = kept + dropped, each stage seeing what the previous kept, the reader seeing every
response), the rows on disk match the counts, and every quarantined record is in the quarantine
table with its reason. Usage (from the repository root)::

    .venv/bin/python benchmarks/malformed_warcs.py --mutations 1000 --work /tmp/malformed
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pyarrow.parquet as pq  # noqa: E402 -- after sys.path

REAL_WARCS = [
    *sorted((REPO_ROOT / "jobs" / "samples").glob("*.warc.gz")),
    *sorted((TESTDATA / "warc-dolma").glob("*.warc.gz")),
    TESTDATA / "warc-resiliparse" / "warcfile.warc.gz",
    TESTDATA / "warc-resiliparse" / "clueweb-quirk.warc.gz",
    TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz",
]
PAGE = (
    b"<html><head><title>t</title></head><body>"
    + b"<p>A sentence of ordinary prose, kept.</p>" * 20
    + b"</body></html>"
)


def record(http: bytes, n: int, *, declared: int | None = None, record_type: str = "response") -> bytes:
    length = len(http) if declared is None else declared
    head = (
        f"WARC/1.0\r\nWARC-Type: {record_type}\r\nWARC-Record-ID: <urn:uuid:malformed-{n}>\r\n"
        f"WARC-Target-URI: http://malformed.example/{n}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    return head + http + b"\r\n\r\n"


def http(body: bytes, headers: str = "Content-Type: text/html") -> bytes:
    return f"HTTP/1.1 200 OK\r\n{headers}\r\n\r\n".encode() + body


def _gz(*records: bytes) -> bytes:
    return b"".join(gzip.compress(r) for r in records)


def _warc_bomb(size: int) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:bomb>\r\n"
        f"WARC-Target-URI: http://bomb.example/\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    out = [deflate.compress(head)]
    chunk = bytes(1 << 20)
    out += [deflate.compress(chunk) for _ in range(size >> 20)]
    return b"".join(out) + deflate.compress(b"\r\n\r\n") + deflate.flush()


def malformed_corpus() -> dict[str, bytes]:
    """Named hand-made cases; each name says what is wrong."""
    good = record(http(PAGE), 1)
    page2 = http(PAGE)
    bomb_body = gzip.compress(bytes(200 << 20))  # 200 MB of zeros behind Content-Encoding: gzip
    latin1 = "Content-Type: text/html; charset=iso-8859-1"
    not_a_number = record(page2, 2).replace(b"Content-Length: ", b"Content-Length: x")
    return {
        "content-length-too-short.warc.gz": _gz(good, record(page2, 2, declared=40), record(page2, 3)),
        "content-length-too-long.warc.gz": _gz(good, record(page2, 2, declared=10**6)),
        "content-length-not-a-number.warc": good + not_a_number,
        "zero-length-records.warc.gz": _gz(record(b"", 1), good, record(b"", 3, record_type="metadata")),
        "binary-labelled-html.warc.gz": _gz(record(http(random.Random(1).randbytes(50_000)), 1), good),
        "png-labelled-html.warc.gz": _gz(record(http(b"\x89PNG\r\n\x1a\n" + bytes(5000)), 1), good),
        "undecodable-utf8.warc.gz": _gz(
            record(http(b"<p>caf\xe9 \xff\xfe broken</p>" * 50, "Content-Type: text/html; charset=utf-8"), 1)
        ),
        "wrong-charset-declared.warc.gz": _gz(
            record(http("<p>Grüße aus Köln.</p>".encode("utf-16"), latin1), 1)
        ),
        "nonsense-charset.warc.gz": _gz(record(http(PAGE, "Content-Type: text/html; charset=x-bogus"), 1)),
        "http-gzip-bomb.warc.gz": _gz(
            record(http(bomb_body, "Content-Type: text/html\r\nContent-Encoding: gzip"), 1), good
        ),
        "warc-gzip-bomb.warc.gz": _warc_bomb(300 << 20) + gzip.compress(good),
        "garbage.warc.gz": random.Random(2).randbytes(100_000),
        "garbage-after-records.warc.gz": _gz(good) + random.Random(3).randbytes(5000),
        "empty.warc.gz": b"",
        "cut-in-headers.warc.gz": _gz(good) + gzip.compress(record(page2, 2))[:60],
        "no-http-status.warc.gz": _gz(record(b"<html>no status line</html>", 1), good),
        "chunked-lie.warc.gz": _gz(
            record(http(b"zz\r\n" + PAGE, "Content-Type: text/html\r\nTransfer-Encoding: chunked"), 1)
        ),
        "nul-bytes.warc.gz": _gz(record(http(PAGE.replace(b"prose", b"pr\x00se")), 1)),
    }


def _members(data: bytes) -> list[bytes]:
    """The decompressed records of a per-record-gzip WARC."""
    out, rest = [], data
    while rest:
        d = zlib.decompressobj(31)
        out.append(d.decompress(rest))
        rest = d.unused_data
    return out


def _mutate_record(rec: bytes, rng: random.Random) -> bytes:
    head, _, block = rec.partition(b"\r\n\r\n")
    op = rng.randrange(9)
    if op == 0:  # Content-Length off by a little or a lot
        delta = rng.choice([-1, 1, -100, 100, 10**6])
        value = b"%d" % max(0, len(block) - 4 + delta)
        return (
            re.sub(rb"(?im)^(content-length:\s*)\d+", lambda m: m.group(1) + value, head, count=1)
            + b"\r\n\r\n"
            + block
        )
    if op == 1:  # drop a header line
        lines = head.split(b"\r\n")
        del lines[rng.randrange(len(lines))]
        return b"\r\n".join(lines) + b"\r\n\r\n" + block
    if op == 2:  # flip bytes in the block
        b = bytearray(block)
        for _ in range(rng.randint(1, 50)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        return head + b"\r\n\r\n" + bytes(b)
    if op == 3:  # body replaced by binary of the same length, labels kept
        status, sep, _ = block.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n" + status + sep + rng.randbytes(max(0, len(block) - len(status) - len(sep)))
    if op == 4:  # charset label changed to another (or an impossible) one
        label = rng.choice([b"utf-16", b"shift_jis", b"koi8-r", b"x-bogus", b"utf-8"])
        return head + b"\r\n\r\n" + block.replace(b"charset=", b"charset=" + label + b";was=", 1)
    if op == 5:  # NUL bytes sprinkled in
        b = bytearray(block)
        for _ in range(rng.randint(1, 20)):
            b.insert(rng.randrange(len(b) + 1), 0)
        return head + b"\r\n\r\n" + bytes(b)
    if op == 6:  # block cut (Content-Length now a lie)
        return head + b"\r\n\r\n" + block[: rng.randrange(len(block) + 1)]
    if op == 7:  # HTTP status line mangled
        return (
            head + b"\r\n\r\n" + rng.choice([b"", b"HTTP/1.1 ", b"HTTP/1.1 abc OK", b"garbage"]) + block[15:]
        )
    return head.replace(b"WARC/1.0", rng.choice([b"WARC/9.9", b"WRAC/1.0", b""]), 1) + b"\r\n\r\n" + block


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One seeded mutation of a per-record-gzip WARC."""
    if rng.random() < 0.4:  # damage the compressed bytes
        b = bytearray(data)
        op = rng.randrange(4)
        if op == 0:
            for _ in range(rng.randint(1, 10)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif op == 1:
            del b[rng.randrange(len(b)) :]
        elif op == 2:
            at = rng.randrange(len(b))
            b[at:at] = rng.randbytes(rng.randint(1, 500))
        else:
            b += rng.randbytes(rng.randint(1, 500))
        return bytes(b)
    records = _members(data)
    choice = rng.random()
    i = rng.randrange(len(records))
    if choice < 0.1:
        records.insert(i, records[i])  # a duplicated record
    elif choice < 0.2:
        del records[i]
    else:
        records[i] = _mutate_record(records[i], rng)
    return b"".join(gzip.compress(r) for r in records)


def write_corpus(folder: Path, mutations: int, seed: int = 0) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in malformed_corpus().items():
        (folder / name).write_bytes(data)
    rng = random.Random(seed)
    sources = [(p.name, p.read_bytes()) for p in REAL_WARCS]
    for n in range(mutations):
        name, data = sources[n % len(sources)]
        (folder / f"mut-{n:05d}-{name}").write_bytes(mutate(data, rng))
    return len(malformed_corpus()) + mutations


def check_run(output: Path, inputs: list[Path]) -> dict[str, Any]:
    """The promises of the module docstring; returns counts, raises AssertionError on a broken one."""
    import yaml

    from pipeline.sinks import source_key

    config = yaml.safe_load((output / "config.yaml").read_text())
    order = ["read", *(spec.get("label", spec["stage"]) for spec in config["stages"])]
    markers = {
        m["source"]: m for m in (json.loads(p.read_text()) for p in (output / "_markers").glob("*.json"))
    }
    assert {str(p) for p in inputs} <= set(markers), "an input has no marker (lost)"
    reasons: Counter[str] = Counter()
    failed = quarantined = 0
    for source, marker in markers.items():
        key = source_key(source)
        assert marker["status"] in ("ok", "failed"), marker
        if marker["status"] == "failed":
            failed += 1
            assert marker["error"], f"{source}: failed without an error message"
        stages = [(label, marker["stages"][label]) for label in order]
        assert stages[0][1]["seen"] == marker["responses_read"], source
        previous_kept = None
        dropped_total = 0
        for label, s in stages:
            drops = sum(s["dropped"].values())
            assert s["seen"] == s["kept"] + drops, f"{source}: {label} does not add up"
            assert previous_kept is None or s["seen"] == previous_kept, f"{source}: {label} lost documents"
            previous_kept = s["kept"]
            dropped_total += drops
            reasons.update(s["dropped"])
        rows = sum(pq.read_metadata(output / "data" / f).num_rows for f in marker.get("shards", []))
        assert rows == previous_kept == marker["rows"], f"{source}: rows on disk differ from the counts"
        drop_file = output / "dropped" / f"{key}.parquet"
        drop_rows = pq.read_table(drop_file) if drop_file.exists() else None
        assert (drop_rows.num_rows if drop_rows is not None else 0) == dropped_total, f"{source}: drop rows"
        if drop_rows is not None:
            assert all(drop_rows.column("reason").to_pylist()), f"{source}: a drop without a reason"
            q = sum(drop_rows.column("quarantined").to_pylist())
            q_file = output / "quarantine" / f"{key}.parquet"
            assert q == (pq.read_metadata(q_file).num_rows if q_file.exists() else 0), f"{source}: quarantine"
            quarantined += q
    assert not any((output / "_tmp").glob("**/*.parquet")), "temporary files left"
    return {"inputs": len(markers), "failed_inputs": failed, "quarantined": quarantined, "reasons": reasons}


def run_job(corpus: Path, output: Path, config: Path, timeout: int) -> tuple[int, str, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "jobs.process_cc", "--config", str(config), "--input", str(corpus),
         "--output", str(output), "--no-progress", "--overwrite"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return proc.returncode, proc.stderr, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--mutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "benchmarks" / "reliability" / "fast.yaml")
    parser.add_argument("--timeout", type=int, default=3600, help="the whole job's limit: a hang fails")
    args = parser.parse_args()
    corpus = args.work / "corpus"
    count = write_corpus(corpus, args.mutations, args.seed)
    code, stderr, seconds = run_job(corpus, args.work / "out", args.config, args.timeout)
    crashed = "Traceback" in stderr or code not in (0, 1)
    print(f"{count} inputs ({len(malformed_corpus())} hand-made, {args.mutations} mutations); "
          f"job exit {code} in {seconds:.0f} s; crashed: {crashed}")  # fmt: skip
    result = check_run(args.work / "out", sorted(corpus.iterdir()))
    print(f"markers {result['inputs']}, inputs reported failed {result['failed_inputs']}, "
          f"records quarantined {result['quarantined']}")  # fmt: skip
    print("drop reasons:", ", ".join(f"{r} {n}" for r, n in result["reasons"].most_common()))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
