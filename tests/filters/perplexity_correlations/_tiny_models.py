"""Tiny Hugging Face causal LMs built at test time from GSM8K text: nothing is downloaded.

A byte-level BPE tokenizer is trained with ``tokenizers`` on GSM8K problems, wrapped as a
``PreTrainedTokenizerFast`` and saved with a 2-layer ``GPT2LMHeadModel`` (context 64), optionally
trained for a few steps so that two models differ in quality.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

N_POSITIONS = 64
VOCAB_SIZE = 400
TRAIN_LINES = 300  # models and tokenizers learn from the first problems; later ones are held out
BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"


@cache
def gsm8k_texts(testdata: Path) -> tuple[str, ...]:
    """Every GSM8K test problem, question and answer as one paragraph, in file order."""
    out = []
    with open(testdata / "benchmarks-gsm8k" / "test.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append(f"{row['question']}\n{row['answer']}")
    return tuple(out)


def train_texts(testdata: Path) -> list[str]:
    return list(gsm8k_texts(testdata)[:TRAIN_LINES])


def held_out_texts(testdata: Path, n: int = 40) -> list[str]:
    return list(gsm8k_texts(testdata)[-n:])


def _tokenizer(testdata: Path, bos: bool):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(train_texts(testdata), trainer=trainer)
    specials = {"eos_token": EOS, "pad_token": PAD}
    if bos:
        specials["bos_token"] = BOS
    return PreTrainedTokenizerFast(tokenizer_object=core, **specials)


def make_tiny_hf(
    folder: Path, testdata: Path, *, seed: int = 0, train_steps: int = 0, bos: bool = True
) -> Path:
    """Save a tiny GPT-2 and its tokenizer into ``folder``: weights drawn with ``seed``, then
    ``train_steps`` Adam steps on GSM8K windows. ``bos=False`` saves a tokenizer without a BOS token."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = _tokenizer(testdata, bos)
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=N_POSITIONS,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.convert_tokens_to_ids(BOS),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    if train_steps:
        ids = [t for text in train_texts(testdata) for t in tokenizer(text + EOS)["input_ids"]]
        data = torch.tensor(ids[: len(ids) // N_POSITIONS * N_POSITIONS]).view(-1, N_POSITIONS)
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        generator = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(train_steps):
            batch = data[torch.randint(len(data), (16,), generator=generator)]
            loss = model(input_ids=batch, labels=batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
