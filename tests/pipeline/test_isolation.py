"""IsolatedChain on its own: bisection to the poison document, its bound, the counts, timeouts, set-up.

The stage that kills its process is ``tests/pipeline/poison_stage.py``, named through the config's
``plugins`` so that the isolation child imports it too. The runners end to end are in
``test_poison_pill.py``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import pytest

from pipeline import registry
from pipeline.config import PipelineConfig
from pipeline.document import Document
from pipeline.isolation import STAGE_TIMEOUT, WORKER_CRASH, IsolatedChain
from pipeline.processing import StageChain, build_chain, config_fingerprint

PLUGIN = "tests.pipeline.poison_stage"
MARKER = "POISON-PILL-7f3a"  # poison_stage.MARKER (not imported here: importing registers the stage)


@pytest.fixture(scope="module", autouse=True)
def _unregister_poison_pill() -> Iterator[None]:
    """The test stage must not outlive this module: docs/stages.md lists every registered stage."""
    yield
    registry._REGISTRY.pop("poison_pill", None)
    sys.modules.pop(PLUGIN, None)


def _config(batch_size: int, mode: str = "exit", **isolation: object) -> PipelineConfig:
    never = "no document says this"
    return PipelineConfig.from_dict(
        {
            "reader": {"batch_size": batch_size},
            "plugins": [PLUGIN],
            "isolation": {"batch_timeout_s": 60, "min_timeout_s": 30, **isolation},
            "stages": [
                {"stage": "poison_pill", "label": "before", "marker": never},
                {"stage": "poison_pill", "label": "poison", "marker": MARKER, "mode": mode},
                {"stage": "poison_pill", "label": "after", "marker": never},
            ],
        }
    )


def _docs(n: int, poison: set[int]) -> list[Document]:
    return [
        Document(f"d{i}", f"http://x/{i}", "s", i, text=f"page {i}" + (f" {MARKER}" if i in poison else ""))
        for i in range(n)
    ]


def _counts(outcome) -> dict:
    return {label: (s.seen, s.kept, dict(s.dropped)) for label, s in outcome.stats.items()}


def test_one_poison_document_is_found_by_bisection_within_the_bound() -> None:
    n = 4
    chain = build_chain(_config(n))
    assert isinstance(chain, IsolatedChain)
    try:
        outcome = chain.run(_docs(n, poison={2}))
        assert [d.id for d in outcome.kept] == ["d0", "d1", "d3"]  # the batch's order
        (drop,) = outcome.dropped
        assert (drop.id, drop.stage, drop.reason, drop.quarantined) == ("d2", "poison", WORKER_CRASH, True)
        assert MARKER in drop.payload and "poison" in drop.detail
        # The funnel stays closed: 'before' kept it, 'poison' dropped it, 'after' never saw it.
        assert _counts(outcome) == {
            "before": (4, 4, {}),
            "poison": (4, 3, {WORKER_CRASH: 1}),
            "after": (3, 3, {}),
        }
        assert outcome.restarts == math.ceil(math.log2(n)) + 1 == 3
        assert chain.calls <= 2 * math.log2(n) + 1
        # The next batch runs in the fresh child, with no failure.
        again = chain.run(_docs(2, poison=set()))
        assert again.restarts == 0 and len(again.kept) == 2
    finally:
        chain.close()


def test_a_batch_where_everything_crashes_ends_all_quarantined() -> None:
    chain = build_chain(_config(2))
    try:
        outcome = chain.run(_docs(2, poison={0, 1}))
        assert outcome.kept == []
        assert sorted((d.id, d.reason) for d in outcome.dropped) == [
            ("d0", WORKER_CRASH),
            ("d1", WORKER_CRASH),
        ]
        assert outcome.restarts == 2 * 2 - 1 == chain.calls
        assert _counts(outcome)["poison"] == (2, 0, {WORKER_CRASH: 2})
    finally:
        chain.close()


def test_a_document_that_hangs_is_quarantined_as_a_timeout() -> None:
    # A call on k documents gets max(min_timeout_s, batch_timeout_s * k / batch_size): 2 s, then 1 s.
    chain = build_chain(_config(4, mode="hang", batch_timeout_s=2, min_timeout_s=1))
    try:
        assert isinstance(chain, IsolatedChain)
        assert [chain.timeout_for(k) for k in (4, 2, 1)] == [2, 1, 1]
        outcome = chain.run(_docs(4, poison={0}))
        assert [d.id for d in outcome.kept] == ["d1", "d2", "d3"]
        (drop,) = outcome.dropped
        assert (drop.id, drop.stage, drop.reason) == ("d0", "poison", STAGE_TIMEOUT)
        assert outcome.restarts == 3
    finally:
        chain.close()


def test_a_crash_while_setting_up_raises_instead_of_quarantining() -> None:
    config = PipelineConfig.from_dict(
        {"plugins": [PLUGIN], "stages": [{"stage": "poison_pill", "crash_in_setup": True}]}
    )
    chain = build_chain(config)
    try:
        with pytest.raises(RuntimeError, match="setting up stage 'poison_pill'"):
            chain.run(_docs(3, poison=set()))
    finally:
        chain.close()


def test_isolation_config() -> None:
    on = _config(8)
    assert on.isolation.enabled
    off = PipelineConfig.from_dict({**on.to_dict(), "isolation": False})
    assert not off.isolation.enabled
    assert isinstance(build_chain(off), StageChain)
    # Not part of the fingerprint: a run stopped by a poison pill resumes with isolation switched on.
    assert config_fingerprint(off) == config_fingerprint(on)
    assert PipelineConfig.from_dict(on.to_dict()) == on
    with pytest.raises(registry.ConfigError, match="batch_timout_s"):
        PipelineConfig.from_dict({"isolation": {"batch_timout_s": 3}})
    with pytest.raises(registry.ConfigError, match="positive"):
        PipelineConfig.from_dict({"isolation": {"min_timeout_s": 0}})
    with pytest.raises(registry.ConfigError, match="no_such_module"):
        PipelineConfig.from_dict({"plugins": ["no_such_module"]})
