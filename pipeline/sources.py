"""Input files: local paths, globs, folders and fsspec URLs, expanded before any work starts."""

from __future__ import annotations

import os
import posixpath

import fsspec
from fsspec.implementations.local import LocalFileSystem

__all__ = ["InputError", "expand_inputs"]

_WARC_PATTERNS = ("*.warc.gz", "*.warc", "*.arc.gz")


class InputError(ValueError):
    """An input that names nothing readable."""


def expand_inputs(patterns: list[str]) -> list[str]:
    """Expand globs and folders into a sorted, de-duplicated list of file URLs or absolute paths."""
    found: list[str] = []
    for pattern in patterns:
        fs, path = fsspec.core.url_to_fs(pattern)
        if any(ch in path for ch in "*?["):
            matches = [m for m in fs.glob(path) if fs.isfile(m)]
        elif fs.isdir(path):
            matches = sorted({m for p in _WARC_PATTERNS for m in fs.glob(posixpath.join(path, "**", p))})
        elif fs.exists(path):
            matches = [path]
        else:
            raise InputError(f"input not found: {pattern}")
        if not matches:
            raise InputError(f"input matches no files: {pattern}")
        if isinstance(fs, LocalFileSystem):
            found.extend(os.path.normpath(os.path.abspath(m)) for m in matches)
        else:
            found.extend(fs.unstrip_protocol(m) for m in matches)
    return sorted(dict.fromkeys(found))
