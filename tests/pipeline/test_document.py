"""The Document record and its fixed Arrow schema."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
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
            warc_date=dt.datetime(2024, 5, 18, 1, 58, 10, 123456, tzinfo=dt.UTC),
            content_type="text/html",
            language="en",
            language_score=0.93,
            scores={"quality": 0.5, "ppl": 120.0},
            metadata={"charset": "utf-8", "warc_date_raw": "x"},
            html="<p>héllo</p>",
        ),
        # Everything optional left out: no date (malformed WARC-Date), empty maps, no html.
        Document(id="<urn:uuid:2>", url="", source="a.warc.gz", offset=99),
    ]


def _without_html(docs: list[Document]) -> list[Document]:
    for doc in docs:
        doc.html = None
    return docs


def test_round_trip_keeps_every_field_but_html() -> None:
    table = to_table(_docs())
    assert table.schema.equals(ARROW_SCHEMA, check_metadata=True)
    assert "html" not in table.column_names
    back = from_table(table)
    assert back == _without_html(_docs())
    assert back[1].warc_date is None
    assert back[0].scores == {"quality": 0.5, "ppl": 120.0}
    assert back[1].scores == {} and back[1].metadata == {}


def test_in_flight_round_trip_keeps_html() -> None:
    table = to_table(_docs(), in_flight=True)
    assert table.schema.equals(IN_FLIGHT_SCHEMA, check_metadata=True)
    assert table.column("html").to_pylist() == ["<p>héllo</p>", None]
    assert from_table(table) == _docs()
    # A published table read back (no html column) gives documents without html.
    assert from_table(table.drop_columns(["html"])) == _without_html(_docs())


def test_round_trip_through_parquet(tmp_path) -> None:
    path = tmp_path / "shard.parquet"
    pq.write_table(to_table(_docs()), path)
    table = pq.read_table(path)
    # (Parquet renames the maps' inner entries field, which only check_metadata=True compares.)
    assert table.schema.equals(ARROW_SCHEMA)
    assert table.schema.metadata == ARROW_SCHEMA.metadata
    assert from_table(table) == _without_html(_docs())


def test_dates_are_stored_in_utc() -> None:
    local = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    doc = Document(id="x", url="u", source="s", offset=0, warc_date=local)
    (back,) = from_table(to_table([doc]))
    assert back.warc_date == local  # the same instant
    assert back.warc_date.utcoffset() == dt.timedelta(0)
    assert back.warc_date.hour == 10


def test_null_maps_from_another_writer_read_as_empty() -> None:
    table = to_table(_docs()[1:])
    nulls = pa.array([None], type=ARROW_SCHEMA.field("scores").type)
    table = table.set_column(table.schema.get_field_index("scores"), ARROW_SCHEMA.field("scores"), nulls)
    (back,) = from_table(table)
    assert back.scores == {}


def test_schema_is_the_published_one() -> None:
    assert [f.name for f in ARROW_SCHEMA] == [
        "id",
        "url",
        "warc_date",
        "source",
        "offset",
        "content_type",
        "language",
        "language_score",
        "text",
        "scores",
        "metadata",
    ]
    assert ARROW_SCHEMA.field("warc_date").type == pa.timestamp("us", tz="UTC")
    assert ARROW_SCHEMA.metadata[b"ccsieve.schema_version"] == b"1"
    assert IN_FLIGHT_SCHEMA.remove(IN_FLIGHT_SCHEMA.get_field_index("html")).equals(ARROW_SCHEMA)
    required = {f.name for f in ARROW_SCHEMA if not f.nullable}
    assert required == {"id", "url", "source", "offset", "text"}


def test_nulls_in_required_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="id must not be null"):
        to_table([Document(id=None, url="", source="s", offset=0)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text must not be null"):
        to_table([Document(id="x", url="", source="s", offset=0, text=None)])  # type: ignore[arg-type]


def test_from_table_names_missing_columns() -> None:
    table = to_table(_docs()).drop_columns(["text", "url"])
    with pytest.raises(ValueError, match=r"missing columns \['url', 'text'\]"):
        from_table(table)


def test_drop_records_round_trip_and_payload_only_when_quarantined() -> None:
    doc = _docs()[0]
    policy = DropRecord.of(doc, "language", "other_language", detail="de 0.99")
    failure = DropRecord.of(doc, "extract", "extract_timeout", quarantined=True, payload_limit=5)
    doc.html = None
    after_extract = DropRecord.of(doc, "gopher_quality", "boom", quarantined=True)
    assert policy.payload is None
    assert failure.payload == "<p>hé"  # the html while the page still has it, cut to the limit
    assert after_extract.payload == doc.text  # the text once extraction is done
    assert (failure.id, failure.url, failure.source, failure.offset) == (doc.id, doc.url, doc.source, 12)
    drops = [policy, failure, after_extract]
    table = drops_to_table(drops)
    assert table.schema.equals(DROP_SCHEMA)
    assert table.num_rows == 3
    assert table.column("quarantined").to_pylist() == [False, True, True]
    assert drops_from_table(table) == drops
    assert drops_to_table([]).num_rows == 0


def test_text_hash_is_stable_and_content_sensitive() -> None:
    assert text_hash("abc") == text_hash("abc")
    assert text_hash("abc") != text_hash("abd")
    assert len(text_hash("")) == 32
