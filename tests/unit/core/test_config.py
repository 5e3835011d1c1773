"""ConnectionConfig from every source, and every validation message."""

from __future__ import annotations

import logging
import pickle
import re

import pytest

import influxkit
from influxkit import ConfigError, ConnectionConfig
from influxkit.config_sources import options_from_env, options_from_toml, options_from_url

TOKEN = "apiv3_sup3rs3cret-token"


def test_defaults_depend_on_api_version():
    v3 = ConnectionConfig.from_options()
    assert (v3.port, v3.profile, v3.auth_scheme, v3.base_url) == (
        8181,
        "v3_core",
        "Bearer",
        "http://localhost:8181",
    )
    v2 = ConnectionConfig.from_options(api_version="v2")
    assert (v2.port, v2.profile, v2.auth_scheme) == (8086, "v2", "Token")
    v1 = ConnectionConfig.from_options(api_version="v1")
    assert (v1.port, v1.profile) == (8086, "v1")


def test_profile_implies_api_version():
    cfg = ConnectionConfig.from_options(profile="v1")
    assert cfg.api_version == "v1"


def test_from_url_with_query_options():
    cfg = influxkit.config_sources.build_config(
        "https://db.example:8443/influx/?database=prices&timeout=2.5", token=TOKEN
    )
    assert cfg.scheme == "https"
    assert cfg.host == "db.example"
    assert cfg.port == 8443
    assert cfg.path_prefix == "/influx"
    assert cfg.database == "prices"
    assert cfg.timeout == 2.5
    assert cfg.base_url == "https://db.example:8443/influx"


def test_url_credentials_are_taken_and_hidden():
    opts = options_from_url("http://alice:pa%3Ass@h:8086")
    assert opts["username"] == "alice"
    assert opts["password"] == "pa:ss"
    cfg = ConnectionConfig.from_options(**opts)
    assert "pa:ss" not in repr(cfg)


@pytest.mark.parametrize("url", ["ftp://h", "localhost:8181", "http://", "http://h:99999"])
def test_bad_urls(url):
    with pytest.raises(ConfigError):
        influxkit.config_sources.build_config(url)


def test_from_env_uses_influxdb3_python_names():
    env = {
        "INFLUX_HOST": "https://cloud.example:443",
        "INFLUX_TOKEN": TOKEN,
        "INFLUX_DATABASE": "sensors",
        "INFLUX_ORG": "acme",
        "INFLUX_PRECISION": "millisecond",
        "INFLUX_GZIP_THRESHOLD": "2048",
        "INFLUX_WRITE_NO_SYNC": "true",
    }
    cfg = ConnectionConfig.from_options(**options_from_env(env))
    assert (cfg.scheme, cfg.host, cfg.port) == ("https", "cloud.example", 443)
    assert cfg.token == TOKEN
    assert cfg.database == "sensors"
    assert cfg.org == "acme"
    assert cfg.precision == "ms"
    assert cfg.gzip_threshold == 2048
    assert cfg.no_sync is True


def test_from_env_timeouts_are_milliseconds_as_influxdb3_python_reads_them():
    opts = options_from_env({"INFLUX_WRITE_TIMEOUT": "10000", "INFLUX_QUERY_TIMEOUT": "2500"})
    assert ConnectionConfig.from_options(**opts).timeout == 10.0  # the longer one
    assert options_from_env({"INFLUX_QUERY_TIMEOUT": "500"})["timeout"] == 0.5
    with pytest.raises(ConfigError, match="INFLUX_WRITE_TIMEOUT / INFLUX_QUERY_TIMEOUT=soon"):
        options_from_env({"INFLUX_WRITE_TIMEOUT": "soon"})


@pytest.mark.parametrize(("text", "value"), [("t", True), ("Y", True), (" yes ", True),
                                             ("f", False), ("n", False), ("0", False)])  # fmt: skip
def test_from_env_flags_take_influxdb3_python_spellings(text, value):
    opts = options_from_env({"INFLUX_WRITE_NO_SYNC": text, "INFLUX_WRITE_ACCEPT_PARTIAL": text})
    cfg = ConnectionConfig.from_options(**opts)
    assert (cfg.no_sync, cfg.accept_partial) == (value, value)


def test_from_env_host_without_scheme():
    opts = options_from_env({"INFLUX_HOST": "myhost:9999"})
    assert (opts["host"], opts["port"], opts["scheme"]) == ("myhost", 9999, "http")


def test_from_toml(tmp_path, monkeypatch):
    path = tmp_path / "influx.toml"
    path.write_text(
        """
[connections.trading]
url = "http://trading.internal:8181"
database = "prices"
token_env = "TRADING_TOKEN"
timeout = 3

[connections.local]
client = "local"
databases = ["a", "b"]
"""
    )
    monkeypatch.setenv("TRADING_TOKEN", TOKEN)
    cfg = ConnectionConfig.from_options(**options_from_toml(path, "trading"))
    assert (cfg.host, cfg.port) == ("trading.internal", 8181)
    assert (cfg.database, cfg.timeout) == ("prices", 3)
    assert cfg.token == TOKEN
    local = ConnectionConfig.from_options(**options_from_toml(path, "local"))
    assert local.client == "local"
    assert local.databases == ("a", "b")
    with pytest.raises(ConfigError, match=r"no \[connections.nope\].*trading"):
        options_from_toml(path, "nope")


def test_toml_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="does not exist"):
        options_from_toml(tmp_path / "missing.toml", "x")
    bad = tmp_path / "bad.toml"
    bad.write_text("[connections.x\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        options_from_toml(bad, "x")
    unset = tmp_path / "unset.toml"
    unset.write_text('[connections.x]\ntoken_env = "INFLUXKIT_TEST_NO_SUCH_VAR"\n')
    monkeypatch.delenv("INFLUXKIT_TEST_NO_SUCH_VAR", raising=False)
    with pytest.raises(ConfigError, match="INFLUXKIT_TEST_NO_SUCH_VAR"):
        options_from_toml(unset, "x")


def test_unknown_option_suggests_the_closest():
    with pytest.raises(ConfigError, match="did you mean 'database'"):
        ConnectionConfig.from_options(default_database="x")
    with pytest.raises(ConfigError, match="did you mean 'timeout'"):
        ConnectionConfig.from_options(timeuot=3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 0}, r"invalid port=0: must be >= 1"),
        ({"port": "abc"}, r"invalid port='abc': expected a number"),
        ({"port": 70000}, r"invalid port=70000: must be <= 65535"),
        ({"scheme": "tcp"}, r"invalid scheme='tcp': expected one of http, https"),
        ({"api_version": "v4"}, r"invalid api_version='v4': expected one of v3, v2, v1"),
        ({"client": "grpc"}, r"invalid client='grpc': expected one of http, local"),
        ({"profile": "v3"}, r"invalid profile='v3': expected one of v3_core"),
        ({"auth_scheme": "Basic"}, r"invalid auth_scheme='Basic'"),
        ({"timeout": -1}, r"invalid timeout=-1: must be >= 0.001"),
        ({"pool_size": 0}, r"invalid pool_size=0"),
        ({"pool_size": 2.5}, r"invalid pool_size=2.5: expected an integer"),
        ({"gzip_threshold": -1}, r"invalid gzip_threshold=-1"),
        ({"verify_ssl": "maybe"}, r"invalid verify_ssl='maybe': expected true or false"),
        ({"precision": "minute"}, r"invalid precision='minute'"),
        ({"host": "http://x"}, r"invalid host='http://x'"),
        ({"database": ""}, r"invalid database=''"),
        ({"ca_file": "/no/such/ca.pem"}, r"no such file"),
        ({"token": 123}, r"invalid token=\[secure\]: expected a string"),
        ({"batch": {"size": 0}}, r"invalid batch.size=0"),
        ({"batch": {"sise": 10}}, r"unknown batch option 'sise'; did you mean 'size'"),
        ({"batch": {"overflow": "drop"}}, r"invalid batch.overflow='drop'"),
        ({"batch": "yes"}, r"invalid batch='yes'"),
    ],
)
def test_validation_messages(options, message):
    with pytest.raises(ConfigError, match=message) as info:
        ConnectionConfig.from_options(**options)
    assert isinstance(info.value, ValueError)


def test_batch_options_accepted_from_dict_and_object():
    cfg = ConnectionConfig.from_options(batch={"size": 100, "flush_interval": 0.5})
    assert cfg.batch == influxkit.BatchOptions(size=100, flush_interval=0.5)
    assert ConnectionConfig.from_options(batch=True).batch == influxkit.BatchOptions()


def test_token_never_in_repr_str_or_errors(caplog):
    cfg = ConnectionConfig.from_options(token=TOKEN, password="hunter2", username="u")
    for text in (repr(cfg), str(cfg), f"{cfg}", repr([cfg])):
        assert TOKEN not in text
        assert "hunter2" not in text
        assert "[secure]" in text
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("influxkit").info("config %s", cfg)
    assert TOKEN not in caplog.text
    with pytest.raises(ConfigError) as info:
        ConnectionConfig.from_options(token=TOKEN, port=-5)
    assert TOKEN not in str(info.value)


def test_influxkit_client_env_switches_to_local(monkeypatch):
    monkeypatch.setenv("INFLUXKIT_CLIENT", "local")
    assert ConnectionConfig.from_options().client == "local"
    assert ConnectionConfig.from_options(client="http").client == "http"


def test_config_is_frozen_and_errors_pickle():
    cfg = ConnectionConfig.from_options()
    with pytest.raises(AttributeError):
        cfg.host = "elsewhere"  # type: ignore[misc]
    try:
        ConnectionConfig.from_options(port=-1)
    except ConfigError as exc:
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is ConfigError
        assert str(again) == str(exc)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 99999}, "invalid port=99999: must be <= 65535"),
        ({"api_version": "v9"}, "invalid api_version='v9'"),
        ({"timeout": -1}, "invalid timeout=-1"),
        ({"client": "grpc"}, "invalid client='grpc'"),
    ],
)
def test_a_config_built_directly_is_checked_like_from_options(options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ConnectionConfig(**options)
    with pytest.raises(ConfigError, match=re.escape(message)):
        ConnectionConfig.from_options(**options)


def test_a_config_built_directly_gets_the_same_defaults():
    direct = ConnectionConfig(host="db.example", api_version="v1", database="app")
    assert direct == ConnectionConfig.from_options(
        host="db.example", api_version="v1", database="app"
    )
    assert (direct.port, direct.profile) == (8086, "v1")


def test_toml_errors_name_the_file_and_table(tmp_path):
    path = tmp_path / "influx.toml"
    path.write_text('[connections.ok]\nclient = "local"\n\n[connections.bad]\ntimeout = "soon"\n')
    with pytest.raises(ConfigError, match=r"influx\.toml \[connections\.bad\]: invalid timeout"):
        influxkit.add_connections_from_toml(path)
    assert "ok" not in influxkit.registry.names()  # all checked before any is registered
