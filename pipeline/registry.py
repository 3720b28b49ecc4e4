"""Stable names for stages, so YAML configs never name import paths.

A stage class registers itself with :func:`register`; :func:`build_stage` turns one config entry into
an instance, checking the parameters against the class's ``__init__`` before any work starts.
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from pipeline.stage import Stage

__all__ = [
    "ConfigError",
    "build_stage",
    "get_stage_class",
    "import_plugins",
    "register",
    "registered_stages",
]

# Modules whose import registers the built-in stages; imported on first lookup so that
# `pipeline` itself does not depend on the heavier packages.
_BUILTIN_MODULES = (
    "extractors.html",
    "extractors.prefilter",
    "filters.language",
    "filters.heuristics",
    "filters.perplexity",
    "filters.classifiers",
    "filters.decontamination",
    "filters.pii",
)

_REGISTRY: dict[str, type[Stage]] = {}
_loaded = False

S = TypeVar("S", bound=type[Stage])


class ConfigError(ValueError):
    """A pipeline configuration that cannot run; the message says what to change."""


def register(cls: S) -> S:
    """Class decorator: make ``cls`` available in configs under ``cls.name``."""
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"stage name {cls.name!r} is taken by {existing.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        _loaded = True


def import_plugins(modules: list[str]) -> None:
    """Import the modules a config lists under ``plugins``, registering the stages they define."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"plugin module {module!r} cannot be imported: {exc}") from exc


def registered_stages() -> dict[str, type[Stage]]:
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def get_stage_class(name: str) -> type[Stage]:
    stages = registered_stages()
    if name not in stages:
        raise ConfigError(f"unknown stage {name!r}; registered stages: {', '.join(stages)}")
    return stages[name]


def build_stage(spec: dict[str, Any]) -> Stage:
    """Build a stage from ``{"stage": name, "label": optional, **params}``."""
    if "stage" not in spec:
        raise ConfigError(f"a stage entry needs a 'stage' key naming the stage: {spec!r}")
    params = {k: v for k, v in spec.items() if k not in ("stage", "label")}
    cls = get_stage_class(spec["stage"])
    accepted = list(cls.parameters())
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigError(
            f"stage {cls.name!r} has no parameter(s) {unknown}; it accepts: {', '.join(accepted) or 'none'}"
        )
    try:
        stage = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"stage {cls.name!r}: {exc}") from exc
    if "label" in spec:
        stage.label = str(spec["label"])
    return stage
