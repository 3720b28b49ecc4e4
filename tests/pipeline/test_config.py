"""YAML configs are validated before any work starts, with messages that say what to change."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import DEFAULT_CONFIG, PipelineConfig, ReaderConfig, load_config
from pipeline.registry import ConfigError, build_stage, registered_stages


def test_default_config_builds_the_fineweb_style_pipeline() -> None:
    config = load_config()
    stages = config.build_stages()
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert [s.label for s in stages] == [entry["stage"] for entry in raw["stages"]]
    assert [s.label for s in stages] == [
        "language_prefilter",
        "extract",
        "language",
        "gopher_repetition",
        "gopher_quality",
        "c4_quality",
        "fineweb_quality",
    ]
    assert all(type(s) is registered_stages()[s.name] for s in stages)
    # The YAML's parameters reach the instances.
    assert stages[0].languages == frozenset({"en"}) and stages[0].min_score == 0.05
    assert stages[1].timeout_s == 5 and stages[1].max_html_chars == 4 << 20
    assert stages[2].languages == frozenset({"en"}) and stages[2].min_score == 0.65
    assert stages[5].params == {"filter_no_terminal_punct": False}
    assert config.reader.max_payload_mb == 16 and config.sink.compression == "zstd"


def test_every_shipped_config_is_valid() -> None:
    configs = sorted(DEFAULT_CONFIG.parent.glob("*.yaml"))
    assert DEFAULT_CONFIG in configs
    for path in configs:
        assert load_config(path).build_stages(), path


def test_config_round_trips_through_a_dict() -> None:
    config = load_config()
    assert PipelineConfig.from_dict(config.to_dict()) == config


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        PipelineConfig.from_dict(data)
    return str(info.value)


def test_unknown_stage_lists_the_registered_ones() -> None:
    message = _error({"stages": [{"stage": "langauge"}]})
    assert "unknown stage 'langauge'" in message
    assert all(name in message for name in registered_stages())


def test_unknown_parameter_names_it_and_lists_the_accepted_ones() -> None:
    message = _error({"stages": [{"stage": "language", "min_scor": 0.5}]})
    assert "'language'" in message and "min_scor" in message
    for accepted in ("languages", "min_score", "model_path", "model_sha256", "max_chars"):
        assert accepted in message


def test_unknown_parameter_of_a_wrapped_datatrove_filter() -> None:
    message = _error({"stages": [{"stage": "gopher_quality", "min_doc_wrds": 10}]})
    assert "min_doc_wrds" in message and "min_doc_words" in message


def test_bad_parameter_value_names_the_stage() -> None:
    message = _error({"stages": [{"stage": "extract", "engine": "lynx"}]})
    assert "'extract'" in message and "lynx" in message and "trafilatura" in message


def test_unknown_top_level_key_and_section_keys() -> None:
    message = _error({"stagse": []})
    assert "unknown top-level config keys ['stagse']" in message
    assert "stages" in message and "reader" in message and "sink" in message
    message = _error({"reader": {"batch_sise": 3}})
    assert "batch_sise" in message and "batch_size" in message
    assert "compresion" in _error({"sink": {"compresion": "gzip"}})


def test_stages_must_be_a_list_of_mappings_with_a_stage_key() -> None:
    assert "list of mappings" in _error({"stages": {"stage": "language"}})
    assert "list of mappings" in _error({"stages": ["language"]})
    assert "'stage' key" in _error({"stages": [{"languages": ["en"]}]})


def test_duplicate_labels_are_refused_and_labels_fix_them() -> None:
    message = _error({"stages": [{"stage": "language"}, {"stage": "gopher_quality"}, {"stage": "language"}]})
    assert "unique" in message and "'label'" in message
    assert "['language']" in message  # names the repeated label, not the others
    assert "gopher_quality" not in message
    ok = PipelineConfig.from_dict(
        {"stages": [{"stage": "language"}, {"stage": "language", "label": "lang2"}]}
    )
    assert [s.label for s in ok.build_stages()] == ["language", "lang2"]
    # A label that collides with another stage's name is a duplicate too.
    assert "unique" in _error(
        {"stages": [{"stage": "language", "label": "c4_quality"}, {"stage": "c4_quality"}]}
    )


def test_build_stage_directly() -> None:
    stage = build_stage({"stage": "language", "label": "lid", "languages": ["de"]})
    assert stage.label == "lid" and stage.languages == frozenset({"de"})
    assert ReaderConfig().batch_size == 128


def test_yaml_problems_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*not valid YAML"):
        load_config(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- stage: language\n")
    with pytest.raises(ConfigError, match=r"list\.yaml.*mapping"):
        load_config(listed)
    with pytest.raises(ConfigError, match=r"not found.*missing\.yaml"):
        load_config(tmp_path / "missing.yaml")


def test_a_config_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text("reader:\n  batch_size: 7\nstages:\n  - stage: gopher_repetition\n")
    config = load_config(path)
    assert config.reader.batch_size == 7
    assert [s.label for s in config.build_stages()] == ["gopher_repetition"]
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_config(empty).build_stages() == []
