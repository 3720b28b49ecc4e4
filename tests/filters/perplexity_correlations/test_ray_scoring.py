"""score_models_ray on a real local Ray: the same scores as scoring locally, cached, and one broken
model reported without losing the others."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from filters.perplexity_correlations.scoring import ModelScores, ModelSpec, score_cached
from tests.filters.perplexity_correlations._tiny_models import held_out_texts, make_tiny_hf, train_texts

pytestmark = pytest.mark.ray

pytest.importorskip("ray")
pytest.importorskip("transformers")

HF_OPTIONS = {"batch_size": 4, "device": "cpu"}


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> tuple[list[ModelSpec], list[str]]:
    root = tmp_path_factory.mktemp("zoo")
    specs = [
        ModelSpec("gpt-a", "hf", str(make_tiny_hf(root / "a", testdata, seed=0, train_steps=20))),
        ModelSpec("ghost", "hf", str(root / "no-such-model")),
        ModelSpec("gpt-b", "hf", str(make_tiny_hf(root / "b", testdata, seed=1))),
    ]
    try:
        from filters.kenlm_train import train_kenlm

        kenlm = train_kenlm(train_texts(testdata), root / "lm.bin", order=2)
        specs.append(ModelSpec("kenlm-2", "kenlm", str(kenlm.path)))
    except RuntimeError:  # lmplz not built here: the HF models still cover the Ray side
        pass
    texts = [*held_out_texts(testdata, 11), ""]
    return specs, texts


@pytest.fixture(scope="module")
def first_run(ray_cluster, zoo, tmp_path_factory: pytest.TempPathFactory):
    from filters.perplexity_correlations.ray_scoring import score_models_ray

    specs, texts = zoo
    cache = tmp_path_factory.mktemp("cache")
    results, failures = score_models_ray(specs, texts, cache, batch_size=5, hf_options=HF_OPTIONS)
    return cache, results, failures


def _local(spec: ModelSpec, texts: list[str]) -> ModelScores:
    scorer = spec.build(**HF_OPTIONS) if spec.kind == "hf" else spec.build()
    return score_cached(scorer, texts, None, batch_size=5)


def test_results_equal_local_scoring(zoo, first_run) -> None:
    specs, texts = zoo
    _, results, _ = first_run
    good = [s for s in specs if s.name != "ghost"]
    assert [r.name for r in results] == [s.name for s in good]
    for spec, remote in zip(good, results, strict=True):
        local = _local(spec, texts)
        np.testing.assert_array_equal(remote.tokens, local.tokens)
        np.testing.assert_allclose(remote.nats, local.nats, rtol=0, atol=1e-5, equal_nan=True)
        assert remote.tokens[:-1].min() > 0, spec.name
        if spec.kind == "hf":
            assert math.isnan(remote.nats[-1]) and remote.tokens[-1] == 0  # the empty text
        assert remote.nats.flags.writeable, "the caller gets its own arrays, not object-store views"


def test_broken_model_is_reported_and_others_finish(first_run) -> None:
    _, results, failures = first_run
    assert list(failures) == ["ghost"]
    assert "FileNotFoundError" in failures["ghost"] and "no-such-model" in failures["ghost"]
    assert len(results) >= 2


def test_cache_is_written_and_reused(zoo, first_run) -> None:
    from filters.perplexity_correlations.ray_scoring import score_models_ray

    specs, texts = zoo
    cache, results, _ = first_run
    files = {p.name.split(".")[0]: p for p in cache.glob("*.npz")}
    assert sorted(files) == sorted(r.name for r in results)
    stamps = {name: p.stat().st_mtime_ns for name, p in files.items()}
    again, failures = score_models_ray(specs, texts, cache, batch_size=5, hf_options=HF_OPTIONS)
    assert list(failures) == ["ghost"]
    assert {name: p.stat().st_mtime_ns for name, p in files.items()} == stamps, "cached models were rescored"
    with np.load(files["gpt-b"]) as cached:
        np.testing.assert_array_equal(cached["tokens"], again[1].tokens)
    for before, after in zip(results, again, strict=True):
        assert after.name == before.name
        np.testing.assert_array_equal(after.tokens, before.tokens)
        np.testing.assert_array_equal(after.nats, before.nats)


def test_duplicate_names_are_refused() -> None:
    from filters.perplexity_correlations.ray_scoring import score_models_ray

    spec = ModelSpec("same", "hf", "/nowhere")
    with pytest.raises(ValueError, match="unique"):
        score_models_ray([spec, spec], ["text"], "/unused")
