"""One entry point for both runners: plan the run, dispatch, write stats and report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import yaml

from pipeline.config import PipelineConfig
from pipeline.processing import config_fingerprint
from pipeline.registry import ConfigError
from pipeline.sinks import OutputLayout, source_key
from pipeline.sources import expand_inputs
from pipeline.stats import RunStats, write_run_outputs

__all__ = ["RunPlan", "plan_run", "run_pipeline"]


@dataclass
class RunPlan:
    """The inputs of a run, split into those already complete in the output folder and those to do."""

    layout: OutputLayout
    config: PipelineConfig
    inputs: list[str]
    pending: list[str]

    @property
    def skipped(self) -> int:
        return len(self.inputs) - len(self.pending)


def _looks_like_output(layout: OutputLayout) -> bool:
    fs = layout.fs
    if not fs.exists(layout.path):
        return True
    names = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(layout.path, detail=False)}
    return not names or bool(names & {"_markers", "data", "stats.json", "config.yaml", "_tmp"})


def plan_run(inputs: list[str], output: str, config: PipelineConfig, overwrite: bool = False) -> RunPlan:
    """Expand the inputs, prepare the output folder and find what is left to do."""
    layout = OutputLayout(output)
    files = expand_inputs(inputs)
    if not _looks_like_output(layout):
        raise ConfigError(
            f"{output} exists and is not a ccsieve output folder; choose an empty or new folder"
        )
    if overwrite and layout.fs.exists(layout.path):
        layout.fs.rm(layout.path, recursive=True)
    layout.fs.makedirs(layout.path, exist_ok=True)
    fingerprint = config_fingerprint(config)
    # Every marker of the folder, not only those of these inputs: new inputs done with another
    # config would mix two configs in one folder just the same.
    done = set()
    for marker in layout.markers():
        if marker["config"] != fingerprint:
            raise ConfigError(
                f"{output} holds results of another config (for {marker['source']}); "
                "use --overwrite or a new folder"
            )
        done.add(marker["key"])
    # A crash between a file's marker and the removal of its _tmp/<key> leaves that folder behind;
    # the file is complete, so nothing else would ever remove it.
    tmp = layout.join("_tmp")
    if layout.fs.exists(tmp):
        for path in layout.fs.ls(tmp, detail=False):
            if path.rstrip("/").rsplit("/", 1)[-1] in done:
                layout.fs.rm(path, recursive=True)
    pending = [source for source in files if source_key(source) not in done]
    with layout.fs.open(layout.join("config.yaml"), "w") as fh:
        yaml.safe_dump(config.to_dict(), fh, sort_keys=False)
    return RunPlan(layout, config, files, pending)


def run_pipeline(
    inputs: list[str],
    output: str,
    config: PipelineConfig,
    executor: Literal["local", "ray"] = "local",
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> RunStats:
    """Run ``config`` over ``inputs`` into ``output``; inputs already complete there are skipped."""
    plan = plan_run(inputs, output, config, overwrite)
    start = time.perf_counter()
    if executor == "local":
        from pipeline.local import run_local

        run_local(plan, workers=workers, progress=progress)
    elif executor == "ray":
        from pipeline.ray_runner import run_ray

        run_ray(plan, workers=workers, progress=progress)
    else:
        raise ConfigError(f"unknown executor {executor!r}; use local or ray")
    runner = {
        "executor": executor,
        "workers": workers,
        "inputs": len(plan.inputs),
        "processed": len(plan.pending),
        "skipped_complete": plan.skipped,
        "wall_seconds": round(time.perf_counter() - start, 3),
    }
    return write_run_outputs(plan.layout, [s.label for s in config.build_stages()], runner)
