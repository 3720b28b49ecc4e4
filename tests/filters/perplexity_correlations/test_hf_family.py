"""HFScorer on tiny GPT-2 models built from GSM8K at test time: losses against a manual computation
from the logits, windowing of long texts, batching, fingerprints, the cache and clear errors."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from filters.perplexity_correlations.hf_family import HFScorer
from filters.perplexity_correlations.scoring import LN2, ModelSpec, score_cached
from tests.filters.perplexity_correlations._tiny_models import N_POSITIONS, held_out_texts, make_tiny_hf

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, testdata: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf")
    return {
        "untrained": make_tiny_hf(root / "untrained", testdata, seed=0),
        "trained": make_tiny_hf(root / "trained", testdata, seed=1, train_steps=60),
        "nobos": make_tiny_hf(root / "nobos", testdata, seed=2, train_steps=10, bos=False),
    }


@pytest.fixture(scope="module")
def long_text(testdata: Path) -> str:
    return "\n\n".join(held_out_texts(testdata, 6))


def _cpu(name: str, path: Path, **options: object) -> HFScorer:
    """A scorer pinned to the CPU: on CUDA it would run in bf16, too coarse for the exact checks."""
    return HFScorer(name, path, device="cpu", **options)


def _reference(folder: Path) -> tuple[object, object]:
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, local_files_only=True).eval()
    return tokenizer, model


def _manual_nats(model: object, window: list[int]) -> float:
    """Cross-entropy of every token of ``window`` after the first, summed, straight from the logits."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([window])).logits[0].float()
    losses = torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(window[1:]), reduction="none")
    return float(losses.double().sum())


def test_short_text_matches_the_logits(models: dict[str, Path]) -> None:
    text = "Janet has 16 eggs and sells 9 of them for $2 each."
    tokenizer, model = _reference(models["trained"])
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.bos_token_id is not None and len(ids) + 1 < N_POSITIONS
    nats, count = _cpu("t", models["trained"]).score([text])[0]
    assert count == len(ids)
    assert nats == pytest.approx(_manual_nats(model, [tokenizer.bos_token_id, *ids]), abs=1e-4)


@pytest.mark.parametrize("max_length", [None, 16])
def test_long_text_is_split_into_windows_with_bos(
    models: dict[str, Path], long_text: str, max_length: int | None
) -> None:
    tokenizer, model = _reference(models["trained"])
    ids = tokenizer(long_text, add_special_tokens=False)["input_ids"]
    context = max_length or N_POSITIONS
    assert len(ids) > 3 * context, "the text must span several windows"
    step = context - 1  # each window is BOS + step real tokens
    expected = sum(
        _manual_nats(model, [tokenizer.bos_token_id, *ids[i : i + step]]) for i in range(0, len(ids), step)
    )
    nats, count = _cpu("t", models["trained"], max_length=max_length).score([long_text])[0]
    assert count == len(ids)
    assert nats == pytest.approx(expected, abs=1e-4)


def test_long_text_without_bos_skips_the_first_token_of_each_window(
    models: dict[str, Path], long_text: str
) -> None:
    tokenizer, model = _reference(models["nobos"])
    assert tokenizer.bos_token_id is None
    ids = tokenizer(long_text, add_special_tokens=False)["input_ids"]
    windows = [ids[i : i + N_POSITIONS] for i in range(0, len(ids), N_POSITIONS)]
    assert len(windows) >= 3
    nats, count = _cpu("t", models["nobos"]).score([long_text])[0]
    assert count == len(ids) - len(windows)
    assert nats == pytest.approx(sum(_manual_nats(model, w) for w in windows if len(w) > 1), abs=1e-4)


def test_batched_equals_one_at_a_time(models: dict[str, Path], long_text: str, testdata: Path) -> None:
    texts = [*held_out_texts(testdata, 7), long_text, "", "a", "Seven."]
    batched = _cpu("t", models["trained"], batch_size=4).score(texts)
    single = _cpu("t", models["trained"], batch_size=1)
    alone = [single.score([text])[0] for text in texts]
    assert [c for _, c in batched] == [c for _, c in alone]
    for (nats_b, _), (nats_a, _) in zip(batched[:-3] + batched[-2:], alone[:-3] + alone[-2:], strict=True):
        assert nats_b == pytest.approx(nats_a, abs=1e-4)
    assert math.isnan(batched[-3][0]) and batched[-3][1] == 0  # the empty text
    assert single.score([]) == []


def test_fingerprint(models: dict[str, Path], tmp_path: Path) -> None:
    base = _cpu("t", models["trained"]).fingerprint()
    assert HFScorer("other name", models["trained"], batch_size=1, device="cpu").fingerprint() == base
    assert _cpu("t", models["trained"], max_length=32).fingerprint() != base
    assert _cpu("t", models["untrained"]).fingerprint() != base
    copy = Path(shutil.copytree(models["trained"], tmp_path / "copy"))
    assert _cpu("t", copy).fingerprint() == base, "the folder's location is not part of it"
    model = transformers.AutoModelForCausalLM.from_pretrained(copy, local_files_only=True)
    with torch.no_grad():
        model.transformer.wte.weight[0, 0] += 1e-3
    model.save_pretrained(copy)
    assert _cpu("t", copy).fingerprint() != base


def test_non_finite_weights_give_nan(models: dict[str, Path], tmp_path: Path) -> None:
    copy = Path(shutil.copytree(models["trained"], tmp_path / "broken"))
    model = transformers.AutoModelForCausalLM.from_pretrained(copy, local_files_only=True)
    with torch.no_grad():
        model.transformer.ln_f.weight.fill_(float("inf"))
    model.save_pretrained(copy)
    (nats, count), (empty, zero) = _cpu("t", copy).score(["Twelve apples.", ""])
    assert math.isnan(nats) and count > 0
    assert math.isnan(empty) and zero == 0


def test_trained_model_has_lower_bpb_on_held_out_text(models: dict[str, Path], testdata: Path) -> None:
    texts = held_out_texts(testdata, 30)
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    bpb = {}
    for name in ("untrained", "trained"):
        scores = _cpu(name, models[name]).score(texts)
        bpb[name] = sum(n for n, _ in scores) / n_bytes / LN2
    assert bpb["trained"] < 0.85 * bpb["untrained"], bpb


class _Counting(HFScorer):
    calls = 0

    def score(self, texts):
        type(self).calls += 1
        return super().score(texts)


def test_score_cached_reuses_the_cache(models: dict[str, Path], tmp_path: Path, testdata: Path) -> None:
    texts = held_out_texts(testdata, 7)
    first = score_cached(_Counting("tiny", models["trained"], device="cpu"), texts, tmp_path, batch_size=3)
    assert _Counting.calls == 3
    assert len(list(tmp_path.glob("tiny.*.npz"))) == 1
    again = score_cached(_Counting("tiny", models["trained"], device="cpu"), texts, tmp_path, batch_size=3)
    assert _Counting.calls == 3, "the second run must read the cache"
    np.testing.assert_array_equal(again.nats, first.nats)
    np.testing.assert_array_equal(again.tokens, first.tokens)
    direct = _cpu("tiny", models["trained"]).score(texts)
    np.testing.assert_allclose(first.nats, [n for n, _ in direct], atol=1e-4)


def test_spec_builds_with_options(models: dict[str, Path]) -> None:
    scorer = ModelSpec("tiny", "hf", str(models["trained"])).build(batch_size=2, max_length=32)
    assert isinstance(scorer, HFScorer)
    assert (scorer.name, scorer.batch_size, scorer.max_length) == ("tiny", 2, 32)


def test_missing_folder_or_files_are_clear_errors(tmp_path: Path, models: dict[str, Path]) -> None:
    ghost = tmp_path / "no-such-model"
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        _cpu("ghost", ghost).fingerprint()
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        _cpu("ghost", ghost).score(["text"])
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(models["trained"] / "config.json", partial)
    with pytest.raises(FileNotFoundError, match=r"partial.*weights.*tokenizer"):
        _cpu("partial", partial).score(["text"])
    with pytest.raises(ValueError, match="max_length"):
        _cpu("t", models["trained"], max_length=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_is_close_to_cpu(models: dict[str, Path], long_text: str, testdata: Path) -> None:
    texts = [*held_out_texts(testdata, 5), long_text, ""]
    gpu = HFScorer("t", models["trained"], batch_size=3)  # auto: CUDA with bf16 weights
    on_gpu, on_cpu = gpu.score(texts), _cpu("t", models["trained"]).score(texts)
    assert next(gpu._model.parameters()).dtype == torch.bfloat16
    assert [c for _, c in on_gpu] == [c for _, c in on_cpu]
    for (g, _), (c, _) in zip(on_gpu[:-1], on_cpu[:-1], strict=True):
        assert g == pytest.approx(c, rel=3e-2)
    assert math.isnan(on_gpu[-1][0])
