"""The C versions of the fast engine's raw-HTML scans (``extractors/_speedups.c``), when built.

``module`` is the compiled module, or ``None`` where it was not built (no C compiler at install) or
``CCSIEVE_PURE_PYTHON`` is set: every caller then runs its Python regular expression, which gives the
same result (the tests compare the two on real pages), about three times slower. Callers read
``module`` at call time, so a test can switch it off.
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["module"]


def _load() -> ModuleType | None:
    if os.environ.get("CCSIEVE_PURE_PYTHON"):
        return None
    try:
        from extractors import _speedups
    except ImportError:
        return None
    return _speedups


module: ModuleType | None = _load()
