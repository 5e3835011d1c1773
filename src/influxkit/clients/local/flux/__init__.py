"""Flux on the local engine (the ``v2`` profile): parse, run over DataFusion, answer as 2.x.

A script is parsed by :mod:`.parser`, run by :mod:`.interpreter` (``from |> range |>
filter`` read through DataFusion by :mod:`.source`, the other functions in
:mod:`.transforms` and :mod:`.aggregates`), and its results are Flux tables in the
long format.  :func:`encode_results` writes them as 2.x's annotated CSV (the body of
``influxkit serve``'s ``/api/v2/query``); :func:`rows` turns them into the rows
:meth:`~influxkit.clients.http.HttpClient.query_flux` would decode from that body,
by decoding it with the same decoder, so a test run on the local engine sees what it
would see against a real InfluxDB 2.x.

Example:
    >>> from influxkit.clients.local import LocalClient
    >>> from influxkit.clients.profiles import get_profile
    >>> engine = LocalClient(get_profile("v2"), databases=["b"])
    >>> _ = engine.write(b"cpu,host=a usage=0.5 1000000000", database="b", precision="ns",
    ...                  accept_partial=False, no_sync=False)
    >>> [r["_value"] for r in rows(run(engine, 'from(bucket: "b") |> range(start: 0)'))]
    [0.5]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.flux.annotated_csv import Dialect, encode_results
from influxkit.clients.local.flux.interpreter import BucketReader, Interpreter
from influxkit.clients.local.flux.parser import parse
from influxkit.clients.local.flux.table import Result
from influxkit.errors import DatabaseNotFound

if TYPE_CHECKING:
    import pyarrow as pa

    from influxkit.clients.local.client import LocalClient

__all__ = [
    "CLIENT_DIALECT",
    "Dialect",
    "Result",
    "encode_results",
    "engine_reader",
    "execute",
    "rows",
    "run",
]

#: The dialect influxkit's HTTP client asks 2.x for (``protocol.requests.flux_query``).
CLIENT_DIALECT = Dialect(header=True, delimiter=",", annotations=("datatype", "group", "default"))


def execute(query: str, reader: BucketReader, *, now_ns: int | None = None) -> list[Result]:
    """Parse and run ``query`` over the buckets ``reader`` gives; its results, in order.

    Raises:
        QueryError: the query is not valid Flux, uses Flux the engine does not run, or
            fails while running (400, with 2.x's message).
        DatabaseNotFound: ``from(bucket:)`` names a bucket that does not exist (404).
    """
    return Interpreter(reader, now_ns).run(parse(query))


def engine_reader(engine: LocalClient) -> BucketReader:
    """The engine's buckets (its databases, by name) as the interpreter reads them.

    Each read takes one consistent Arrow snapshot of the database, as SQL queries do.
    """

    def read(bucket: str) -> Mapping[str, pa.Table] | None:
        try:
            return engine._snapshot(bucket)  # the engine's own snapshot, shared with SQL
        except DatabaseNotFound:
            return None

    return read


def run(engine: LocalClient, query: str, *, now_ns: int | None = None) -> list[Result]:
    """Run ``query`` on ``engine``'s buckets."""
    return execute(query, engine_reader(engine), now_ns=now_ns)


def rows(results: list[Result]) -> list[dict[str, Any]]:
    """The rows influxkit's HTTP client would return for a 2.x answering ``results``.

    The results are encoded as the annotated CSV 2.x sends for the client's dialect and
    decoded by the client's own decoder: every quirk (empty strings read as null, times
    as UTC datetimes to the microsecond, ``result`` and ``table`` columns) is the same.
    """
    from influxkit.protocol.decode_v1 import flux_rows

    return flux_rows(encode_results(results, CLIENT_DIALECT))
