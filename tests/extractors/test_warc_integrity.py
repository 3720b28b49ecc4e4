"""The independent WARC structure check: no false alarms on real WARCs, and every cut or lie noticed."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
from fastwarc.warc import ArchiveIterator, WarcRecordType

from extractors.warc import SourceError, WarcReader
from extractors.warc_integrity import CheckedStream
from pipeline.document import DropRecord
from tests.conftest import TESTDATA

DAMAGED = ("truncated", "bad_warc_headers")  # the reasons of records the cut itself damaged
REAL = [
    *sorted((TESTDATA / "warc-dolma").glob("*.warc.gz")),
    TESTDATA / "warc-resiliparse" / "warcfile.warc.gz",
    TESTDATA / "warc-resiliparse" / "clueweb-quirk.warc.gz",
    TESTDATA / "warc-whirlwind" / "whirlwind.warc.gz",
]


def _verdict(data: bytes) -> tuple[str | None, int]:
    import io

    stream = CheckedStream(io.BytesIO(data))
    while stream.read(4096):
        pass
    return stream.drain(), stream.framing.records


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_warcs_pass_and_every_record_is_framed(path: Path) -> None:
    data = path.read_bytes()
    with open(path, "rb") as fh:
        records = sum(1 for _ in ArchiveIterator(fh))
    assert _verdict(data) == (None, records)
    assert _verdict(gzip.decompress(data)) == (None, records)  # the same file uncompressed


def _spans(path: Path) -> list[tuple[int, int, bool]]:
    with open(path, "rb") as fh:
        starts = [(int(r.stream_pos), r.record_type == WarcRecordType.response) for r in ArchiveIterator(fh)]
    ends = [s for s, _ in starts[1:]] + [path.stat().st_size]
    return [(s, e, resp) for (s, resp), e in zip(starts, ends, strict=True)]


@pytest.mark.parametrize("name", ["sample-0001.warc.gz", "plain"])
def test_every_cut_is_detected_and_intact_records_kept(name: str, tmp_path: Path) -> None:
    source = TESTDATA / "warc-dolma" / "sample-0001.warc.gz"
    path = source
    if name == "plain":
        path = tmp_path / "sample.warc"
        path.write_bytes(gzip.decompress(source.read_bytes()))
    data = path.read_bytes()
    spans = _spans(path)
    boundaries = {s for s, _, _ in spans}
    cut = tmp_path / ("cut" + "".join(path.suffixes))
    tested = 0
    for point in range(7, len(data), len(data) // 150):  # 150 cuts spread over the file
        if point in boundaries:
            continue  # a cut between records leaves a valid WARC: nothing can tell
        cut.write_bytes(data[:point])
        kept = 0
        with pytest.raises(SourceError) as info:
            for item in WarcReader().read(str(cut)):
                kept += not (isinstance(item, DropRecord) and item.reason in DAMAGED)
        assert "cut" in str(info.value) or "truncated" in str(info.value), info.value
        # Exactly the responses whose record ends before the cut come out as documents or plain drops.
        assert kept == sum(1 for _, end, resp in spans if resp and end <= point), point
        tested += 1
    assert tested >= 140


def _plain_record(body: bytes, declared: int | None = None, record_type: str = "response") -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    length = len(http) if declared is None else declared
    head = (
        f"WARC/1.0\r\nWARC-Type: {record_type}\r\nWARC-Record-ID: <urn:uuid:{abs(hash(body))}>\r\n"
        f"WARC-Target-URI: http://a/\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    return head + http + b"\r\n\r\n"


def test_lying_content_length_is_reported(tmp_path: Path) -> None:
    good = _plain_record(b"<p>one</p>")
    for declared in (len(good) - 20, 5):  # shorter than the block: the rest reads as garbage
        bad = _plain_record(b"<p>two</p>", declared=declared)
        verdict, _ = _verdict(good + bad + good)
        assert verdict is not None and ("CRLF" in verdict or "expected a WARC record" in verdict), verdict
    longer = _plain_record(b"<p>two</p>", declared=10_000)  # longer than the file: a cut
    verdict, _ = _verdict(good + longer)
    assert verdict is not None and "cut inside" in verdict


def test_gzip_damage_is_reported(tmp_path: Path) -> None:
    one = gzip.compress(_plain_record(b"<p>one</p>"))
    two = gzip.compress(_plain_record(b"<p>two</p>"))
    assert _verdict(one + two)[0] is None
    crc = bytearray(two)
    crc[-6] ^= 0xFF  # the CRC-32 in the trailer
    assert "incorrect data check" in str(_verdict(one + bytes(crc))[0])
    assert "gzip member" in str(_verdict(one + two + b"trailing junk")[0])
    assert "cut short" in str(_verdict(one + two[:-3])[0])  # only the trailer's last bytes missing
    # A zero-length record is valid framing.
    empty = gzip.compress(b"WARC/1.0\r\nWARC-Type: metadata\r\nContent-Length: 0\r\n\r\n\r\n\r\n")
    assert _verdict(one + empty) == (None, 2)


def test_checker_memory_is_bounded_on_endless_headers() -> None:
    verdict, _ = _verdict(b"WARC/1.0\r\n" + b"X-Header: " + b"a" * (3 << 20))
    assert verdict is not None and "no end of headers" in verdict


def test_zlib_bomb_member_is_read_in_constant_memory() -> None:
    # 200 MB of zeros in one record, 200 KB compressed: checked without holding it.
    import resource

    block = zlib.compressobj(9, zlib.DEFLATED, 31)
    header = b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: %d\r\n\r\n" % (200 << 20)
    parts = [block.compress(header)]
    zeros = bytes(1 << 20)
    parts += [block.compress(zeros) for _ in range(200)]
    parts.append(block.compress(b"\r\n\r\n") + block.flush())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert _verdict(b"".join(parts)) == (None, 1)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: far below 200 MB
