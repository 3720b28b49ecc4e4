"""The stage chain in a child process: a document that kills its worker costs one document, not the run.

A crash in native code (a segfault in a parser, an abort in a model library, the OOM killer) ends the
process it happens in. Run in the worker itself, it breaks the local runner's process pool and makes
Ray retry the task until it gives up; either way the run fails, and a rerun meets the same document
again. :class:`IsolatedChain` runs :meth:`StageChain.run <pipeline.processing.StageChain.run>` in a
long-lived :class:`~extractors.sandbox.Sandbox` child instead (built from the pickled config once per
child, models loaded there), with a time limit per call.

When the child dies or overruns, the batch is bisected: each half runs again in a fresh child, and a
half that fails again is split again, until the single documents that fail on their own are found.
Each of them is quarantined (reason ``worker_crash`` or ``stage_timeout``, in the stage it was in,
payload kept) and every other document is processed as usual. One poison document in a batch of
``n`` costs at most ``log2(n) + 1`` child restarts and ``2 log2(n) + 1`` calls; a batch in which every
document fails ends with all of them quarantined after ``2n - 1`` calls, never an endless retry.

The counts stay those of the protocol: a quarantined document counts as seen and kept by the stages
before the one it died in, and as seen and dropped by that one, so each stage still sees what the one
before it kept. Each fresh child builds and sets up its stages (loads models) in a call of its own,
with a time limit of its own, before it sees a document: a crash there is no document's fault, and
raises instead.
"""

from __future__ import annotations

import hashlib
import pickle
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractors.sandbox import Sandbox, SandboxCrashed, SandboxOutOfMemory, SandboxTimeout, child_status
from pipeline.document import Document, DropRecord
from pipeline.processing import ChainOutcome, StageChain, select_stages
from pipeline.stage import StageStats

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig

__all__ = ["STAGE_TIMEOUT", "WORKER_CRASH", "IsolatedChain", "run_chain_job"]

WORKER_CRASH = "worker_crash"
STAGE_TIMEOUT = "stage_timeout"

# The status block the child writes: (phase, stage index), read by the parent after a failure.
_STATUS = struct.Struct("<ii")
_IDLE, _SETUP, _RUN = 0, 1, 2
# Building the chain in a fresh child (imports, models) gets at least this long.
SETUP_TIMEOUT_S = 600.0


@dataclass(slots=True)
class ChainJob:
    """One call into the child: which chain (built once per child from ``spec``) and the documents."""

    key: str
    spec: bytes  # pickle of (PipelineConfig, labels)
    docs: list[Document]


# Child side: the chains this child has built, by key (one in practice).
_chains: dict[str, StageChain] = {}


def _report(phase: int, index: int) -> None:
    status = child_status()
    if status is not None:
        status[: _STATUS.size] = _STATUS.pack(phase, index)


def run_chain_job(job: ChainJob) -> ChainOutcome:
    """In the child: build (once) and run the chain; every stage is set up before any document."""
    chain = _chains.get(job.key)
    if chain is None:
        config, labels = pickle.loads(job.spec)
        chain = StageChain(select_stages(config, labels))
        for index, stage in enumerate(chain.stages):
            _report(_SETUP, index)
            stage.run([])  # runs setup(): a crash here is not the fault of any document
        _chains[job.key] = chain
    outcome = chain.run(job.docs, probe=lambda index: _report(_RUN, index))
    _report(_IDLE, -1)
    return outcome


class IsolatedChain:
    """Runs a chain's stages in a sandbox child; same interface and outcome as ``StageChain``."""

    def __init__(self, config: PipelineConfig, labels: list[str] | None = None) -> None:
        self.stages = select_stages(config, labels)  # never set up here: labels and order only
        self._spec = pickle.dumps((config, labels))
        self._key = hashlib.sha1(self._spec).hexdigest()
        self._batch_size = config.reader.batch_size
        self._timeout_s = config.isolation.batch_timeout_s
        self._min_timeout_s = config.isolation.min_timeout_s
        self._sandbox = Sandbox(run_chain_job, self._timeout_s, status_bytes=_STATUS.size)
        self._ready = False  # the current child has built its chain
        self.calls = 0  # calls on documents, failed ones included (the bisection's cost)

    def timeout_for(self, n_docs: int) -> float:
        """Seconds a call on ``n_docs`` documents may take: a share of the batch's, never below the floor."""
        return max(self._min_timeout_s, self._timeout_s * n_docs / self._batch_size)

    def run(self, docs: list[Document]) -> ChainOutcome:
        total = ChainOutcome([], [], {stage.label: StageStats() for stage in self.stages})
        if docs and self.stages:
            self._run(docs, total)
        elif docs:
            total.kept.extend(docs)
        return total

    def _call(self, docs: list[Document], timeout_s: float) -> ChainOutcome:
        status = self._sandbox.status
        assert status is not None
        status[: _STATUS.size] = _STATUS.pack(_IDLE, -1)
        return self._sandbox.call(ChainJob(self._key, self._spec, docs), timeout_s=timeout_s)

    def _setup(self) -> None:
        """Start a child and build its chain, before any document: a failure here raises."""
        try:
            self._call([], max(SETUP_TIMEOUT_S, self._timeout_s))
        except (SandboxCrashed, SandboxTimeout, SandboxOutOfMemory) as exc:
            phase, index = self._where()
            where = f"stage {self.stages[index].label!r}" if phase == _SETUP and index >= 0 else "the chain"
            raise RuntimeError(f"the isolation child died while setting up {where}: {exc}") from None
        self._ready = True

    def _run(self, docs: list[Document], total: ChainOutcome) -> None:
        # Iterative over a stack of pending slices, in order: kept documents keep the batch's order.
        pending = [docs]
        while pending:
            part = pending.pop()
            if not self._ready:
                self._setup()
            self.calls += 1
            try:
                outcome = self._call(part, self.timeout_for(len(part)))
            except (SandboxCrashed, SandboxTimeout, SandboxOutOfMemory) as exc:
                self._ready = False  # the sandbox starts a fresh child on the next call
                total.restarts += 1
                phase, index = self._where()
                if phase == _SETUP:  # the child was replaced between calls and died setting up
                    raise RuntimeError(f"the isolation child died while setting up: {exc}") from None
                if len(part) == 1:
                    self._quarantine(part[0], max(index, 0), exc, total)
                else:
                    half = len(part) // 2
                    pending += [part[half:], part[:half]]  # the first half runs first
                continue
            total.kept.extend(outcome.kept)
            total.dropped.extend(outcome.dropped)
            for label, stats in outcome.stats.items():
                total.stats[label].add(stats)

    def _where(self) -> tuple[int, int]:
        status = self._sandbox.status
        assert status is not None
        phase, index = _STATUS.unpack(status[: _STATUS.size])
        return phase, index if 0 <= index < len(self.stages) else -1

    def _quarantine(
        self, doc: Document, index: int, exc: SandboxCrashed | SandboxTimeout, total: ChainOutcome
    ) -> None:
        """Quarantine a document that fails alone, in stage ``index``; the funnel stays closed."""
        reason = STAGE_TIMEOUT if isinstance(exc, SandboxTimeout) else WORKER_CRASH
        label = self.stages[index].label
        detail = f"{reason} in stage {label!r}, isolated and retried alone: {exc}"
        total.dropped.append(DropRecord.of(doc, label, reason, quarantined=True, detail=detail))
        for before in self.stages[:index]:
            total.stats[before.label].seen += 1
            total.stats[before.label].kept += 1
        stats = total.stats[label]
        stats.seen += 1
        stats.dropped[reason] += 1

    def close(self) -> None:
        self._sandbox.close()

    def __getstate__(self) -> dict[str, object]:
        raise TypeError("IsolatedChain owns a child process: build one per worker with build_chain()")
