"""The one record type of ccsieve and its fixed Arrow schema.

Every conversion between :class:`Document` and Arrow happens in this module: :func:`to_table` and
:func:`from_table` for the published schema, and the same two functions with ``in_flight=True`` for
the wider batches that runners pass between workers (which also carry the decoded HTML).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

__all__ = [
    "ARROW_SCHEMA",
    "DROP_SCHEMA",
    "IN_FLIGHT_SCHEMA",
    "SCHEMA_VERSION",
    "Document",
    "DropRecord",
    "drops_from_table",
    "drops_to_table",
    "from_table",
    "text_hash",
    "to_table",
]

SCHEMA_VERSION = "1"

ARROW_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),  # the WARC-Record-ID, e.g. "<urn:uuid:...>"
        pa.field("url", pa.string(), nullable=False),
        pa.field("warc_date", pa.timestamp("us", tz="UTC")),  # null when the WARC-Date is malformed
        pa.field("source", pa.string(), nullable=False),  # input file as given (path or URL)
        pa.field("offset", pa.int64(), nullable=False),  # byte offset of the record in the source file
        pa.field("content_type", pa.string()),
        pa.field("language", pa.string()),
        pa.field("language_score", pa.float64()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("scores", pa.map_(pa.string(), pa.float64())),
        pa.field("metadata", pa.map_(pa.string(), pa.string())),
    ],
    metadata={b"ccsieve.schema_version": SCHEMA_VERSION.encode()},
)

# Runners move records between workers with the page still attached; it never reaches a shard.
IN_FLIGHT_SCHEMA = ARROW_SCHEMA.append(pa.field("html", pa.string()))

DROP_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("quarantined", pa.bool_(), nullable=False),
        pa.field("detail", pa.string()),
        # Quarantined records keep (a bounded prefix of) what failed, so the failure can be replayed.
        pa.field("payload", pa.string()),
    ]
)


@dataclass(slots=True)
class Document:
    """One web page on its way through the pipeline.

    ``scores`` holds every numeric annotation (quality, perplexity, ...) under the name of the stage
    that wrote it; ``metadata`` holds strings. ``html`` is the decoded page, present until extraction
    and never written to a shard.
    """

    id: str
    url: str
    source: str
    offset: int
    text: str = ""
    warc_date: dt.datetime | None = None
    content_type: str | None = None
    language: str | None = None
    language_score: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    html: str | None = None


@dataclass(slots=True)
class DropRecord:
    """Why one record left the pipeline, and where it came from."""

    id: str
    url: str
    source: str
    offset: int
    stage: str
    reason: str
    quarantined: bool = False
    detail: str | None = None
    payload: str | None = None

    @classmethod
    def of(
        cls,
        doc: Document,
        stage: str,
        reason: str,
        *,
        quarantined: bool = False,
        detail: str | None = None,
        payload_limit: int = 1 << 20,
    ) -> DropRecord:
        payload = None
        if quarantined:
            raw = doc.html if doc.html is not None else doc.text
            payload = raw[:payload_limit] if raw else None
        return cls(doc.id, doc.url, doc.source, doc.offset, stage, reason, quarantined, detail, payload)


_DOC_COLUMNS = [f.name for f in ARROW_SCHEMA]


def _pairs(mapping: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted(mapping.items())


def to_table(docs: list[Document], *, in_flight: bool = False) -> pa.Table:
    """Documents to an Arrow table of :data:`ARROW_SCHEMA` (or :data:`IN_FLIGHT_SCHEMA`)."""
    columns: dict[str, list[Any]] = {
        "id": [d.id for d in docs],
        "url": [d.url for d in docs],
        "warc_date": [d.warc_date for d in docs],
        "source": [d.source for d in docs],
        "offset": [d.offset for d in docs],
        "content_type": [d.content_type for d in docs],
        "language": [d.language for d in docs],
        "language_score": [d.language_score for d in docs],
        "text": [d.text for d in docs],
        "scores": [_pairs(d.scores) for d in docs],
        "metadata": [_pairs(d.metadata) for d in docs],
    }
    schema = ARROW_SCHEMA
    if in_flight:
        columns["html"] = [d.html for d in docs]
        schema = IN_FLIGHT_SCHEMA
    return _checked(pa.Table.from_pydict(columns, schema=schema))


def _checked(table: pa.Table) -> pa.Table:
    # Arrow accepts nulls in fields declared non-nullable; a shard must not.
    for schema_field in table.schema:
        if not schema_field.nullable and table.column(schema_field.name).null_count:
            nulls = table.column(schema_field.name).null_count
            raise ValueError(f"{schema_field.name} must not be null ({nulls} rows)")
    return table


def from_table(table: pa.Table) -> list[Document]:
    """An Arrow table with the columns of :data:`ARROW_SCHEMA` (``html`` optional) to Documents."""
    missing = [name for name in _DOC_COLUMNS if name not in table.column_names]
    if missing:
        raise ValueError(f"table is not in the ccsieve schema: missing columns {missing}")
    cols = {name: table.column(name).to_pylist() for name in _DOC_COLUMNS}
    html = table.column("html").to_pylist() if "html" in table.column_names else [None] * table.num_rows
    docs = []
    for i in range(table.num_rows):
        date = cols["warc_date"][i]
        docs.append(
            Document(
                id=cols["id"][i],
                url=cols["url"][i],
                source=cols["source"][i],
                offset=cols["offset"][i],
                text=cols["text"][i],
                warc_date=date,
                content_type=cols["content_type"][i],
                language=cols["language"][i],
                language_score=cols["language_score"][i],
                scores=dict(cols["scores"][i] or []),
                metadata=dict(cols["metadata"][i] or []),
                html=html[i],
            )
        )
    return docs


def drops_to_table(drops: list[DropRecord]) -> pa.Table:
    names = [f.name for f in DROP_SCHEMA]
    columns = {n: [getattr(d, n) for d in drops] for n in names}
    return _checked(pa.Table.from_pydict(columns, schema=DROP_SCHEMA))


def drops_from_table(table: pa.Table) -> list[DropRecord]:
    return [DropRecord(**row) for row in table.to_pylist()]


def text_hash(text: str) -> str:
    """A stable content hash used to compare runs (parity, resume)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
