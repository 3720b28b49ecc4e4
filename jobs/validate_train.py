"""Entry point: check shards and train a small LM on them (``python -m jobs.validate_train``, also
``ccsieve validate``); ``--a``/``--b`` compares two datasets at equal tokens. See docs/validation.md::

    python -m jobs.validate_train out/sample --check-only
    python -m jobs.validate_train --a out/curated --b out/raw --reference ref.jsonl.gz \\
        --seeds 3 --output out/ab
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pipeline.process_exit import exit_now
from pipeline.training.command import add_validate_arguments, validate_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jobs.validate_train", description=__doc__.splitlines()[0]
    )
    add_validate_arguments(parser)
    return validate_command(parser.parse_args(argv))


if __name__ == "__main__":
    exit_now(main())
