"""docs/stages.md is the registry's stage reference, freshly generated: it cannot go stale."""

from __future__ import annotations

from pathlib import Path

from pipeline.registry import registered_stages
from pipeline.stage_reference import render_reference

ROOT = Path(__file__).resolve().parents[2]
STAGES_MD = ROOT / "docs" / "stages.md"


def test_docs_stages_md_is_up_to_date() -> None:
    assert STAGES_MD.read_text() == render_reference(), (
        "docs/stages.md is stale: run `.venv/bin/python -m pipeline.stage_reference > docs/stages.md`"
    )


def test_every_registered_stage_and_parameter_appears() -> None:
    text = render_reference()
    for name, cls in registered_stages().items():
        assert f"## `{name}`" in text
        assert f"- stage: {name}\n" in text
        section = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        for param in cls.parameters():
            assert f"\n  {param}: " in section, (name, param)
