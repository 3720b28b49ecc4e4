"""Hugging Face causal LMs as the neural family of the perplexity-correlation zoo."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["HFScorer"]

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "spiece.model")


class HFScorer:
    """Scores texts with a causal LM and its tokenizer from a local folder (never the Hub).

    Each text is tokenized without special tokens; when the tokenizer has a BOS token it is prepended,
    so every real token is predicted. Texts longer than the context (``max_length``, else the config's
    ``max_position_embeddings``/``n_positions``) are cut into consecutive non-overlapping windows, each
    starting with BOS again; without a BOS the first token of each window is context only and is not
    counted. The loss is summed over predicted tokens in float32 logits and float64 sums. On CUDA
    (``device="auto"`` picks it when present) the weights are bf16, on CPU float32. The model loads on
    the first :meth:`score`; the fingerprint is computed once per instance.
    """

    def __init__(
        self,
        name: str,
        path: str | Path,
        *,
        batch_size: int = 8,
        device: str = "auto",
        max_length: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"{name}: batch_size must be at least 1, got {batch_size}")
        if max_length is not None and max_length < 2:
            raise ValueError(f"{name}: max_length must be at least 2, got {max_length}")
        self.name = name
        self.path = Path(path)
        self.batch_size = batch_size
        self.device = device
        self.max_length = max_length
        self._fingerprint: str | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._context = 0
        self._torch_device: Any = None

    def _files(self) -> list[Path]:
        """The folder's files, checked for a config, weights and a tokenizer; hidden entries (a Hub
        download's ``.cache``, ``.git``) hold no model data and are left out."""
        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.name}: no Hugging Face model folder at {self.path}")
        files = sorted(
            p
            for p in self.path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.path).parts)
        )
        names = {p.name for p in files}
        missing = []
        if "config.json" not in names:
            missing.append("config.json")
        if not any(n.endswith(_WEIGHT_SUFFIXES) for n in names):
            missing.append("weights (*.safetensors or *.bin)")
        if not names.intersection(_TOKENIZER_FILES):
            missing.append("tokenizer (" + " or ".join(_TOKENIZER_FILES) + ")")
        if missing:
            raise FileNotFoundError(f"{self.name}: {self.path} lacks {', '.join(missing)}")
        return files

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            h = hashlib.sha256(b"hf\0")
            for file in self._files():
                rel = file.relative_to(self.path).as_posix().encode()
                h.update(len(rel).to_bytes(8, "little") + rel)
                h.update(file.stat().st_size.to_bytes(8, "little"))
                with open(file, "rb") as fh:
                    while block := fh.read(1 << 22):
                        h.update(block)
            # batch_size and device change only rounding, not what is computed.
            h.update(f"max_length={self.max_length}".encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._files()
        device = torch.device(
            ("cuda" if torch.cuda.is_available() else "cpu") if self.device == "auto" else self.device
        )
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True, dtype=dtype)
        config = model.config
        context = self.max_length or (
            getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        )
        if not context:
            raise ValueError(f"{self.name}: {self.path} config has no context length; pass max_length")
        self._context = int(context)
        self._model = model.to(device).eval()
        self._tokenizer = tokenizer
        self._torch_device = device

    def _windows(self, ids: list[int]) -> Iterator[list[int]]:
        bos = self._tokenizer.bos_token_id
        if bos is not None:
            step = self._context - 1
            for start in range(0, len(ids), step):
                yield [bos, *ids[start : start + step]]
        else:
            for start in range(0, len(ids), self._context):
                window = ids[start : start + self._context]
                if len(window) >= 2:  # a lone token predicts nothing
                    yield window

    def score(self, texts: Sequence[str]) -> list[tuple[float, int]]:
        import torch

        if self._model is None:
            self._load()
        if not texts:
            return []
        # verbose=False: long texts exceeding model_max_length are expected; they are windowed below.
        encoded = self._tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        windows = [(i, w) for i, ids in enumerate(encoded) for w in self._windows(ids)]
        # Longest first, so each batch pads little and an out-of-memory error shows up at once.
        windows.sort(key=lambda item: -len(item[1]))
        nats = [0.0] * len(texts)
        counts = [0] * len(texts)
        tok = self._tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        pad = 0 if pad is None else pad
        with torch.inference_mode():
            for start in range(0, len(windows), self.batch_size):
                batch = windows[start : start + self.batch_size]
                width = len(batch[0][1])
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, (_, window) in enumerate(batch):
                    ids[row, : len(window)] = torch.tensor(window)
                    mask[row, : len(window)] = 1
                ids, mask = ids.to(self._torch_device), mask.to(self._torch_device)
                logits = self._model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
                loss = torch.nn.functional.cross_entropy(
                    logits.transpose(1, 2), ids[:, 1:], reduction="none"
                ).double()
                # where, not a product: a non-finite loss at a padded position must not leak in.
                per_window = torch.where(mask[:, 1:].bool(), loss, 0.0).sum(dim=1).tolist()
                for (text, window), value in zip(batch, per_window, strict=True):
                    nats[text] += value
                    counts[text] += len(window) - 1
        return [(n if c and math.isfinite(n) else math.nan, c) for n, c in zip(nats, counts, strict=True)]
