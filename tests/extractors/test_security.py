"""XML external entities and entity expansion are inert in extraction, on every path a page takes.

Hostile pages (HTML, XHTML served as ``application/xhtml+xml`` with an XML declaration, MathML and SVG
islands carrying their own DOCTYPE) declare entities that point at a canary file, at a FIFO and at a
TCP listener on 127.0.0.1, plus external DTDs, parameter entities, XInclude and resource links; two
bombs ("billion laughs" and a quadratic blow-up) declare entities that would expand to gigabytes.
They go through both engines as the pipeline runs them (the ``extract`` stage in its sandbox), the
math pass on its own, a whole local run over a WARC and ``ccsieve extract``. Nothing may read the
canary file, open the FIFO or connect to the listener, and the bombs end fast with short output.

Why it holds: both parsers are HTML parsers (libxml2's HTML parser through ``lxml.html.HTMLParser``,
lexbor through resiliparse), which never read an internal DTD subset, never define entities from
one and never load anything; only the HTML named character references exist. The math pass walks the
tree already parsed and parses no markup of its own. ``test_payloads_leak_through_a_resolving_parser``
is the control: the same payload does leak through an lxml XML parser told to resolve entities.
"""

from __future__ import annotations

import errno
import gzip
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import lxml.etree
import pyarrow.parquet as pq
import pytest
from resiliparse.parse.html import HTMLTree

from extractors.engines import ENGINES, _lxml_parser, _parse_lxml
from extractors.html import HtmlExtractor
from extractors.math import find_formulas_lxml, protect_math_lexbor
from pipeline.config import PipelineConfig
from pipeline.document import Document
from pipeline.run import run_pipeline
from tests.conftest import ROOT

TIMEOUT_S = 5.0  # the stage's default; every page here must finish well inside it
PROSE = "<p>" + "A sentence of ordinary prose that an extractor should keep as main text. " * 6 + "</p>"


class _Tripwire:
    """A TCP listener on 127.0.0.1 that counts connections, and a FIFO that notices any reader.

    A parser that fetched an external entity, a DTD or a linked resource over HTTP (or any other
    TCP protocol) connects to the listener; one that opened the FIFO blocks until a writer comes,
    which the watcher thread is (it sees the reader, records it and writes the canary).
    """

    def __init__(self, folder: Path, canary: str) -> None:
        self.canary = canary
        self.connections: list[tuple[str, int]] = []
        self.fifo_readers = 0
        self._stop = threading.Event()
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self.fifo = folder / "canary.fifo"
        os.mkfifo(self.fifo)
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._accept, self._watch)]
        for thread in self._threads:
            thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self._server.accept()
            except TimeoutError:
                continue
            self.connections.append(peer)
            conn.close()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:  # ENXIO: nobody has it open for reading
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.002)
                continue
            self.fifo_readers += 1
            try:
                os.write(fd, self.canary.encode())
            except BrokenPipeError:  # the reader closed it first: counted all the same, keep watching
                pass
            finally:
                os.close(fd)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server.close()

    def assert_untouched(self) -> None:
        assert self.connections == [], f"something connected to the listener: {self.connections}"
        assert self.fifo_readers == 0, "something opened the FIFO named by an external entity"


@pytest.fixture(scope="module")
def canary() -> str:
    return "CANARY" + secrets.token_hex(12)


@pytest.fixture(scope="module")
def canary_file(tmp_path_factory: pytest.TempPathFactory, canary: str) -> Path:
    path = tmp_path_factory.mktemp("xxe") / "secret.txt"
    path.write_text(f"{canary}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tripwire(tmp_path_factory: pytest.TempPathFactory, canary: str) -> Iterator[_Tripwire]:
    wire = _Tripwire(tmp_path_factory.mktemp("tripwire"), canary)
    yield wire
    wire.close()


def _subset(canary_file: Path, wire: _Tripwire) -> str:
    """An internal DTD subset declaring every kind of external entity the pages then reference."""
    return (
        "[\n"
        f'  <!ENTITY xxe SYSTEM "{canary_file.as_uri()}">\n'
        f'  <!ENTITY fifo SYSTEM "{wire.fifo.as_uri()}">\n'
        f'  <!ENTITY net SYSTEM "{wire.url}/entity">\n'
        f'  <!ENTITY ftp SYSTEM "ftp://127.0.0.1:{wire.port}/entity">\n'
        f'  <!ENTITY % remote SYSTEM "{wire.url}/parameter-entity"> %remote;\n'
        "]"
    )


def _bomb_subset() -> str:
    levels = ['<!ENTITY lol0 "lol">']
    levels += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return "[\n" + "\n".join(levels) + "\n]"


def hostile_pages(canary_file: Path, wire: _Tripwire) -> dict[str, tuple[str, str]]:
    """name → (page, content type as a server would send it)."""
    subset = _subset(canary_file, wire)
    refs = "&xxe; &fifo; &net; &ftp;"
    links = f'<link rel="stylesheet" href="{wire.url}/style.css"/><script src="{wire.url}/app.js"></script>'
    html = (
        f"<!DOCTYPE html {subset}><html><head><title>XXE</title>{links}</head><body><article>"
        f"<h1>Entities in HTML</h1>{PROSE}<p>Before {refs} after.</p>"
        f'<iframe src="{canary_file.as_uri()}"></iframe><object data="{wire.url}/o"></object>'
        f"{PROSE}</article></body></html>"
    )
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<?xml-stylesheet href="{wire.url}/style.xsl" type="text/xsl"?>\n'
        f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "{wire.url}/xhtml11.dtd" {subset}>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f"<head><title>XHTML</title>{links}</head><body><article><h1>Entities in XHTML</h1>{PROSE}"
        f"<p>Before {refs} after.</p>"
        f'<xi:include href="{canary_file.as_uri()}" parse="text"/>'
        f'<xi:include href="{wire.url}/include.xml"/>'
        f"{PROSE}</article></body></html>"
    )
    math_svg = (
        "<!DOCTYPE html><html><body><article><h1>Formulas and drawings</h1>"
        f"{PROSE}<p>Inline <math xmlns='http://www.w3.org/1998/Math/MathML'><!DOCTYPE math {subset}>"
        f"<mi>x</mi><mo>=</mo><mi>&xxe;</mi><mo>+</mo><mn>1</mn><mi>&fifo;</mi><mi>&net;</mi></math>"
        " in a sentence.</p>"
        "<math display='block'><semantics><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow>"
        f"<annotation-xml encoding='MathML-Content' href='{wire.url}/content'><ci>&xxe;</ci>"
        "</annotation-xml></semantics></math>"
        f"<svg xmlns='http://www.w3.org/2000/svg'><!DOCTYPE svg {subset}><text>&xxe; &fifo;</text>"
        f"<image href='{canary_file.as_uri()}'/><use href='{wire.url}/sprite.svg#a'/></svg>"
        f"<p><img class='latex' src='{wire.url}/latex.php?latex=x%5E2' alt='x^2'/> is a square.</p>"
        f"{PROSE}</article></body></html>"
    )
    laughs = (
        f"<!DOCTYPE html {_bomb_subset()}><html><body><article><h1>Laughs</h1>{PROSE}"
        f"<p>{'&lol9;' * 100}</p><p><math><mi>&lol9;</mi></math></p>"
        f"<svg><!DOCTYPE svg {_bomb_subset()}><text>&lol9;</text></svg>{PROSE}</article></body></html>"
    )
    # one 50,000-character entity referenced 20,000 times: a gigabyte if it were expanded
    quadratic = (
        f'<!DOCTYPE html [<!ENTITY big "{"x" * 50_000}">]><html><body><article><h1>Blow-up</h1>'
        f"{PROSE}<p>{'&big;' * 20_000}</p>{PROSE}</article></body></html>"
    )
    return {
        "html": (html, "text/html"),
        "xhtml": (xhtml, "application/xhtml+xml"),
        "mathml-svg": (math_svg, "text/html"),
        "billion-laughs": (laughs, "text/html"),
        "quadratic-blowup": (quadratic, "text/html"),
    }


@pytest.fixture(scope="module")
def pages(canary_file: Path, tripwire: _Tripwire) -> dict[str, tuple[str, str]]:
    return hostile_pages(canary_file, tripwire)


def _assert_inert(text: str, canary: str, page: str, growth: float = 1.0) -> None:
    assert canary not in text
    assert "lollollol" not in text  # not even one level of the bomb was expanded
    assert "x" * 1000 not in text
    # far below what any expansion would write (a serialised tree may restate the DOCTYPE as comments)
    assert len(text) < growth * len(page)


def test_payloads_leak_through_a_resolving_parser(canary_file: Path, canary: str, tmp_path: Path) -> None:
    """The control: with a parser that resolves external entities, the canary file is read and the
    FIFO opened, so the tests below could fail. (libxml2 2.14 has no HTTP client: the listener
    guards against any other component that would fetch.)"""
    wire = _Tripwire(tmp_path, "FROMFIFO")
    try:
        doc = (
            f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "{canary_file.as_uri()}">'
            f'<!ENTITY fifo SYSTEM "{wire.fifo.as_uri()}">]><r>&xxe;|&fifo;</r>'
        )
        unsafe = lxml.etree.XMLParser(resolve_entities=True, no_network=True)
        text = lxml.etree.tostring(lxml.etree.fromstring(doc.encode(), unsafe), encoding="unicode")
    finally:
        wire.close()
    assert canary in text and "FROMFIFO" in text
    assert wire.fifo_readers > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_extract_stage_is_inert(
    engine: str, pages: dict[str, tuple[str, str]], canary: str, tripwire: _Tripwire
) -> None:
    stage = HtmlExtractor(engine=engine, timeout_s=TIMEOUT_S)  # math, code and structure on
    stage.run([])  # start and warm up the sandbox child outside the timed calls
    try:
        for name, (page, _) in pages.items():
            doc = Document(id=name, url=f"http://example.com/{name}", source="t.warc.gz", offset=0, html=page)
            start = time.perf_counter()
            outcome = stage.run([doc])
            elapsed = time.perf_counter() - start
            assert elapsed < TIMEOUT_S / 2, f"{engine} {name}: {elapsed:.2f} s"
            assert [d.reason for d in outcome.dropped] == [], f"{engine} {name}"
            (kept,) = outcome.kept
            assert "ordinary prose" in kept.text
            _assert_inert(kept.text, canary, page)
            if name == "mathml-svg":
                assert "$x = " in kept.text  # the formula went through the math pass
    finally:
        stage.close()
    tripwire.assert_untouched()


@pytest.mark.parametrize("name", ["html", "xhtml", "mathml-svg", "billion-laughs", "quadratic-blowup"])
def test_parse_and_math_pass_are_inert(
    name: str, pages: dict[str, tuple[str, str]], canary: str, tripwire: _Tripwire
) -> None:
    """The trees both engines build, and the formulas the math pass reads from them."""
    assert isinstance(_lxml_parser(), lxml.etree.HTMLParser)  # an HTML parser, never an XML one
    page = pages[name][0]
    start = time.perf_counter()
    tree, reason = _parse_lxml(page)
    assert reason is None and tree is not None
    _assert_inert(lxml.etree.tostring(tree, encoding="unicode"), canary, page, growth=2)
    formulas = [f.latex for f in find_formulas_lxml(tree)]
    lexbor = HTMLTree.parse(page)
    formulas += [f.latex for f in protect_math_lexbor(lexbor).formulas]
    assert lexbor.document is not None
    _assert_inert(lexbor.document.html + "\n".join(formulas), canary, page, growth=2)
    assert time.perf_counter() - start < 2
    if name == "mathml-svg":
        assert any(f.startswith("x = ") for f in formulas), formulas
    tripwire.assert_untouched()


def _write_warc(path: Path, pages: dict[str, tuple[str, str]]) -> None:
    with open(path, "wb") as out:
        for number, (name, (page, content_type)) in enumerate(pages.items(), start=1):
            http = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}; charset=utf-8\r\n\r\n".encode()
            http += page.encode()
            header = (
                "WARC/1.0\r\nWARC-Type: response\r\n"
                f"WARC-Record-ID: <urn:uuid:{uuid.UUID(int=number)}>\r\n"
                f"WARC-Date: 2024-05-01T00:00:00Z\r\nWARC-Target-URI: http://example.com/{name}\r\n"
                "Content-Type: application/http; msgtype=response\r\n"
                f"Content-Length: {len(http)}\r\n\r\n"
            )
            out.write(gzip.compress(header.encode() + http + b"\r\n\r\n"))


@pytest.mark.parametrize("engine", ENGINES)
def test_local_run_over_a_warc_is_inert(
    engine: str, pages: dict[str, tuple[str, str]], canary: str, tripwire: _Tripwire, tmp_path: Path
) -> None:
    """The reader (HTTP headers, charset, XHTML content type) and the stage as a run uses them."""
    warc = tmp_path / "hostile.warc.gz"
    _write_warc(warc, pages)
    config = PipelineConfig.from_dict({"stages": [{"stage": "extract", "engine": engine}]})
    stats = run_pipeline([str(warc)], str(tmp_path / "out"), config, workers=1, progress=False)
    assert stats.responses_read == len(pages)
    assert stats.stages["extract"].kept == len(pages), stats.stages["extract"].dropped
    rows = pq.read_table(tmp_path / "out" / "data").to_pylist()
    assert sorted(r["url"].rsplit("/", 1)[1] for r in rows) == sorted(pages)
    for row in rows:
        _assert_inert(row["text"], canary, pages[row["url"].rsplit("/", 1)[1]][0])
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), path
    tripwire.assert_untouched()


@pytest.mark.parametrize("engine", ["default", "fast"])
def test_ccsieve_extract_is_inert(
    engine: str, pages: dict[str, tuple[str, str]], canary: str, tripwire: _Tripwire, tmp_path: Path
) -> None:
    files = []
    for name, (page, _) in pages.items():
        files.append(tmp_path / f"{name}.html")
        files[-1].write_text(page, encoding="utf-8")
    command = [sys.executable, "-m", "pipeline.cli", "extract", "--engine", engine, *map(str, files)]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert time.perf_counter() - start < 30
    assert proc.returncode == 0, proc.stderr
    assert canary not in proc.stdout + proc.stderr
    assert len(proc.stdout.splitlines()) == len(pages)
    assert "lollollol" not in proc.stdout and "x" * 1000 not in proc.stdout
    tripwire.assert_untouched()
