"""The Arrow side: tags flattened for the wire, dictionary-encoded again, batches sliced."""

from __future__ import annotations

import doctest
import importlib

import pyarrow as pa
import pytest

from influxkit.clients.flight import TAG_METADATA, restore_tag_dictionaries
from influxkit.server.flight import FLIGHT_MESSAGE_BYTES, _sliced, flatten_dictionaries

TAG = {TAG_METADATA[0]: TAG_METADATA[1]}
STRING_FIELD = {b"iox::column::type": b"iox::column_type::field::string"}


def _engine_like() -> pa.Table:
    """A table shaped as the local engine answers ``SELECT *`` (tags as dictionaries)."""
    schema = pa.schema(
        [
            pa.field("host", pa.dictionary(pa.int32(), pa.string()), metadata=TAG),
            pa.field("note", pa.string(), metadata=STRING_FIELD),
            pa.field("time", pa.timestamp("ns"), nullable=False),
            pa.field("upper", pa.dictionary(pa.int32(), pa.string())),  # an expression
        ]
    )
    host = pa.array(["a", "b", None, "a"]).dictionary_encode()
    return pa.table(
        [host, pa.array(["x", None, "y", "z"]), pa.array([1, 2, 3, 4], pa.timestamp("ns")),
         pa.array(["A", "B", None, "A"]).dictionary_encode()],
        schema=schema,
    )  # fmt: skip


def test_flattening_keeps_metadata_and_time() -> None:
    flat = flatten_dictionaries(_engine_like().schema)
    assert [f.type for f in flat] == [pa.string(), pa.string(), pa.timestamp("ns"), pa.string()]
    assert flat.field("host").metadata == TAG
    assert not flat.field("time").nullable


def test_tags_come_back_as_the_engine_gives_them() -> None:
    engine = _engine_like()
    wire = engine.cast(flatten_dictionaries(engine.schema))
    restored = restore_tag_dictionaries(wire)
    assert restored.schema.field("host").type == pa.dictionary(pa.int32(), pa.string())
    assert restored.schema.field("host").metadata == TAG
    assert restored.column("host").to_pylist() == ["a", "b", None, "a"]
    # A string field and an expression without the tag metadata stay plain strings.
    assert restored.schema.field("note").type == pa.string()
    assert restored.schema.field("upper").type == pa.string()
    assert restored.drop_columns(["upper"]).equals(engine.drop_columns(["upper"]))


def test_record_batches_and_large_strings_too() -> None:
    batch = pa.record_batch(
        [pa.array(["a", "a", "b"], pa.large_string())],
        schema=pa.schema([pa.field("host", pa.large_string(), metadata=TAG)]),
    )
    restored = restore_tag_dictionaries(batch)
    assert isinstance(restored, pa.RecordBatch)
    assert restored.schema.field("host").type == pa.dictionary(pa.int32(), pa.string())
    assert restored.column(0).to_pylist() == ["a", "a", "b"]


def test_without_tags_nothing_is_copied() -> None:
    table = pa.table({"v": [1.0]})
    assert restore_tag_dictionaries(table) is table


def test_big_batches_go_in_slices_of_about_two_mib() -> None:
    batch = pa.record_batch({"v": pa.array(range(1_000_000), pa.int64())})  # 8 MB
    pieces = list(_sliced(batch))
    assert len(pieces) == 4
    assert all(p.nbytes <= FLIGHT_MESSAGE_BYTES for p in pieces)
    assert pa.Table.from_batches(pieces).equals(pa.Table.from_batches([batch]))
    small = pa.record_batch({"v": [1, 2]})
    assert list(_sliced(small)) == [small]


@pytest.mark.parametrize(
    "module", ["influxkit.clients.flight", "influxkit.server.flight", "influxkit.server.run"]
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
