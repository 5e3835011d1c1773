"""Where the connection comes from (flags, env, TOML), validation, redaction, --help."""

from __future__ import annotations

import json

import pytest

TOKEN = "apiv3_do-not-print-me"


def shown(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_config_show_from_flags_redacts_the_token(invoke):
    result = invoke(
        "config", "show", "--url", "https://db.example:8443/influx?database=app",
        "--token", TOKEN, "--format", "json",
    )  # fmt: skip
    config = shown(result)
    assert config["url"] == {"value": "https://db.example:8443/influx", "source": "--url"}
    assert config["database"] == {"value": "app", "source": "--url"}
    assert config["token"] == {"value": "[secure]", "source": "--token"}
    assert config["timeout"] == {"value": 10.0, "source": "default"}
    assert TOKEN not in result.output
    text = invoke("config", "show", "--url", "http://db.example", "--token", TOKEN)
    assert text.exit_code == 0
    assert TOKEN not in text.output
    assert "[secure]" in text.stdout
    assert any(line.split()[:2] == ["host", "db.example"] for line in text.stdout.splitlines())


def test_config_show_from_environment(invoke, monkeypatch):
    monkeypatch.setenv("INFLUX_HOST", "db.example:9999")
    monkeypatch.setenv("INFLUX_TOKEN", TOKEN)
    monkeypatch.setenv("INFLUX_DATABASE", "envdb")
    monkeypatch.setenv("INFLUX_PRECISION", "millisecond")
    result = invoke("config", "show", "-f", "json")
    config = shown(result)
    assert config["url"]["value"] == "http://db.example:9999"
    assert config["host"]["source"] == "env INFLUX_HOST"
    assert config["database"] == {"value": "envdb", "source": "env INFLUX_DATABASE"}
    assert config["precision"]["value"] == "ms"
    assert config["token"] == {"value": "[secure]", "source": "env INFLUX_TOKEN"}
    assert TOKEN not in result.output
    # A flag overrides one variable; --url replaces the whole address.
    over = shown(invoke("config", "show", "-f", "json", "-d", "other", "--url", "http://h2"))
    assert over["database"] == {"value": "other", "source": "--database"}
    assert over["url"]["value"] == "http://h2:8181"
    assert over["token"]["source"] == "env INFLUX_TOKEN"


def test_config_show_from_a_toml_connection(invoke, tmp_path, monkeypatch):
    path = tmp_path / "influx.toml"
    path.write_text(
        '[connections.prod]\nurl = "https://prod.example:8181"\ndatabase = "app"\n'
        'token_env = "PROD_TOKEN"\n\n[connections.old]\nurl = "http://old:8086"\n'
        'api_version = "v1"\n'
    )
    monkeypatch.setenv("PROD_TOKEN", TOKEN)
    monkeypatch.setenv("INFLUX_DATABASE", "ignored-with-a-connection")
    result = invoke("config", "show", "-c", "prod", "--config", str(path), "-f", "json")
    config = shown(result)
    where = f"{path} [connections.prod]"
    assert config["url"] == {"value": "https://prod.example:8181", "source": where}
    assert config["database"] == {"value": "app", "source": where}
    assert config["token"] == {"value": "[secure]", "source": where}
    assert config["name"]["value"] == "prod"
    assert TOKEN not in result.output
    # The file may come from INFLUXKIT_CONFIG, the name from INFLUXKIT_CONNECTION.
    monkeypatch.setenv("INFLUXKIT_CONFIG", str(path))
    monkeypatch.setenv("INFLUXKIT_CONNECTION", "old")
    text = invoke("config", "show")
    assert text.exit_code == 0
    assert "http://old:8086" in text.stdout
    assert TOKEN not in text.output


def test_unknown_connection_lists_the_defined_ones(invoke, tmp_path):
    path = tmp_path / "influx.toml"
    path.write_text('[connections.prod]\nurl = "http://prod"\n')
    result = invoke("health", "-c", "staging", "--config", str(path))
    assert result.exit_code == 2
    assert "no [connections.staging] table" in result.stderr
    assert "connections defined: prod" in result.stderr


def test_connection_without_a_config_file_is_a_usage_error(invoke):
    result = invoke("config", "show", "-c", "prod")
    assert result.exit_code == 2
    assert "--connection prod needs a config file" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--option", "timeout=abc"], "invalid timeout='abc': expected a number"),
        (["--option", "default_database=x"], "unknown option 'default_database'; did you mean"),
        (["--url", "ftp://db.example"], "invalid url='ftp://db.example'"),
        (["--url", "http://db.example:99999"], "invalid port in url"),
        (["--option", "timeout"], "expected KEY=VALUE"),
        (["--api-version", "v4"], "'v4' is not one of"),
    ],
)
def test_bad_option_values_are_usage_errors_with_the_library_message(invoke, args, message):
    result = invoke("config", "show", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_bad_value_in_the_toml_file_keeps_the_token_out(invoke, tmp_path):
    path = tmp_path / "influx.toml"
    path.write_text(f'[connections.x]\nport = 70000\ntoken = "{TOKEN}"\n')
    result = invoke("health", "-c", "x", "--config", str(path))
    assert result.exit_code == 2
    assert "invalid port=70000: must be <= 65535" in result.stderr
    assert TOKEN not in result.output


COMMANDS = [
    [],
    ["write"],
    ["query"],
    ["health"],
    ["databases"],
    ["databases", "list"],
    ["databases", "create"],
    ["databases", "delete"],
    ["config"],
    ["config", "show"],
    ["serve"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "influxkit")
def test_every_help_shows_examples(invoke, command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    text = result.stdout
    examples = text.split("Examples:", 1)[1].splitlines()
    # Preformatted (click's \b): one real command per line, not rewrapped.
    assert examples[1].strip().startswith("influxkit " + " ".join(command[:1]))


def test_the_help_lists_every_command(invoke):
    listed = invoke("--help").stdout.split("Commands:", 1)[1]
    for name in ("config", "databases", "demo", "health", "query", "serve", "write"):
        assert f"  {name} " in listed


def test_usage_errors_exit_2(invoke):
    assert invoke("query").exit_code == 2  # missing QUERY
    assert invoke("nope").exit_code == 2
    assert invoke("write", "/no/such/file.lp").exit_code == 2
    result = invoke("query", "SELECT 1", "--param", "1x=2", "--url", "http://h")
    assert result.exit_code == 2
    assert "expected NAME=VALUE" in result.stderr


def test_a_missing_config_file_is_named(invoke, tmp_path):
    missing = tmp_path / "nope.toml"
    result = invoke("config", "show", "-c", "prod", "--config", str(missing))
    assert result.exit_code == 2
    assert f"config file {str(missing)!r} does not exist" in result.stderr


def test_malformed_csv_exits_1_naming_the_file(invoke, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("time,v\n1,2\n3,4,5\n")
    result = invoke("write", str(path), "-m", "x", "--dry-run")
    assert result.exit_code == 1
    assert f"Error: {path}: CSV parse error" in result.stderr
