"""InfluxQL for the local engine: a parser with the server's messages, run on DataFusion.

The modules, in the order a query goes through them:

* :mod:`.tokens`, :mod:`.parser`, :mod:`.ast`: text to statements (1.x's grammar and
  error messages, ``$params`` bound as typed literals);
* :mod:`.compile`: a SELECT validated and planned (wildcards expanded, time range
  read), :mod:`.where` its WHERE clause as a DataFusion predicate;
* :mod:`.select`, :mod:`.functions`, :mod:`.evaluate`: DataFusion reads the points,
  InfluxQL's series, windows, aggregates and fills shape them; :mod:`.show`;
* :mod:`.engine`: statements run in turn against a ``LocalClient``;
* :mod:`.shape_v1` (1.x ``/query`` JSON), :mod:`.shape_v3` (InfluxDB 3's table),
  :mod:`.api` (``LocalClient.query_influxql`` per profile).
"""

from __future__ import annotations

from influxkit.clients.local.influxql.api import query_v1, query_v3
from influxkit.clients.local.influxql.engine import run
from influxkit.clients.local.influxql.errors import ParseError, StatementError
from influxkit.clients.local.influxql.parser import parse_query

__all__ = ["ParseError", "StatementError", "parse_query", "query_v1", "query_v3", "run"]
