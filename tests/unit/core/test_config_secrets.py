"""Tokens that could leak are refused at creation, and bad URLs are echoed without secrets."""

from __future__ import annotations

import pytest

import influxkit
from influxkit.config_sources import safe_url

SECRET = "sekritTOKEN987"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (SECRET + "\n", "whitespace or a control character"),  # read from a file
        (" " + SECRET, "whitespace or a control character"),
        ("sekrit\x00TOKEN987", "whitespace or a control character"),
        ("sekrit\tTOKEN987", "whitespace or a control character"),
        ("sekrétTOKEN987", "non-ASCII"),
    ],
)
def test_a_token_no_header_can_carry_is_refused_without_being_shown(token: str, why: str) -> None:
    with pytest.raises(influxkit.ConfigError) as caught:
        influxkit.connect("http://127.0.0.1:1", token=token)
    assert why in str(caught.value) and "invalid token=[secure]" in str(caught.value)
    assert "sekrit" not in str(caught.value) and "sekrit" not in repr(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        f"localhost:8181?token={SECRET}",
        f"ftp://db.example?database=x&token={SECRET}",
        f"http://user:{SECRET}@/prefix",
        f"user:{SECRET}@host:8086",
    ],
)
def test_a_bad_url_is_echoed_without_its_secrets(url: str) -> None:
    with pytest.raises(influxkit.ConfigError) as caught:
        influxkit.connect(url)
    assert "invalid url=" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_bad_influx_host_is_echoed_without_its_secrets(monkeypatch) -> None:
    monkeypatch.setenv("INFLUX_HOST", f"ftp://db.example?token={SECRET}")
    with pytest.raises(influxkit.ConfigError) as caught:
        influxkit.connect_from_env()
    assert SECRET not in str(caught.value)


def test_safe_url_keeps_what_helps_and_drops_what_leaks() -> None:
    assert safe_url(f"https://u:{SECRET}@db:8443/influx?token={SECRET}#x") == (
        "https://db:8443/influx?..."
    )
    assert safe_url("http://db:8086") == "http://db:8086"
