"""Security properties of a run: output paths, the Hub token, unsafe loads, model files, Ray's sockets.

* Output file names come from :func:`pipeline.sinks.source_key` only (stem cut to ``[A-Za-z0-9._-]``,
  80 characters, plus a hash of the full path or URL); record metadata (URL, WARC-Record-ID) is data,
  written into Parquet and never into a path. Checked on hostile names and a real run over hostile
  files and headers: everything created lies under the output folder.
* A canary ``HF_TOKEN`` / ``HUGGING_FACE_HUB_TOKEN`` in the environment of a run, ``ccsieve report``
  and ``ccsieve release --dry-run`` appears in no captured output and no byte of any output file
  (Parquet rows decompressed, key-value metadata, stats, reports, markers, the dataset card).
  The upload is covered by ``test_release.py::test_upload_to_stub_hub_never_leaks_token``.
* No unsafe deserialisation or code evaluation in the project's code (an ``ast`` audit).
* Every model-loading stage refuses a file whose sha256 differs, before loading it.
* The private Ray that ``init_ray`` starts listens on loopback only.
"""

from __future__ import annotations

import ast
import gzip
import ipaddress
import json
import os
import posixpath
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from filters.models import ModelFileError, file_sha256
from pipeline.config import PipelineConfig
from pipeline.registry import build_stage
from pipeline.release import stage_release
from pipeline.report_html import write_report_html
from pipeline.run import run_pipeline
from pipeline.sinks import OutputLayout, source_key
from tests.conftest import ROOT

PROSE = "<p>" + "A sentence of ordinary prose that an extractor should keep as main text. " * 6 + "</p>"
KEY = r"[A-Za-z0-9._-]{1,80}-[0-9a-f]{10}"


# --- output paths ------------------------------------------------------------------------------

HOSTILE_SOURCES = [
    "../../etc/passwd",
    "/etc/passwd",
    "/",
    "",
    ".",
    "..",
    "../",
    "....warc.gz",
    "s3://bucket/../x",
    "s3://bucket/../../etc/cron.d/x.warc.gz",
    "gs://b/a/../../../../var/spool/cron/crontabs/x",
    "file:///etc/shadow",
    "http://example.com/../../x.warc.gz?name=../../y#../z",
    "crawl/a\x00b.warc.gz",
    "crawl/line\nbreak\r.warc.gz",
    "crawl/..\\..\\windows\\system32.warc.gz",
    "crawl/" + "x" * 5000 + ".warc.gz",
    "crawl/ünïcødé-日本語-🙂.warc.gz",
    "crawl/$(touch pwned).warc.gz",
    "crawl/-rf --output=..warc.gz",
    "crawl/%2e%2e%2f%2e%2e%2fetc.warc.gz",
    "crawl/\u202egnp.exe.warc.gz",
]


@pytest.mark.parametrize("root", ["/data/run", "file:///data/run", "memory://run"])
def test_source_key_is_one_plain_file_name(root: str) -> None:
    layout = OutputLayout(root)
    keys = {source_key(s) for s in HOSTILE_SOURCES}
    assert len(keys) == len(HOSTILE_SOURCES)  # the hash keeps different inputs apart
    for source in HOSTILE_SOURCES:
        key = source_key(source)
        assert re.fullmatch(KEY, key), (source, key)
        paths = [
            layout.marker(key),
            layout.join("data", f"{key}-00000.parquet"),
            layout.join("dropped", f"{key}.parquet"),
            layout.join("quarantine", f"{key}.parquet"),
            layout.join("_tmp", key, "marker.json"),
        ]
        folders = [layout.join(f) for f in ("_markers", "data", "dropped", "quarantine")]
        for path in paths:
            assert posixpath.normpath(path) == path  # no "." or ".." component left to resolve
            assert posixpath.dirname(path) in [*folders, layout.join("_tmp", key)], path


def _warc(path: Path, records: list[tuple[str, str]]) -> None:
    """(WARC-Record-ID, WARC-Target-URI) per response record, one gzip member each."""
    with open(path, "wb") as out:
        for record_id, uri in records:
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            page = f"<html><head><title>{uri}</title></head><body><article>{PROSE}</article></body></html>"
            http += page.encode()
            header = (
                f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: {record_id}\r\n"
                f"WARC-Date: 2024-05-01T00:00:00Z\r\nWARC-Target-URI: {uri}\r\n"
                "Content-Type: application/http; msgtype=response\r\n"
                f"Content-Length: {len(http)}\r\n\r\n"
            )
            out.write(gzip.compress(header.encode() + http + b"\r\n\r\n"))


def _outside(folder: Path, out: Path) -> set[Path]:
    """Every path under ``folder`` but ``out`` and what it holds."""
    return {p for p in folder.rglob("*") if p != out and out not in p.parents}


def test_hostile_names_and_headers_stay_inside_the_output(tmp_path: Path) -> None:
    meta = "evilmeta" + secrets.token_hex(6)  # in record headers only
    named = "evilname" + secrets.token_hex(6)  # in input file names only
    records = [
        (f"<urn:uuid:../../../../tmp/{meta}-id>", f"../../../../../../tmp/{meta}-uri/passwd"),
        (f"../../{meta}/a/b", f"file:///tmp/{meta}-file"),
        (f"/tmp/{meta}-abs", f"s3://bucket/../../{meta}-s3"),
        (f"C:\\..\\{meta}", f'http://example.com/<script>alert("{meta}")</script>?q=../../x'),
    ]
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    names = [
        f"...{named}.warc.gz",
        f"..\\..\\{named}.warc.gz",
        f"line\nbreak-{named}.warc.gz",
        f"ünïcødé-日本語-🙂-{named}.warc.gz",
        f"$(touch {named}).warc.gz",
        f"-rf --output=..{named}.warc.gz",
        f"%2e%2e%2f{named}.warc.gz",
        f"[{named}]*?.warc.gz",
        "x" * (255 - len(".warc.gz")) + ".warc.gz",  # the longest name the file system takes
        "...warc.gz",  # stem ".."
        "..warc.gz",  # stem "."
    ]
    for name in names:
        _warc(inputs / name, records)
    _warc(inputs / "sub" / f"nested-{named}.warc.gz", records)
    dotted = str(inputs / "sub" / ".." / "sub" / f"nested-{named}.warc.gz")  # the same file again

    out = tmp_path / "out"
    outside = _outside(tmp_path.parent, out)
    config = PipelineConfig.from_dict({"stages": [{"stage": "extract", "engine": "resiliparse"}]})
    stats = run_pipeline([str(inputs), dotted], str(out), config, workers=1, progress=False)
    write_report_html(str(out))
    stage_release(str(out), f"../../{meta}/x")

    inputs_done = len(names) + 1
    assert len(stats.files) == inputs_done and stats.responses_read == inputs_done * len(records)
    assert stats.kept == inputs_done * len(records)
    # nothing created or removed outside the output folder
    assert _outside(tmp_path.parent, out) == outside
    for folder in (Path(tempfile.gettempdir()), Path.cwd(), ROOT, ROOT.parent, Path.home()):
        assert [p for p in folder.iterdir() if meta in p.name or named in p.name] == [], folder
    real_out = out.resolve()
    for path in out.rglob("*"):
        assert not path.is_symlink(), path
        assert real_out in path.resolve().parents, path
        assert meta not in path.name, path  # record metadata never names a file
    keys = {source_key(s) for s in stats.files}
    assert len(keys) == inputs_done and all(re.fullmatch(KEY, k) for k in keys)
    assert {p.name for p in (out / "_markers").iterdir()} == {f"{k}.json" for k in keys}
    assert {p.name for p in (out / "dropped").iterdir()} == {f"{k}.parquet" for k in keys}
    assert all(p.name.rsplit("-", 1)[0] in keys for p in (out / "data").iterdir())
    # the hostile values are data: kept verbatim in the rows
    rows = pq.read_table(out / "data").to_pylist()
    assert {r["id"] for r in rows} == {rid for rid, _ in records}
    assert {r["url"] for r in rows} == {uri for _, uri in records}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page  # URLs and texts are escaped in the report


# --- the Hub token -----------------------------------------------------------------------------


def _parquet_text(path: Path) -> str:
    """Everything a Parquet file holds, decompressed: rows, schema and key-value metadata."""
    meta = pq.read_metadata(path)
    kv = {
        k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in (meta.metadata or {}).items()
    }
    rows = pq.read_table(path).to_pylist()
    return json.dumps([kv, str(meta.schema), rows], default=str, ensure_ascii=False)


def test_canary_token_leaks_nowhere(tmp_path: Path) -> None:
    hf_token = "hf_CANARY" + secrets.token_hex(16)
    hub_token = "hf_CANARY" + secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    env |= {
        "HF_TOKEN": hf_token,
        "HUGGING_FACE_HUB_TOKEN": hub_token,
        "HF_HOME": str(tmp_path / "hf_home"),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    out = tmp_path / "run"
    commands = [
        ["-m", "jobs.process_cc", "--input", "jobs/samples", "--output", str(out), "--workers", "1"],
        ["-m", "pipeline.cli", "report", str(out)],
        ["-m", "pipeline.cli", "release", str(out), "--repo", "me/canary", "--dry-run"],
    ]
    logs = ""
    for args in commands:
        proc = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        logs += proc.stdout + proc.stderr
    assert "dry run: nothing uploaded" in logs and (out / "release" / "README.md").is_file()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"stats.json", "report.md", "report.html", "config.yaml", "README.md"} <= {p.name for p in files}
    assert any(p.suffix == ".parquet" for p in files) and any(p.parent.name == "_markers" for p in files)
    for token in (hf_token, hub_token):
        assert token not in logs
        for path in files:
            assert token.encode() not in path.read_bytes(), path
            if path.suffix == ".parquet":
                assert token not in _parquet_text(path), path


# --- unsafe loads: a static audit --------------------------------------------------------------

AUDITED = ["pipeline", "filters", "extractors", "dedup", "jobs", "benchmarks"]

# Calls that deserialise or run arbitrary code, whatever their arguments.
_UNSAFE = {
    "pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle.load", "_pickle.loads",
    "cPickle.load", "cPickle.loads", "dill.load", "dill.loads", "cloudpickle.load",
    "cloudpickle.loads", "joblib.load", "marshal.load", "marshal.loads", "shelve.open",
    "pandas.read_pickle", "yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load",
    "yaml.full_load_all", "eval", "exec", "jsonpickle.decode", "torch.package.PackageImporter",
}  # fmt: skip
_SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
# lxml calls that parse XML with lxml's default XML parser unless they are given one.
_XML_PARSE = {"lxml.etree.fromstring", "lxml.etree.XML", "lxml.etree.parse", "lxml.etree.iterparse",
              "lxml.etree.XMLID", "lxml.etree.fromstringlist", "lxml.etree.XMLPullParser"}  # fmt: skip
_STDLIB_XML = ("xml.etree", "xml.dom", "xml.sax", "xml.parsers", "xmlrpc")

# Loads of our own data between our own processes. The parent and the child are one program run by
# one user with one environment; whoever can write into that pipe can already run code as that user.
ALLOWED = {
    ("pipeline/isolation.py", "pickle.loads"): "the isolation child unpickles the (config, labels) "
    "its own parent pickled for it (a memory pipe, never a file or the network)",
}


def _const(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def audit_source(source: str, filename: str = "<string>") -> list[str]:
    """Findings for one module: unsafe deserialisation, eval/exec, unpinned torch.load, XML parsers
    that resolve entities or reach the network, remote code in ``from_pretrained``, ``shell=True``."""
    tree = ast.parse(source, filename)
    names: dict[str, str] = {}  # local name -> dotted origin
    findings: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:  # import a.b as c: c is a.b
                    names[alias.asname] = alias.name
                else:  # import a.b: a is a
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
                if alias.name.startswith(_STDLIB_XML):
                    findings.append(f"{filename}:{node.lineno}: import {alias.name} (use lxml's HTML parser)")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            if node.module.startswith(_STDLIB_XML) or node.module == "xml":
                findings.append(
                    f"{filename}:{node.lineno}: from {node.module} import (use lxml's HTML parser)"
                )

    def dotted(expr: ast.expr) -> str | None:
        parts = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        parts.append(names.get(expr.id, expr.id))
        return ".".join(reversed(parts))

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        if name is None:
            continue
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        where = f"{filename}:{node.lineno}: {name}"
        if name in _UNSAFE:
            findings.append(f"{where} (unsafe deserialisation or code execution)")
        elif name in ("yaml.load", "yaml.load_all"):
            loader = kw.get("Loader", node.args[1] if len(node.args) > 1 else None)
            if loader is None or (dotted(loader) or "").rsplit(".", 1)[-1] not in _SAFE_YAML_LOADERS:
                findings.append(f"{where} without a safe Loader")
        elif name == "numpy.load" and "allow_pickle" in kw and _const(kw["allow_pickle"]) is not False:
            findings.append(f"{where} with allow_pickle")
        elif name == "torch.load" and _const(kw.get("weights_only")) is not True:
            findings.append(f"{where} without weights_only=True")
        elif name.endswith(".from_pretrained"):
            if _const(kw.get("trust_remote_code")) not in (None, False):
                findings.append(f"{where} with trust_remote_code")
            if _const(kw.get("local_files_only")) is not True:
                findings.append(f"{where} without local_files_only=True (downloads)")
        elif name in ("lxml.etree.XMLParser", "lxml.objectify.makeparser"):
            if _const(kw.get("resolve_entities")) is not False:
                findings.append(f"{where} without resolve_entities=False")
            if _const(kw.get("no_network")) is False or _const(kw.get("huge_tree")) is True:
                findings.append(f"{where} with network access or huge_tree")
            if _const(kw.get("load_dtd")) is True or _const(kw.get("dtd_validation")) is True:
                findings.append(f"{where} loads DTDs")
        elif name in _XML_PARSE and "parser" not in kw and len(node.args) < 2:
            findings.append(f"{where} with lxml's default XML parser")
        elif (
            name.endswith("HTMLParser") and name.startswith("lxml") and _const(kw.get("no_network")) is False
        ):
            findings.append(f"{where} with network access")
        elif (
            name.startswith(("subprocess.", "asyncio.create_subprocess")) and _const(kw.get("shell")) is True
        ):
            findings.append(f"{where} with shell=True")
        elif name in ("os.system", "os.popen"):
            findings.append(f"{where} (a shell)")
    return findings


def _audited_files() -> Iterator[Path]:
    for folder in AUDITED:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_audit_catches_what_it_looks_for() -> None:
    """The auditor itself, on a module holding one of each violation and their safe forms."""
    bad = """
import pickle, marshal, yaml, torch, subprocess, os
import numpy as np
import xml.etree.ElementTree as ET
from lxml import etree
from pickle import loads as pl
from transformers import AutoModel
pickle.load(f); pl(b); marshal.loads(b); eval("1"); exec("x=1")
yaml.load(s); yaml.load(s, Loader=yaml.Loader); yaml.unsafe_load(s); yaml.full_load(s)
np.load("x.npy", allow_pickle=True); torch.load("m.pt"); torch.load("m.pt", weights_only=False)
etree.XMLParser(); etree.XMLParser(resolve_entities=False, huge_tree=True); etree.fromstring(s)
AutoModel.from_pretrained(p, trust_remote_code=True, local_files_only=True); AutoModel.from_pretrained(p)
subprocess.run(c, shell=True); os.system("ls")
"""
    good = """
import yaml, torch, subprocess, json
import numpy as np
import lxml.html
from lxml import etree
yaml.safe_load(s); yaml.load(s, Loader=yaml.SafeLoader); json.loads(s); model.eval()
np.load("x.npz"); torch.load("m.pt", weights_only=True); subprocess.run(["ls"])
etree.XMLParser(resolve_entities=False, no_network=True); etree.fromstring(s, parser)
lxml.html.HTMLParser(huge_tree=True); lxml.html.fromstring(s)
AutoModel.from_pretrained(p, local_files_only=True)
"""
    assert len(audit_source(bad)) == 20, "\n".join(audit_source(bad))
    assert audit_source(good) == []


def test_no_unsafe_loads_in_the_project() -> None:
    """No pickle, marshal, dill, joblib or unsafe YAML load, no eval/exec, ``torch.load`` only with
    ``weights_only=True``, ``from_pretrained`` only local and without remote code, XML parsed only by
    parsers that resolve no entity and reach no network, no shell.

    Pickle between our own processes is not untrusted data: Ray and multiprocessing pickle stages,
    configs and batches from the driver to its workers, and :class:`extractors.sandbox.Sandbox`
    pickles pages to its child and results back. Those pipes and Ray's object store belong to one
    program run by one user; they are listed in ``ALLOWED`` where this code calls pickle itself.
    Parquet, ``np.load`` without ``allow_pickle``, JSON and ``yaml.safe_load`` read data only.
    """
    findings = []
    used = set()
    for path in _audited_files():
        rel = path.relative_to(ROOT).as_posix()
        for finding in audit_source(path.read_text(encoding="utf-8"), rel):
            call = finding.split(": ", 1)[1].split(" ", 1)[0]
            if (rel, call) in ALLOWED:
                used.add((rel, call))
                continue
            findings.append(finding)
    assert findings == [], "\n".join(findings)
    assert used == set(ALLOWED), f"stale ALLOWED entries: {set(ALLOWED) - used}"


# --- model files -------------------------------------------------------------------------------

MODEL_STAGES = {
    "language": {},
    "quality": {},
    "math_score": {},
    "pplcorr": {},
    "fasttext_classifier": {"positive_label": "hq"},
    "perplexity": {},
}


@pytest.mark.parametrize("stage_name", list(MODEL_STAGES))
def test_model_stage_refuses_a_file_with_another_sha256(stage_name: str, tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"not the model the config names\n" + secrets.token_bytes(64))
    expected = file_sha256(model)
    spec = {"stage": stage_name, "model_path": str(model), **MODEL_STAGES[stage_name]}
    wrong = build_stage({**spec, "model_sha256": "0" * 64})
    with pytest.raises(ModelFileError, match=r"sha256 is [0-9a-f]{64}, the config expects 0{64}"):
        wrong.setup()
    # with the file's own digest the check passes and the loader is reached (and rejects the bytes):
    # the refusal above came from the digest, before anything parsed the file
    right = build_stage({**spec, "model_sha256": expected})
    with pytest.raises((ValueError, OSError)):  # fastText: "wrong file format", KenLM: "Cannot read"
        right.setup()


# --- Ray ---------------------------------------------------------------------------------------

_RAY_PROBE = """
import json
from pipeline.ray_runner import init_ray

init_ray()
import psutil  # Ray's own copy, importable once ray is
import ray


@ray.remote
def where():
    return ray.util.get_node_ip_address()


task_ip = ray.get(where.remote())
me = psutil.Process()
sockets = []
for proc in [me, *me.children(recursive=True)]:
    try:
        for c in proc.net_connections(kind="inet"):
            if c.status == psutil.CONN_LISTEN or not c.raddr:
                sockets.append([proc.name(), c.laddr.ip, c.laddr.port])
    except psutil.NoSuchProcess:
        pass
node = ray._private.worker.global_worker.node.node_ip_address
print(json.dumps({"task_ip": task_ip, "node_ip": node, "sockets": sockets}))
ray.shutdown()
"""


def _loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@pytest.mark.ray
def test_private_ray_listens_on_loopback_only() -> None:
    """``init_ray()`` without ``RAY_ADDRESS``: every socket of the driver, GCS, raylet, agents and
    workers is bound to loopback, and the canary token is in none of Ray's session files."""
    temp = tempfile.mkdtemp(prefix="ccs-ray-")  # short: Ray's socket paths must stay under 108 bytes
    token = "hf_CANARY" + secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env |= {"RAY_TMPDIR": temp, "RAY_USAGE_STATS_ENABLED": "0", "HF_TOKEN": token}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _RAY_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        assert report["node_ip"] == "127.0.0.1" and report["task_ip"] == "127.0.0.1"
        names = {name for name, _, _ in report["sockets"]}
        assert {"gcs_server", "raylet"} <= names, report["sockets"]
        exposed = [s for s in report["sockets"] if not _loopback(s[1])]
        assert exposed == [], exposed
        assert token not in proc.stdout + proc.stderr
        for path in Path(temp).rglob("*"):
            if path.is_file() and not path.is_socket():
                assert token.encode() not in path.read_bytes(), path
    finally:
        shutil.rmtree(temp, ignore_errors=True)
