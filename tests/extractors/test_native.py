"""The C scans (extractors/_speedups.c) give what the Python regular expressions give."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from extractors import boilerplate, guard, line_rules, native
from extractors.http import decode_html
from extractors.warc import WarcReader
from pipeline.document import Document
from tests.conftest import ROOT, TESTDATA

try:  # the compiled module itself, whatever CCSIEVE_PURE_PYTHON says for the package
    from extractors import _speedups as BUILT
except ImportError:
    BUILT = None


@contextmanager
def _scans(module: object) -> Iterator[None]:
    saved = native.module
    native.module = module  # type: ignore[assignment]
    try:
        yield
    finally:
        native.module = saved


def _both(scan: Callable[[str], object], html: str) -> tuple[object, object]:
    with _scans(BUILT):
        fast = scan(html)
    with _scans(None):
        slow = scan(html)
    return fast, slow


def _marked_for_pruning(html: str) -> str:
    return boilerplate.mark_boilerplate(line_rules.mark_page(html) or html)


SCANS: dict[str, Callable[[str], object]] = {
    "tame_attributes": guard.tame_attributes,
    "mark_page": line_rules.mark_page,
    "mark_boilerplate": boilerplate.mark_boilerplate,
    "mark_page, then mark_boilerplate": _marked_for_pruning,  # what the fast engine parses
}


def test_the_module_is_built() -> None:
    # optional in pyproject.toml, so a failed build installs silently: this is where it shows
    assert BUILT is not None, "extractors._speedups was not built (is a C compiler installed?)"


def _real_pages() -> list[str]:
    warc = TESTDATA / "bench-warc" / "bench.warc.gz"
    pages = [d.html or "" for d in WarcReader().read(str(warc)) if isinstance(d, Document)][:150]
    for path in sorted((TESTDATA / "extraction-trafilatura" / "html").iterdir())[:60]:
        pages.append(decode_html(gzip.decompress(path.read_bytes()), None)[0])
    return pages


@pytest.mark.skipif(BUILT is None, reason="covered by test_the_module_is_built")
@pytest.mark.parametrize("name", SCANS)
def test_real_pages_give_the_same_result(name: str) -> None:
    pages = _real_pages()
    assert len(pages) > 150
    kinds = {max(map(ord, page), default=0) > 255 for page in pages}
    assert kinds == {False, True}  # 1-byte and wider strings both covered
    for page in pages:
        fast, slow = _both(SCANS[name], page)
        assert fast == slow


# Pieces that hit every branch of the scans: tags the marks and the boilerplate scan read, quotes,
# unterminated values, whitespace Python's \s knows and ASCII does not, wide characters.
_PIECES = (
    "<", ">", "</", "/", "a", "A", "h1", "H6", "h7", "abbr", "div", "li", " ", "\t", "\n", "\x1c",
    "\xa0", "=", '"', "'", "`", "class", "id", "role", "width", "nav", "menu", "navigation", "sidebar",
    "share-", "cookie", "respond", "x", "é", "\u2019", "\U0001f600", "\ufdd0", "<a href=", "<div class=",
    "<p id=", "</a>", "<h2>", "<span role=", "data-", "-", "CLASS", " a" * 700,
)  # fmt: skip


def _fuzz_page(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 60)))


@pytest.mark.skipif(BUILT is None, reason="covered by test_the_module_is_built")
@pytest.mark.parametrize("name", SCANS)
def test_random_markup_gives_the_same_result(name: str) -> None:
    rng = random.Random(20261201)
    changed = 0
    for _ in range(3000):
        page = _fuzz_page(rng)
        fast, slow = _both(SCANS[name], page)
        assert fast == slow, page
        changed += (fast[0] if isinstance(fast, tuple) else fast) not in (page, None)
    assert changed > 30  # the pages reach the scans' edits (a cut tag, a mark, a tagged block)


@pytest.mark.skipif(BUILT is None, reason="covered by test_the_module_is_built")
@pytest.mark.parametrize("run", [1999, 2000, 2001])
@pytest.mark.parametrize("wide", ["", "\u2019", "\U0001f600"])
def test_long_tag_edges(run: int, wide: str) -> None:
    # a run of exactly 2000 characters is the guard's threshold; the page ends right after it
    for tail in ("", ">", "<b>"):
        page = f"{wide}<p{'x' * run}{tail}"
        assert BUILT.long_tags(page) == [m.start() for m in guard._LONG_TAG.finditer(page)]


@pytest.mark.skipif(BUILT is None, reason="covered by test_the_module_is_built")
def test_attribute_hits_reads_values_as_the_regex_does() -> None:
    cache: dict[str, bool] = {}
    page = """<div class = "nav main">a</div><div class='nav'>b<div class=nav>c<p data-class="nav">"""
    hits = BUILT.attribute_hits(page, "class", cache, lambda value: "nav" in value)
    assert [(value, tag) for _, value, tag in hits] == [("nav main", "div"), ("nav", "div"), ("nav", "div")]
    # data-class= is matched and cached as the regex matches it, then left out: not an attribute name
    assert cache == {'class = "nav main"': True, "class='nav'": True, "class=nav": True, 'class="nav"': True}
    assert BUILT.attribute_hits('<div class="nav', "class", {}, bool) == []  # unterminated value


@pytest.mark.skipif(BUILT is None, reason="covered by test_the_module_is_built")
def test_a_failing_test_function_raises_through() -> None:
    def broken(value: str) -> bool:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        BUILT.attribute_hits('<div class="x">', "class", {}, broken)
    with pytest.raises(TypeError):
        BUILT.mark_tags(b"<a>")


def test_ccsieve_pure_python_switches_the_c_scans_off() -> None:
    code = "from extractors import native; print(native.module is None)"
    run = [sys.executable, "-c", code]
    plain = subprocess.run(
        run, capture_output=True, text=True, check=True, env=os.environ | {"CCSIEVE_PURE_PYTHON": ""}
    )
    forced = subprocess.run(
        run, capture_output=True, text=True, check=True, env=os.environ | {"CCSIEVE_PURE_PYTHON": "1"}
    )
    assert forced.stdout.strip() == "True"
    assert plain.stdout.strip() == str(BUILT is None)


@pytest.mark.skipif(BUILT is None, reason="covered by test_the_module_is_built")
def test_a_copy_without_build_outputs_finds_an_installed_module(tmp_path: Path) -> None:
    """What ``ray job submit --working-dir .`` ships: the sources without what .gitignore lists."""
    shipped = tmp_path / "working_dir"
    shutil.copytree(ROOT / "extractors", shipped / "extractors", ignore=shutil.ignore_patterns("*.so"))
    installed = tmp_path / "site" / "extractors"
    installed.mkdir(parents=True)
    shutil.copy(BUILT.__file__, installed)
    code = "import extractors.native as n; print(n.module is not None, n.module and n.module.__file__)"
    # -S: no site-packages, so neither this checkout nor its editable install is on the path
    run = [sys.executable, "-S", "-c", code]
    alone = subprocess.run(run, cwd=shipped, capture_output=True, text=True, check=True, env={})
    assert alone.stdout.split()[0] == "False"  # the Python scans, as before
    env = {"PYTHONPATH": str(tmp_path / "site")}
    found = subprocess.run(run, cwd=shipped, capture_output=True, text=True, check=True, env=env)
    assert found.stdout.split() == ["True", str(installed / Path(BUILT.__file__).name)]
