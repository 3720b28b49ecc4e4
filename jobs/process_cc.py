"""Entry point: Common Crawl WARCs to Parquet shards (``python -m jobs.process_cc``, also ``ccsieve run``).

Works the same on one machine and as a Ray job::

    ray job submit --working-dir . -- python -m jobs.process_cc --executor ray --input ... --output ...
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pipeline.cli import add_run_arguments, run_command
from pipeline.process_exit import exit_now


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.process_cc", description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    exit_now(main())
