"""Byte-level BPE for the training check, and packing documents into fixed-length blocks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

__all__ = ["EOS", "encode", "eos_id", "load_tokenizer", "pack", "reference_stream", "train_tokenizer"]

EOS = "<|endoftext|>"


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096) -> Tokenizer:
    """A byte-level BPE trained on ``texts``: every byte is in the alphabet, so any text encodes and the
    encoding is lossless (which bits per byte relies on). ``EOS`` separates documents."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def load_tokenizer(path: str | Path) -> Tokenizer:
    """A tokenizer.json from disk; it must know ``EOS`` (documents are packed with it)."""
    tokenizer = Tokenizer.from_file(str(path))
    if tokenizer.token_to_id(EOS) is None:
        raise ValueError(f"{path}: the tokenizer has no {EOS} token")
    return tokenizer


def eos_id(tokenizer: Tokenizer) -> int:
    token = tokenizer.token_to_id(EOS)
    assert token is not None
    return token


def encode(tokenizer: Tokenizer, texts: Sequence[str], batch: int = 1024) -> list[list[int]]:
    """Token ids of each text, in batches (encode_batch runs on all cores)."""
    out: list[list[int]] = []
    for start in range(0, len(texts), batch):
        out.extend(e.ids for e in tokenizer.encode_batch(list(texts[start : start + batch])))
    return out


def pack(docs: Iterable[Sequence[int]], eos: int, seq_len: int) -> np.ndarray:
    """Concatenate documents, each followed by ``eos``, and cut the stream into rows of ``seq_len + 1``
    tokens (inputs are ``row[:-1]``, targets ``row[1:]``); consecutive rows share one token so every
    token but the first is a target once. The tail shorter than a row is dropped."""
    stream = np.fromiter((t for doc in docs for t in (*doc, eos)), dtype=np.int64)
    n = (len(stream) - 1) // seq_len
    if n <= 0:
        return np.zeros((0, seq_len + 1), dtype=np.int64)
    index = np.arange(n)[:, None] * seq_len + np.arange(seq_len + 1)[None, :]
    return stream[index]


def reference_stream(docs: Iterable[Sequence[int]], eos: int, seq_len: int) -> np.ndarray:
    """Held-out rows that cover every token of every document, unlike :func:`pack`: the stream starts
    with ``eos`` (so a document's first token is predicted too) and the tail is padded with ``eos``.
    The evaluation counts only targets that are not ``eos``: exactly the tokens of the texts, whose
    bytes are the denominator of bits per byte."""
    stream = [eos]
    for doc in docs:
        stream.extend(doc)
        stream.append(eos)
    n = max(1, -(-(len(stream) - 1) // seq_len))
    padded = np.full(n * seq_len + 1, eos, dtype=np.int64)
    padded[: len(stream)] = stream
    index = np.arange(n)[:, None] * seq_len + np.arange(seq_len + 1)[None, :]
    return padded[index]
