"""The stage reference (``docs/stages.md``), generated from the registry so that it cannot go stale.

``python -m pipeline.stage_reference > docs/stages.md`` rewrites it; a test compares the file with
:func:`render_reference`.
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import Any

import yaml

from pipeline.registry import registered_stages
from pipeline.stage import Annotator, Filter, Mapper, Stage

__all__ = ["render_reference", "render_stage"]

_HEADER = """\
# Stage reference

Generated from the stage registry by `python -m pipeline.stage_reference > docs/stages.md`; do not edit
by hand (`tests/pipeline/test_stage_reference.py` fails when this file and the code disagree).

Each section gives the stage's documentation and a config entry with every parameter at its default
(the comment gives its type). Parameters marked *required* have no default and must be set. Any stage
also accepts `label`, its name in statistics, so that a config can hold two instances of one stage.
`resources` is what one instance needs: the Ray runner gives each group of consecutive stages with
equal resources its own actor pool.
"""


def _type_name(annotation: Any) -> str:
    """An annotation as it reads in source: ``int | None``, ``list[str]``, never ``<class 'int'>``."""
    if annotation is inspect.Parameter.empty:
        return "any"
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return re.sub(r"\b(?:typing|collections\.abc)\.", "", str(annotation))


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists, the shape a YAML config gives."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _yaml_value(value: Any) -> str:
    """One value as inline YAML."""
    text = yaml.safe_dump(_plain(value), default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _kind(cls: type[Stage]) -> str:
    for base, kind in ((Filter, "filter"), (Annotator, "annotator"), (Mapper, "mapper")):
        if issubclass(cls, base):
            return kind
    return "stage"


def render_stage(name: str, cls: type[Stage]) -> str:
    """The Markdown section of one registered stage."""
    doc = inspect.cleandoc(cls.__doc__) if cls.__doc__ else "(undocumented)"
    res = cls.resources
    lines = [
        f"## `{name}`",
        "",
        f"{_kind(cls)}, `{cls.__module__}.{cls.__qualname__}`; "
        f"resources: cpus {res.cpus:g}, gpus {res.gpus:g}",
        "",
        doc,
        "",
        "```yaml",
        f"- stage: {name}",
    ]
    params = cls.parameters()
    if not params:
        lines.append("  # no parameters")
    for param, spec in params.items():
        type_name = _type_name(spec.annotation)
        if spec.default is inspect.Parameter.empty:
            lines.append(f"  {param}: null  # required; {type_name}")
        else:
            lines.append(f"  {param}: {_yaml_value(spec.default)}  # {type_name}")
    lines += ["```", ""]
    return "\n".join(lines)


def render_reference() -> str:
    """The whole of ``docs/stages.md``: a header, an index, then one section per registered stage."""
    stages = registered_stages()
    index = [f"- [`{name}`](#{name})" for name in stages]
    sections = [render_stage(name, cls) for name, cls in stages.items()]
    return "\n".join([_HEADER, *index, "", *sections]).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_reference())
