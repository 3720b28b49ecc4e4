"""The C versions of the fast engine's raw-HTML scans (``extractors/_speedups.c``), when built.

``module`` is the compiled module, or ``None`` where it was not built (no C compiler at install) or
``CCSIEVE_PURE_PYTHON`` is set: every caller then runs its Python regular expression, which gives the
same result (the tests compare the two on real pages), about three times slower. Callers read
``module`` at call time, so a test can switch it off.

A copy of the sources without build outputs, such as the working directory ``ray job submit
--working-dir .`` ships (Ray leaves out what ``.gitignore`` lists, and the compiled module is
listed), still finds the module of a ccsieve installed on the same machine: every ``extractors``
folder on ``sys.path`` is looked in.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path
from types import ModuleType

__all__ = ["module"]

_NAME = "extractors._speedups"


def _load() -> ModuleType | None:
    if os.environ.get("CCSIEVE_PURE_PYTHON"):
        return None
    try:
        from extractors import _speedups
    except ImportError:
        return _installed_elsewhere()
    return _speedups


def _installed_elsewhere() -> ModuleType | None:
    for entry in sys.path:
        for suffix in EXTENSION_SUFFIXES:
            path = Path(entry or ".") / "extractors" / f"_speedups{suffix}"
            if not path.is_file():
                continue
            loader = ExtensionFileLoader(_NAME, str(path))
            spec = spec_from_loader(_NAME, loader)
            if spec is None:
                continue
            try:
                compiled = module_from_spec(spec)
                loader.exec_module(compiled)
            except ImportError:  # built for another Python: keep looking, else the Python scans
                continue
            return compiled
    return None


module: ModuleType | None = _load()
