"""The Ray backend gives the same files as the local one: clusters, keepers, similarities, kept shards."""

from __future__ import annotations

import filecmp
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dedup.clusters import connect
from dedup.job import DedupOptions, run_dedup
from tests.dedup._corpus import corpus, write_run

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    import ray

    ray.init(num_cpus=4, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_ray_equals_local(ray_cluster: None, tmp_path: Path) -> None:
    # Run A (local) makes an index; dump B is deduplicated against it and within itself, with
    # verification, once locally and once on Ray: the index's pinned keepers, verified edges, the
    # six-document edit chain and the GSM8K pairs all go through the distributed components.
    source_a = write_run(tmp_path / "a", corpus(n_gsm=80))
    index = tmp_path / "index"
    run_dedup(
        DedupOptions(
            inputs=[str(source_a)], output=str(tmp_path / "out-a"), write_index=str(index), progress=False
        )
    )
    source_b = write_run(tmp_path / "b", corpus(n_gsm=120, gsm_start=40, tag="-b"), shards=2)
    common = {"inputs": [str(source_b)], "verify": 0.6, "index": str(index), "progress": False}
    local = run_dedup(DedupOptions(output=str(tmp_path / "local"), **common))
    remote = run_dedup(DedupOptions(output=str(tmp_path / "ray"), executor="ray", partitions=3, **common))
    assert remote == local
    assert local["removed_by_reason"]["index"] > 40 and local["removed_by_reason"]["minhash"] > 20
    assert "6" in local["cluster_sizes"]["index"]  # the edit chain, against its keeper in A's index
    names = _files(tmp_path / "local")
    assert names == _files(tmp_path / "ray")
    for name in names:
        assert filecmp.cmp(tmp_path / "local" / name, tmp_path / "ray" / name, shallow=False), name


def _star_rounds(hi: np.ndarray, lo: np.ndarray, parts: int) -> tuple[pa.Table, list[tuple[int, int]]]:
    # The Ray operators' own block functions, with the hash partition by node done here: the
    # multi-round logic without a shuffle's start-up cost per step.
    from dedup.ray_clusters import _as_directed, _both_directions, _large_star, _small_star

    edges, history = pa.table({"hi": hi, "lo": lo}), []
    while True:
        counts = []
        for prepare, step in ((_both_directions, _large_star), (_as_directed, _small_star)):
            directed = prepare(edges)
            part = directed.column("u").to_numpy() % parts
            out = pa.concat_tables([step(directed.filter(pa.array(part == p))) for p in range(parts)])
            counts.append(int(out.column("changed").to_numpy().sum()))
            edges = out.drop_columns(["changed"])
        history.append(tuple(counts))
        if counts == [0, 0]:
            return edges, history


def test_star_rounds_converge_on_a_long_path() -> None:
    # A path over 200 shuffled node numbers: no single step sees the whole component, so large-star
    # and small-star must alternate over several rounds; the result is one star around the minimum.
    nodes = np.random.default_rng(3).permutation(200).astype(np.int64) * 7
    hi, lo = np.maximum(nodes[1:], nodes[:-1]), np.minimum(nodes[1:], nodes[:-1])
    edges, history = _star_rounds(hi, lo, parts=3)
    assert len(history) > 2
    assert set(edges.column("lo").to_pylist()) == {0}
    assert sorted(edges.column("hi").to_pylist()) == sorted(int(n) for n in nodes if n)
    label = np.arange(200 * 7, dtype=np.int64)
    connect(label, hi, lo)
    assert (label[nodes] == 0).all()
