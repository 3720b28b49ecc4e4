"""Accuracy of the ``language`` stage's model (fastText lid.176.ftz) on lingua's labelled test data.

Data: ``../shared/testdata/langid-lingua-testdata`` (read its SOURCE.md): 75 languages, 1000 texts
each, in three sets -- ``sentences`` (the main figure), ``word-pairs`` and ``single-words`` -- as
``<set>/<iso639-1>.txt.gz``, one text per line, the file name being the label.
``average-accuracy-values.csv`` is lingua's published table: one row per language (English name),
one column per detector, in percent, each value the mean of that detector's accuracy on the three
sets. It has no fastText column, so lid.176's comparable figure is measured here the same way
(``--sets all``: the mean over the three sets) and set beside cld2, cld3, langdetect, langid and
lingua (high and low accuracy mode); a NaN there means the detector does not know the language.

Prediction goes through ``filters.language.LanguageFilter.predict`` (what the stage calls: newlines
replaced, texts cut at ``max_chars``, top-1 label) in batches of ``--batch-size``. A text counts as
correct when the top label equals the language's lid.176 label (``LID_LABEL`` maps lingua's names
where they differ: Bokmål ``nb`` is lid.176's ``no``). No partial credit: ``sh`` (Serbo-Croatian)
for Bosnian, Croatian or Serbian text counts as wrong, and so does ``yue``/``wuu`` for Chinese.
Languages lid.176 has no label for are reported as uncovered; the macro average is given over the
covered languages and over all 75 with uncovered ones counted as 0.

Timing: model load apart; ``predict`` is timed alone (texts/s, one process, fastText's own threads),
then the same texts through ``LanguageFilter.run`` (the stage protocol: document handling, counting
and the score histograms) to show what the protocol adds.

Usage (from the repository root)::

    .venv/bin/python benchmarks/lid_accuracy.py [--sets sentences|all] [--batch-size N] [--json PATH]

Prints Markdown (the tables of docs/filters.md).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from filters.language import LanguageFilter  # noqa: E402
from pipeline.document import Document  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "testdata" / "langid-lingua-testdata"
SETS = ("sentences", "word-pairs", "single-words")

# lingua's English language names (average-accuracy-values.csv) to ISO 639-1 (the test data's file names).
LINGUA_ISO = {
    "Afrikaans": "af", "Albanian": "sq", "Arabic": "ar", "Armenian": "hy", "Azerbaijani": "az",
    "Basque": "eu", "Belarusian": "be", "Bengali": "bn", "Bokmal": "nb", "Bosnian": "bs",
    "Bulgarian": "bg", "Catalan": "ca", "Chinese": "zh", "Croatian": "hr", "Czech": "cs", "Danish": "da",
    "Dutch": "nl", "English": "en", "Esperanto": "eo", "Estonian": "et", "Finnish": "fi", "French": "fr",
    "Ganda": "lg", "Georgian": "ka", "German": "de", "Greek": "el", "Gujarati": "gu", "Hebrew": "he",
    "Hindi": "hi", "Hungarian": "hu", "Icelandic": "is", "Indonesian": "id", "Irish": "ga",
    "Italian": "it", "Japanese": "ja", "Kazakh": "kk", "Korean": "ko", "Latin": "la", "Latvian": "lv",
    "Lithuanian": "lt", "Macedonian": "mk", "Malay": "ms", "Maori": "mi", "Marathi": "mr",
    "Mongolian": "mn", "Nynorsk": "nn", "Persian": "fa", "Polish": "pl", "Portuguese": "pt",
    "Punjabi": "pa", "Romanian": "ro", "Russian": "ru", "Serbian": "sr", "Shona": "sn", "Slovak": "sk",
    "Slovene": "sl", "Somali": "so", "Sotho": "st", "Spanish": "es", "Swahili": "sw", "Swedish": "sv",
    "Tagalog": "tl", "Tamil": "ta", "Telugu": "te", "Thai": "th", "Tsonga": "ts", "Tswana": "tn",
    "Turkish": "tr", "Ukrainian": "uk", "Urdu": "ur", "Vietnamese": "vi", "Welsh": "cy", "Xhosa": "xh",
    "Yoruba": "yo", "Zulu": "zu",
}  # fmt: skip
# Where lid.176's label is not lingua's code. Hebrew is `he` in both (not the old `iw`).
LID_LABEL = {"nb": "no"}
# The detectors of the CSV set beside lid.176 (its per-language "lingua-<x>-detector" columns are left out).
CSV_DETECTORS = ("cld2", "cld3", "langdetect", "langid", "lingua-high-accuracy", "lingua-low-accuracy")


def read_texts(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def read_csv(path: Path) -> dict[str, dict[str, float]]:
    """ISO code -> detector -> accuracy in [0, 1] (NaN where the detector lacks the language)."""
    table: dict[str, dict[str, float]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            iso = LINGUA_ISO[row["language"]]
            table[iso] = {d: float(row[d]) / 100 for d in CSV_DETECTORS}
    return table


def evaluate(
    stage: LanguageFilter, texts: list[str], label: str, batch_size: int
) -> tuple[int, Counter, float]:
    """Correct count, the wrong labels predicted, and the seconds spent in ``predict``."""
    correct, confusions, seconds = 0, Counter(), 0.0
    for i in range(0, len(texts), batch_size):
        batch = texts[i : i + batch_size]
        start = time.perf_counter()
        predicted = stage.predict(batch)
        seconds += time.perf_counter() - start
        for lang, _ in predicted:
            if lang == label:
                correct += 1
            else:
                confusions[lang] += 1
    return correct, confusions, seconds


def protocol_seconds(stage: LanguageFilter, texts: list[str], batch_size: int) -> float:
    """Seconds for the same texts through ``Stage.run`` (score-only), documents built outside the timer."""
    docs = [Document(f"d{i}", "", "lingua", i, text=t) for i, t in enumerate(texts)]
    seconds = 0.0
    for i in range(0, len(docs), batch_size):
        batch = docs[i : i + batch_size]
        start = time.perf_counter()
        stage.run(batch)
        seconds += time.perf_counter() - start
    return seconds


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", choices=("sentences", "all"), default="all")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    sets = SETS if args.sets == "all" else ("sentences",)

    start = time.perf_counter()
    stage = LanguageFilter(languages=[])  # score-only: the stage's model and its predict, nothing dropped
    stage.run([])
    load_seconds = time.perf_counter() - start
    known = {lab.removeprefix("__label__") for lab in stage._model.get_labels()}
    reference = read_csv(args.data / "average-accuracy-values.csv")
    langs = sorted(p.name.removesuffix(".txt.gz") for p in (args.data / "sentences").glob("*.txt.gz"))
    uncovered = [lang for lang in langs if LID_LABEL.get(lang, lang) not in known]

    results: dict[str, dict[str, Any]] = {}
    texts_by_set: Counter[str] = Counter()
    seconds_by_set: Counter[str] = Counter()
    all_sentences: list[str] = []
    for lang in langs:
        label = LID_LABEL.get(lang, lang)
        entry: dict[str, Any] = {"label": label, "covered": lang not in uncovered}
        for name in sets:
            texts = read_texts(args.data / name / f"{lang}.txt.gz")
            correct, confusions, seconds = evaluate(stage, texts, label, args.batch_size)
            texts_by_set[name] += len(texts)
            seconds_by_set[name] += seconds
            entry[name] = {"n": len(texts), "accuracy": correct / len(texts), "confused": confusions}
            if name == "sentences":
                all_sentences += texts
        if len(sets) == len(SETS):
            entry["mean_of_sets"] = mean([entry[s]["accuracy"] for s in SETS])
        results[lang] = entry
    run_seconds = protocol_seconds(stage, all_sentences, args.batch_size)

    covered = [lang for lang in langs if lang not in uncovered]
    summary: dict[str, Any] = {
        "languages": len(langs),
        "covered": len(covered),
        "uncovered": uncovered,
        "model_load_seconds": load_seconds,
        "texts": dict(texts_by_set),
        "predict_texts_per_s": {name: texts_by_set[name] / seconds_by_set[name] for name in sets},
        "stage_run_sentences_per_s": len(all_sentences) / run_seconds,
        "macro": {},
    }
    for name in sets:
        acc = [results[lang][name]["accuracy"] for lang in langs]
        summary["macro"][name] = {
            "covered": mean([results[lang][name]["accuracy"] for lang in covered]),
            "all_uncovered_as_0": mean(
                [0.0 if lang in uncovered else a for lang, a in zip(langs, acc, strict=True)]
            ),
        }
    if len(sets) == len(SETS):
        summary["macro"]["mean_of_sets"] = {
            "covered": mean([results[lang]["mean_of_sets"] for lang in covered]),
            "all_uncovered_as_0": mean(
                [results[lang]["mean_of_sets"] if lang in covered else 0.0 for lang in langs]
            ),
        }
        for det in CSV_DETECTORS:
            # Over the languages lid.176 covers; NaN (the detector lacks the language) counts as 0 there too.
            summary["macro"][det] = {
                "covered": mean([0.0 if math.isnan(v := reference[lang][det]) else v for lang in covered]),
                "all_uncovered_as_0": mean(
                    [0.0 if math.isnan(v := reference[lang][det]) else v for lang in langs]
                ),
            }

    print_markdown(results, summary, reference, sets, langs)
    if args.json:
        for entry in results.values():
            for name in sets:
                entry[name]["confused"] = dict(entry[name]["confused"].most_common(5))
        args.json.write_text(json.dumps({"summary": summary, "languages": results}, indent=1))


def print_markdown(
    results: dict[str, dict[str, Any]],
    summary: dict[str, Any],
    reference: dict[str, dict[str, float]],
    sets: tuple[str, ...],
    langs: list[str],
) -> None:
    full = len(sets) == len(SETS)
    print(
        f"lid.176.ftz: {summary['covered']} of {summary['languages']} languages covered; "
        f"uncovered: {', '.join(summary['uncovered'])}"
    )
    rates = ", ".join(f"{name} {rate:,.0f}/s" for name, rate in summary["predict_texts_per_s"].items())
    print(
        f"model load {summary['model_load_seconds']:.2f} s; predict: {rates}; "
        f"LanguageFilter.run: sentences {summary['stage_run_sentences_per_s']:,.0f}/s\n"
    )
    print("| macro accuracy | covered languages | all, uncovered = 0 |")
    print("| --- | ---: | ---: |")
    for name, m in summary["macro"].items():
        label = f"lid.176 {name}" if name in (*SETS, "mean_of_sets") else f"{name} (CSV, mean of sets)"
        print(f"| {label} | {fmt(m['covered'])} | {fmt(m['all_uncovered_as_0'])} |")
    print()
    head = ["lang", "lid label", "sentences", "top confusions (sentences)"]
    if full:
        head[3:3] = ["word pairs", "single words", "mean of sets", "cld3", "langid", "lingua high"]
    print("| " + " | ".join(head) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in head[2:-1]) + " | --- |")
    for lang in langs:
        entry = results[lang]
        if not entry["covered"]:
            cells = [lang, "(uncovered)", fmt(entry["sentences"]["accuracy"])]
        else:
            cells = [lang, entry["label"], fmt(entry["sentences"]["accuracy"])]
        if full:
            cells += [fmt(entry["word-pairs"]["accuracy"]), fmt(entry["single-words"]["accuracy"])]
            cells += [fmt(entry["mean_of_sets"])]
            cells += [fmt(reference[lang][d]) for d in ("cld3", "langid", "lingua-high-accuracy")]
        conf = entry["sentences"]["confused"].most_common(3)
        cells.append(", ".join(f"{k} {v}" for k, v in conf))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
