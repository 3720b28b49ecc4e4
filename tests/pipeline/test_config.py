from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import PipelineConfig, load_config
from pipeline.registry import ConfigError, registered_stages


def test_default_config_builds_the_fineweb_style_pipeline() -> None:
    stages = load_config().build_stages()
    assert [s.label for s in stages] == [
        "extract",
        "language",
        "gopher_repetition",
        "gopher_quality",
        "c4_quality",
        "fineweb_quality",
    ]
    assert stages[1].languages == frozenset({"en"})


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        PipelineConfig.from_dict(data)
    return str(info.value)


def test_unknown_stage_lists_the_registered_ones() -> None:
    message = _error({"stages": [{"stage": "langauge"}]})
    assert "unknown stage 'langauge'" in message
    assert all(name in message for name in registered_stages())


def test_unknown_parameter_lists_the_accepted_ones() -> None:
    message = _error({"stages": [{"stage": "language", "min_scor": 0.5}]})
    assert "min_scor" in message and "min_score" in message


def test_unknown_parameter_of_a_wrapped_datatrove_filter() -> None:
    message = _error({"stages": [{"stage": "gopher_quality", "min_doc_wrds": 10}]})
    assert "min_doc_wrds" in message and "min_doc_words" in message


def test_unknown_sections_and_keys() -> None:
    assert "unknown top-level config keys ['stagse']" in _error({"stagse": []})
    assert "batch_sise" in _error({"reader": {"batch_sise": 3}})


def test_missing_stage_key_and_duplicate_labels() -> None:
    assert "'stage' key" in _error({"stages": [{"languages": ["en"]}]})
    message = _error({"stages": [{"stage": "language"}, {"stage": "language"}]})
    assert "unique" in message and "label" in message
    ok = PipelineConfig.from_dict(
        {"stages": [{"stage": "language"}, {"stage": "language", "label": "lang2"}]}
    )
    assert [s.label for s in ok.build_stages()] == ["language", "lang2"]


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
