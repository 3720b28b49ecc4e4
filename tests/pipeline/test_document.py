from __future__ import annotations

import datetime as dt

import pytest

from pipeline.document import (
    ARROW_SCHEMA,
    DROP_SCHEMA,
    IN_FLIGHT_SCHEMA,
    Document,
    DropRecord,
    drops_from_table,
    drops_to_table,
    from_table,
    text_hash,
    to_table,
)


def _docs() -> list[Document]:
    return [
        Document(
            id="<urn:uuid:1>",
            url="http://a.example/",
            source="a.warc.gz",
            offset=12,
            text="héllo\nwörld",
            warc_date=dt.datetime(2024, 5, 18, 1, 58, 10, tzinfo=dt.UTC),
            content_type="text/html",
            language="en",
            language_score=0.93,
            scores={"quality": 0.5, "ppl": 120.0},
            metadata={"charset": "utf-8"},
            html="<p>héllo</p>",
        ),
        Document(id="<urn:uuid:2>", url="", source="a.warc.gz", offset=99),
    ]


def test_round_trip_keeps_every_field_but_html() -> None:
    docs = _docs()
    table = to_table(docs)
    assert table.schema.equals(ARROW_SCHEMA, check_metadata=True)
    back = from_table(table)
    assert back[0].html is None and back[1].html is None
    docs[0].html = None
    docs[1].html = None
    assert back == docs


def test_in_flight_round_trip_keeps_html() -> None:
    docs = _docs()
    table = to_table(docs, in_flight=True)
    assert table.schema.equals(IN_FLIGHT_SCHEMA)
    assert from_table(table) == docs


def test_from_table_names_missing_columns() -> None:
    table = to_table(_docs()).drop_columns(["text", "url"])
    with pytest.raises(ValueError, match=r"missing columns \['url', 'text'\]"):
        from_table(table)


def test_schema_is_fixed_and_non_nullable_where_it_matters() -> None:
    required = {f.name for f in ARROW_SCHEMA if not f.nullable}
    assert required == {"id", "url", "source", "offset", "text"}
    with pytest.raises(ValueError, match="id must not be null"):
        to_table([Document(id=None, url="", source="s", offset=0)])  # type: ignore[arg-type]


def test_drop_records_round_trip_and_payload_only_when_quarantined() -> None:
    doc = _docs()[0]
    policy = DropRecord.of(doc, "language", "other_language", detail="de 0.99")
    failure = DropRecord.of(doc, "extract", "extract_timeout", quarantined=True, payload_limit=5)
    assert policy.payload is None
    assert failure.payload == "<p>hé"
    table = drops_to_table([policy, failure])
    assert table.schema.equals(DROP_SCHEMA)
    assert drops_from_table(table) == [policy, failure]


def test_text_hash_is_stable_and_content_sensitive() -> None:
    assert text_hash("abc") == text_hash("abc")
    assert text_hash("abc") != text_hash("abd")
    assert len(text_hash("")) == 32
