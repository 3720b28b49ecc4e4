"""Pipeline configuration: YAML in, validated dataclasses out, before any work starts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.registry import ConfigError, build_stage, import_plugins
from pipeline.stage import Stage

__all__ = [
    "DEFAULT_CONFIG",
    "IsolationConfig",
    "PipelineConfig",
    "ReaderConfig",
    "SinkConfig",
    "load_config",
]

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "jobs" / "configs" / "default.yaml"


@dataclass(frozen=True)
class ReaderConfig:
    """How WARC records are read and batched."""

    batch_size: int = 128  # documents per batch handed to the stages
    max_payload_mb: float = 16.0  # larger HTTP payloads are dropped unread (reason payload_too_large)


@dataclass(frozen=True)
class SinkConfig:
    """How Parquet shards are written."""

    shard_mb: float = 256.0  # target uncompressed size of one shard
    compression: str = "zstd"
    compression_level: int = 3
    row_group_rows: int = 4096


@dataclass(frozen=True)
class IsolationConfig:
    """How the stages are kept from taking their worker down (see ``pipeline/isolation.py``).

    ``enabled``: each worker runs its stage chain in a child process; a document that kills the
    child (a crash in native code) or keeps it busy past the time limit is found by bisecting its
    batch and quarantined (``worker_crash`` / ``stage_timeout``), and the rest of the batch goes on.
    A call on ``k`` documents may take ``max(min_timeout_s, batch_timeout_s * k / batch_size)``.
    Not part of the config fingerprint: it changes no row of a run that completes, so a run that a
    poison pill stopped can be resumed with it switched on.
    """

    enabled: bool = True
    batch_timeout_s: float = 900.0  # a full batch (reader.batch_size documents)
    min_timeout_s: float = 60.0  # the least any call gets, down to a single document

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"isolation.enabled must be true or false, not {self.enabled!r}")
        if not (self.batch_timeout_s > 0 and self.min_timeout_s > 0):
            raise ConfigError("isolation.batch_timeout_s and isolation.min_timeout_s must be positive")


@dataclass(frozen=True)
class PipelineConfig:
    """A whole run's configuration: the reader, the ordered stage specs, the sink and isolation.

    ``plugins`` names modules imported before the stages are built, in every process that builds
    them (runner workers, Ray actors, isolation children): stages registered there can be named in
    ``stages`` without being built in.
    """

    stages: list[dict[str, Any]] = field(default_factory=list)
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    sink: SinkConfig = field(default_factory=SinkConfig)
    isolation: IsolationConfig = field(default_factory=IsolationConfig)
    plugins: list[str] = field(default_factory=list)

    def build_stages(self) -> list[Stage]:
        import_plugins(self.plugins)
        stages = [build_stage(dict(spec)) for spec in self.stages]
        labels = [s.label for s in stages]
        duplicated = sorted({label for label in labels if labels.count(label) > 1})
        if duplicated:
            raise ConfigError(f"stage labels must be unique, give a 'label' to repeated stages: {duplicated}")
        return stages

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        unknown = sorted(set(data) - _TOP_LEVEL)
        if unknown:
            raise ConfigError(
                f"unknown top-level config keys {unknown}; expected {', '.join(sorted(_TOP_LEVEL))}"
            )
        stages = data.get("stages") or []
        if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
            raise ConfigError("'stages' must be a list of mappings, each with a 'stage' key")
        plugins = data.get("plugins") or []
        if not isinstance(plugins, list) or not all(isinstance(m, str) for m in plugins):
            raise ConfigError("'plugins' must be a list of module names, e.g. [mypackage.stages]")
        config = cls(
            stages=[dict(s) for s in stages],
            reader=_section(ReaderConfig, data.get("reader")),
            sink=_section(SinkConfig, data.get("sink")),
            isolation=_isolation(data.get("isolation")),
            plugins=list(plugins),
        )
        config.build_stages()  # validates names and parameters now, not on a worker an hour later
        return config


_TOP_LEVEL = {"stages", "reader", "sink", "isolation", "plugins"}


def _isolation(data: dict[str, Any] | bool | None) -> IsolationConfig:
    """``isolation: false`` is short for ``isolation: {enabled: false}``."""
    if isinstance(data, bool):
        return IsolationConfig(enabled=data)
    return _section(IsolationConfig, data)


def _section(cls: type[Any], data: dict[str, Any] | None) -> Any:
    data = data or {}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} keys {unknown}; accepted: {', '.join(sorted(names))}")
    return cls(**data)


def load_config(path: str | Path | None = None) -> PipelineConfig:
    """Read and validate a YAML config (the default pipeline when ``path`` is None)."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return PipelineConfig.from_dict(data)
