"""Training a KenLM model for the ``perplexity`` stage: text in, normalised corpus, lmplz, build_binary.

The ``kenlm`` Python package only queries models; ``lmplz`` (the trainer) and ``build_binary`` are
built from the same sdist by ``make kenlm-tools`` into ``.venv/tools/kenlm/bin``. ``jobs.train_kenlm``
is the command-line entry point; everything it does lives here so that tests and benchmarks call it
directly.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from filters.models import file_sha256
from filters.text_normalize import normalize_lines

__all__ = [
    "KenLMToolsMissing",
    "TrainedModel",
    "find_tool",
    "iter_texts",
    "train_kenlm",
    "write_corpus",
]

# Environment variable naming a folder that holds lmplz and build_binary, for installs outside the venv.
TOOLS_ENV = "CCSIEVE_KENLM_BIN"


class KenLMToolsMissing(RuntimeError):
    """lmplz or build_binary is not installed where ccsieve looks for it."""


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """What :func:`train_kenlm` produced: the binary model, its sha256 and what it was trained on."""

    path: Path
    sha256: str
    order: int
    lines: int
    tokens: int
    size_bytes: int


def find_tool(name: str) -> Path:
    """Path of a KenLM program (``lmplz`` or ``build_binary``): in ``$CCSIEVE_KENLM_BIN`` when set
    (and only there), else in the venv's ``tools/kenlm/bin`` (where ``make kenlm-tools`` puts it), else
    on ``PATH``."""
    override = os.environ.get(TOOLS_ENV)
    # An explicit folder is never silently replaced by another build found elsewhere.
    places = [Path(override)] if override else [Path(sys.prefix) / "tools" / "kenlm" / "bin"]
    for folder in places:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = None if override else shutil.which(name)
    if found:
        return Path(found)
    where = ", ".join(map(str, places)) + ("" if override else " and PATH")
    raise KenLMToolsMissing(
        f"KenLM's {name} was not found (looked in {where}). The kenlm "
        f"package only queries models; build the trainer once with `make kenlm-tools` "
        f"(or set {TOOLS_ENV} to a folder holding lmplz and build_binary)"
    )


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


# What a folder contributes: data files only, so that a README, stats.json or report.md beside the
# shards is not read as training text. A file named explicitly is read whatever its name.
_DATA_SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz", ".json.gz", ".txt", ".txt.gz")


def _files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            # Hidden and "_" folders hold work in progress (train_kenlm's own .kenlm-* corpus, a
            # ccsieve run's _tmp/ shards), never finished data.
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.name.endswith(_DATA_SUFFIXES)
                and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            yield path
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


def iter_texts(paths: Iterable[str | Path], limit: int | None = None) -> Iterator[str]:
    """Document texts from Parquet (the ``text`` column of ccsieve shards), JSONL (the ``text`` field;
    ``.jsonl``, ``.json``, optionally gzipped) and plain text files (one document per file), in
    order. Folders are read recursively for ``.parquet``, ``.jsonl[.gz]``, ``.json.gz`` and
    ``.txt[.gz]`` files. Stops after ``limit`` documents when given."""
    count = 0
    for path in _files(paths):
        for text in _texts_of(path):
            if limit is not None and count >= limit:
                return
            count += 1
            yield text


def _texts_of(path: Path) -> Iterator[str]:
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        # Batch by batch: a shard is about 256 MB and only its text column is needed.
        for batch in pq.ParquetFile(path).iter_batches(columns=["text"], batch_size=1024):
            yield from (t for t in batch.column(0).to_pylist() if t)
    elif name.endswith((".jsonl", ".json")):
        with _open_text(path) as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    text = json.loads(line).get("text")
                except (json.JSONDecodeError, AttributeError) as exc:
                    raise ValueError(f"{path}:{number}: not a JSON object per line ({exc})") from exc
                if text:
                    yield text
    else:
        with _open_text(path) as fh:
            yield fh.read()


def write_corpus(texts: Iterable[str], out: IO[str]) -> tuple[int, int]:
    """Write every text as normalised lines (one paragraph per line) to ``out``; returns (lines, tokens)."""
    lines = tokens = 0
    for text in texts:
        for line in normalize_lines(text):
            out.write(line)
            out.write("\n")
            lines += 1
            tokens += line.count(" ") + 1
    return lines, tokens


def _run(
    command: Sequence[str | Path], stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None
) -> None:
    # stderr is kept for the error message only: lmplz reports progress there on every run.
    result = subprocess.run(
        [str(c) for c in command],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace")
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{Path(command[0]).name} failed (exit {result.returncode}):\n{tail}")


def train_kenlm(
    texts: Iterable[str],
    output: str | Path,
    *,
    order: int = 3,
    prune: Sequence[int] | None = None,
    memory: str = "1G",
    keep_arpa: bool = False,
) -> TrainedModel:
    """Normalise ``texts``, train an ``order``-gram model with lmplz and write it as a KenLM binary.

    ``prune`` is lmplz's ``--prune`` (count thresholds per order, unigrams first; pruning singletons of
    the higher orders, e.g. ``0 0 1``, is what keeps web-scale models small, and only hurts small
    corpora). ``--discount_fallback`` lets lmplz train on small corpora whose count statistics cannot
    estimate Kneser-Ney discounts; ``--skip_symbols`` treats a literal ``<s>``/``</s>``/``<unk>`` in web
    text as whitespace instead of aborting. ``memory`` is lmplz's ``-S`` (its default is 80 % of RAM).
    """
    lmplz, build_binary = find_tool("lmplz"), find_tool("build_binary")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".kenlm-", dir=output.parent) as tmp:
        corpus = Path(tmp) / "corpus.txt"
        with open(corpus, "w", encoding="utf-8") as fh:
            lines, tokens = write_corpus(texts, fh)
        if tokens == 0:
            raise ValueError("no text to train on: every input normalised to nothing")
        arpa = output.with_suffix(".arpa") if keep_arpa else Path(tmp) / "model.arpa"
        command: list[str | Path] = [lmplz, "-o", str(order), "-S", memory, "-T", tmp]
        command += ["--discount_fallback", "--skip_symbols"]
        if prune:
            command += ["--prune", *map(str, prune)]
        with open(corpus, "rb") as stdin, open(arpa, "wb") as stdout:
            _run(command, stdin=stdin, stdout=stdout)
        _run([build_binary, arpa, output])
    return TrainedModel(output, file_sha256(output), order, lines, tokens, output.stat().st_size)
