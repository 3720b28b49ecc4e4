"""The embedded runner: worker processes over input files, each file committed by its worker."""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from pipeline.config import PipelineConfig
from pipeline.processing import Chain, build_chain, process_source
from pipeline.sinks import OutputLayout

if TYPE_CHECKING:
    from pipeline.run import RunPlan

__all__ = ["run_local"]

# One chain per worker process: models load once, on the first batch, and stay (in the worker, or
# in its isolation child when the config isolates the stages).
_worker_chain: Chain | None = None
_worker_config: PipelineConfig | None = None


def _init_worker(config: PipelineConfig) -> None:
    global _worker_chain, _worker_config
    _worker_config = config
    _worker_chain = build_chain(config)


def _work(source: str, root: str) -> dict[str, Any]:
    assert _worker_chain is not None and _worker_config is not None
    return process_source(source, _worker_config, _worker_chain, OutputLayout(root))


def run_local(plan: RunPlan, workers: int | None = None, progress: bool = True) -> None:
    """Process every pending input; with ``workers == 1`` everything runs in this process."""
    workers = workers or max(1, min(os.cpu_count() or 1, len(plan.pending)))
    bar = tqdm(total=len(plan.pending), unit="file", desc="ccsieve", disable=not progress, dynamic_ncols=True)
    kept = errors = 0

    def done(marker: dict[str, Any]) -> None:
        nonlocal kept, errors
        kept += marker["rows"]
        if marker["status"] != "ok":
            errors += 1
            tqdm.write(f"error: {marker['error']}")
        bar.set_postfix(kept=kept, errors=errors)
        bar.update()

    try:
        if workers == 1:
            _init_worker(plan.config)
            for source in plan.pending:
                done(_work(source, plan.layout.root))
            return
        ctx = mp.get_context("spawn")  # fork would copy Ray or model threads of the parent
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init_worker, initargs=(plan.config,)
        ) as pool:
            futures = [pool.submit(_work, source, plan.layout.root) for source in plan.pending]
            for future in as_completed(futures):
                done(future.result())
    finally:
        bar.close()
