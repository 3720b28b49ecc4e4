"""The training check: train a small LM on checked shards and score held-out bits per byte.

One code path for every device: on CUDA it runs in bf16 autocast under ``torch.compile``; on the CPU
it runs in float32 without compiling, with the small ``cpu-tiny`` preset. In A/B mode every dataset
gets the same tokenizer, token budget, model, seeds and held-out set, so the held-out bits per byte
differ only through the data.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from filters.training_data import read_documents
from pipeline.training.model import GPT, ModelConfig
from pipeline.training.shards import ShardReport, check_shards, find_shards, read_shard_texts
from pipeline.training.tokenizer import (
    encode,
    eos_id,
    load_tokenizer,
    pack,
    reference_stream,
    train_tokenizer,
)

__all__ = ["PRESETS", "TrainConfig", "pick_device", "run_check"]


@dataclass(frozen=True)
class TrainConfig:
    """Model shape, token budget and optimiser settings of one training run."""

    seq_len: int = 128
    d_model: int = 128
    n_layer: int = 2
    n_head: int = 4
    batch_size: int = 16
    tokens: int = 200_000  # training tokens per run: the "equal tokens" of an A/B comparison
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup_frac: float = 0.05
    weight_decay: float = 0.1
    # 2048 on the CPU: the output softmax dominates a model this small (~3k tokens/s on two cores).
    vocab_size: int = 2048
    tokenizer_sample_mb: float = 4.0  # per dataset: text the BPE is trained on
    evals: int = 2  # held-out evaluations during training, besides the one at init


PRESETS: dict[str, TrainConfig] = {
    # Seconds on two cores; enough to rank datasets that differ a lot, not to rank close ones.
    "cpu-tiny": TrainConfig(),
    # The tests' size: under ten seconds a run on two cores.
    "cpu-test": TrainConfig(
        seq_len=64, d_model=64, n_layer=2, n_head=2, tokens=24_576, vocab_size=512, evals=1
    ),
    # About 85M parameters, 50M tokens: a few minutes on one H100-class GPU.
    "gpu-small": TrainConfig(
        seq_len=1024, d_model=768, n_layer=12, n_head=12, batch_size=32, tokens=50_000_000, lr=6e-4,
        vocab_size=16384, tokenizer_sample_mb=32.0, evals=8,
    ),
}  # fmt: skip

# Dense bf16 peak FLOP/s by device name fragment (vendor datasheets), for MFU; unknown devices get none.
PEAK_BF16_FLOPS: dict[str, float] = {
    "H200": 989e12,
    "H100": 989e12,
    "A100": 312e12,
    "L40S": 362e12,
    "L4": 121e12,
    "A10G": 70e12,
    "RTX 4090": 165e12,
}


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _holdout(doc_id: str, fraction: float) -> bool:
    """Stable by id (not by position), so the same documents are held out whatever the shard order."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") < fraction * 2**64


def _lr(step: int, steps: int, cfg: TrainConfig) -> float:
    warmup = max(1, int(cfg.warmup_frac * steps))
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + 0.5 * (cfg.lr - floor) * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def heldout_bpb(
    model: torch.nn.Module, rows: np.ndarray, eos: int, utf8_bytes: int, device: torch.device
) -> float:
    """Bits per byte of the held-out text: summed NLL (nats) of its tokens / ln 2 / its UTF-8 bytes."""
    model.eval()
    total = 0.0
    for start in range(0, len(rows), 32):
        batch = torch.from_numpy(rows[start : start + 32]).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(batch[:, :-1])
        targets = batch[:, 1:]
        nll = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="none")
        total += float((nll * (targets.flatten() != eos)).sum())
    model.train()
    return total / math.log(2) / utf8_bytes


def _mfu(params: int, tokens_per_s: float, device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    peak = next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)
    return 6 * params * tokens_per_s / peak if peak else None


def train_one(
    blocks: np.ndarray,
    reference: np.ndarray,
    reference_bytes: int,
    eos: int,
    cfg: TrainConfig,
    seed: int,
    device: torch.device,
    compile_model: bool,
) -> dict[str, Any]:
    """Train one model on ``blocks`` (rows of ``seq_len + 1`` tokens) for ``cfg.tokens`` tokens."""
    set_seed(seed)
    rng = np.random.default_rng(seed)
    model = GPT(ModelConfig(cfg.vocab_size, cfg.seq_len, cfg.d_model, cfg.n_layer, cfg.n_head)).to(device)
    params = model.num_params()
    step_fn = torch.compile(model) if compile_model else model
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.95),
        fused=device.type == "cuda",
    )
    per_step = cfg.batch_size * cfg.seq_len
    steps = max(1, cfg.tokens // per_step)
    # Epoch after epoch of shuffled blocks: a dataset smaller than the budget is repeated (see "epochs").
    epochs = -(-steps * cfg.batch_size // len(blocks))
    order = np.concatenate([rng.permutation(len(blocks)) for _ in range(epochs)])
    log_every = max(1, steps // 100)
    eval_at = {round(steps * (i + 1) / cfg.evals) for i in range(cfg.evals)}
    curve: list[list[float]] = []
    evals = [[0, heldout_bpb(model, reference, eos, reference_bytes, device)]]
    train_seconds = 0.0
    running = torch.zeros((), device=device)
    for step in range(steps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = _lr(step, steps, cfg)
        idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
        batch = torch.from_numpy(blocks[idx]).to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = step_fn(batch[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running += loss.detach()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            n = (step % log_every) + 1
            curve.append([(step + 1) * per_step, float(running) / n])  # float() syncs only here
            running.zero_()
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_seconds += time.perf_counter() - t0
        if step + 1 in eval_at:
            evals.append([(step + 1) * per_step, heldout_bpb(model, reference, eos, reference_bytes, device)])
    tokens_per_s = steps * per_step / train_seconds
    return {
        "seed": seed,
        "steps": steps,
        "tokens_seen": steps * per_step,
        "epochs": steps * cfg.batch_size / len(blocks),
        "params": params,
        "train_loss": curve,
        "heldout_bpb_curve": evals,
        "heldout_bpb_init": evals[0][1],
        "heldout_bpb": evals[-1][1],
        "train_seconds": train_seconds,
        "tokens_per_s": tokens_per_s,
        "mfu": _mfu(params, tokens_per_s, device),
    }


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def _plot(metrics: Mapping[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (ax_train, ax_eval) = plt.subplots(1, 2, figsize=(11, 4))
    colors = dict(zip(metrics["datasets"], plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for run in metrics["runs"]:
        label = f"{run['dataset']} (seed {run['seed']})"
        x, y = zip(*run["train_loss"], strict=True)
        ax_train.plot(x, y, color=colors[run["dataset"]], alpha=0.7, label=label)
        x, y = zip(*run["heldout_bpb_curve"], strict=True)
        ax_eval.plot(x, y, "o-", color=colors[run["dataset"]], alpha=0.7, label=label)
    ax_train.set(xlabel="training tokens", ylabel="train loss (nats/token)", title="training loss")
    ax_eval.set(xlabel="training tokens", ylabel="bits per byte", title="held-out bits per byte")
    ax_eval.set_ylim(
        top=min(max(r["heldout_bpb_init"] for r in metrics["runs"]), 1.3 * ax_eval.get_ylim()[1])
    )
    for ax in (ax_train, ax_eval):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def run_check(
    datasets: Mapping[str, Sequence[str]],
    output: str | Path,
    cfg: TrainConfig,
    *,
    seeds: Sequence[int] = (0,),
    reference: Sequence[str] | None = None,
    tokenizer: str | None = None,
    holdout: float = 0.05,
    device: str = "auto",
    compile_model: bool | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Check the shards of every dataset, train one model per dataset and seed on the same token
    budget, score each on the same held-out set; write ``metrics.json`` and ``loss.png`` to ``output``.

    The held-out set is the files of ``reference`` (Parquet, JSONL or text, read as
    ``jobs.train_quality`` reads its inputs; a text file is one document) or, without it, the
    documents of the first dataset whose id hashes into ``holdout``; those ids are then removed from
    every dataset's training data. The
    tokenizer is ``tokenizer`` (a tokenizer.json) or a BPE trained on an equal-sized sample of every
    dataset, never on the held-out text. Raises ShardCheckError when a shard fails its checks.
    """
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    dev = pick_device(device)
    compile_model = dev.type == "cuda" if compile_model is None else compile_model
    reports: dict[str, ShardReport] = {}
    texts: dict[str, list[tuple[str, str]]] = {}
    for name, paths in datasets.items():
        reports[name] = check_shards(paths)
        r = reports[name]
        log(f"{name}: {len(r.files)} shards, {r.rows:,} documents, {r.words:,} words: checks passed")
        texts[name] = list(read_shard_texts(find_shards(paths)))
    first = next(iter(datasets))
    if reference is not None:
        ref_texts = [text for path in reference for text, _ in read_documents(path, text_unit="file")]
        ref_source = " ".join(map(str, reference))
    else:
        held = {i for i, _ in texts[first] if _holdout(i, holdout)}
        ref_texts = [t for i, t in texts[first] if i in held]
        texts = {name: [(i, t) for i, t in docs if i not in held] for name, docs in texts.items()}
        ref_source = (
            f"held-out slice of {first}: {holdout:.0%} of its documents by id hash (removed from training)"
        )
    if not ref_texts:
        raise ValueError(f"the held-out set is empty ({ref_source})")

    if tokenizer is not None:
        tok = load_tokenizer(tokenizer)
        tok_source = str(tokenizer)
    else:
        budget = int(cfg.tokenizer_sample_mb * 2**20)
        sizes = [sum(len(t) for _, t in docs) for docs in texts.values()]
        per_dataset = min([budget, *sizes])  # equal shares: the vocabulary favours no dataset
        sample: list[str] = []
        for docs in texts.values():
            used = 0
            for _, text in docs:
                if used >= per_dataset:
                    break
                sample.append(text[: per_dataset - used])
                used += len(sample[-1])
        tok = train_tokenizer(sample, cfg.vocab_size)
        tok_source = f"byte-level BPE trained on {per_dataset:,} characters of each dataset"
        tok.save(str(out / "tokenizer.json"))
    cfg = replace(cfg, vocab_size=tok.get_vocab_size())
    eos = eos_id(tok)
    ref_ids = encode(tok, ref_texts)
    ref_rows = reference_stream(ref_ids, eos, cfg.seq_len)
    ref_bytes = sum(len(t.encode("utf-8")) for t in ref_texts)
    log(f"held-out: {ref_source}: {len(ref_texts):,} documents, {ref_bytes:,} bytes")

    metrics: dict[str, Any] = {
        "config": asdict(cfg) | {"device": str(dev), "compile": compile_model, "torch": torch.__version__},
        "tokenizer": {"source": tok_source, "vocab_size": cfg.vocab_size},
        "reference": {
            "source": ref_source,
            "documents": len(ref_texts),
            "utf8_bytes": ref_bytes,
            "tokens": sum(map(len, ref_ids)),
        },
        "datasets": {},
        "runs": [],
    }
    if dev.type == "cuda":
        metrics["config"]["device_name"] = torch.cuda.get_device_name(dev)
    blocks: dict[str, np.ndarray] = {}
    for name, docs in texts.items():
        ids = encode(tok, [t for _, t in docs])
        reports[name].tokens = sum(map(len, ids))
        blocks[name] = pack(ids, eos, cfg.seq_len)
        if len(blocks[name]) < cfg.batch_size:
            raise ValueError(
                f"{name}: {len(blocks[name])} blocks of {cfg.seq_len} tokens, fewer than one batch"
            )
        metrics["datasets"][name] = {
            "paths": list(datasets[name]),
            "shards": reports[name].as_dict(),
            "train_documents": len(docs),
            "train_tokens": len(blocks[name]) * cfg.seq_len,
            "epochs": cfg.tokens / (len(blocks[name]) * cfg.seq_len),
        }
        log(f"{name}: {reports[name].tokens:,} tokens; the budget of {cfg.tokens:,} is "
            f"{metrics['datasets'][name]['epochs']:.2f} epochs")  # fmt: skip
    for seed in seeds:
        for name in datasets:
            run = {"dataset": name} | train_one(
                blocks[name], ref_rows, ref_bytes, eos, cfg, seed, dev, compile_model
            )
            metrics["runs"].append(run)
            log(
                f"{name} seed {seed}: held-out bpb {run['heldout_bpb_init']:.3f} -> "
                f"{run['heldout_bpb']:.4f}; "
                f"{run['tokens_per_s']:,.0f} tokens/s"
                + (f"; MFU {run['mfu']:.1%}" if run["mfu"] is not None else "")
            )
    metrics["summary"] = {
        name: {
            "heldout_bpb": _summary([r["heldout_bpb"] for r in metrics["runs"] if r["dataset"] == name]),
            "tokens_per_s": statistics.fmean(
                r["tokens_per_s"] for r in metrics["runs"] if r["dataset"] == name
            ),
        }
        for name in datasets
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    metrics["plot"] = str(out / "loss.png") if _plot(metrics, out / "loss.png") else None
    return metrics
