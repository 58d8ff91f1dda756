"""Choosing the backends: flags and TOML keys, the default needing no service, clear refusals."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aronanet.cli import build_parser
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.settings import NodeSettings, SettingsError, from_mapping

from .cluster import CONFIG, free_port


def parse(*flags: str) -> NodeSettings:
    argv = ["serve", *flags]
    return settings_from_args(build_parser(argv).parse_args(argv))


def test_the_default_is_sqlite_and_the_in_process_broker() -> None:
    settings = parse()
    assert (settings.store, settings.broker) == ("sqlite", "local")
    assert not settings.uses_postgres and not settings.uses_redis


def test_flags_choose_postgresql_and_redis(tmp_path: Path) -> None:
    settings = parse(
        "--store", "postgresql://arona@db.example/chat",
        "--broker", "redis://cache.example:6379/2",
        "--broker-prefix", "kivotos",
    )  # fmt: skip
    assert settings.store == "postgresql://arona@db.example/chat" and settings.uses_postgres
    assert settings.broker == "redis://cache.example:6379/2" and settings.uses_redis
    assert settings.broker_prefix == "kivotos"


def test_toml_keys_choose_them_too_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('store = "postgres://a@h/db"\nbroker = "redis://h/0"\nbroker_prefix = "x"\n')
    settings = parse("--config", str(config), "--broker-prefix", "y")
    assert (settings.store, settings.broker, settings.broker_prefix) == (
        "postgres://a@h/db",
        "redis://h/0",
        "y",
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [("store", "mysql://root:topsecret@h/db"), ("broker", "amqp://u:topsecret@h/")],
)
def test_an_unknown_backend_is_refused_without_showing_its_password(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key) as refused:
        from_mapping({key: value})
    assert "topsecret" not in str(refused.value)


def test_serve_help_explains_the_backends() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aronanet", "serve", "--help"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    text = " ".join(result.stdout.split())
    for option in ("--store", "--broker", "--broker-prefix", "postgresql://", "redis://"):
        assert option in text
    assert "sqlite" in text and "local" in text


def test_a_default_node_imports_neither_psycopg_nor_redis(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from aronanet.server.node import Node
        from aronanet.server.settings import NodeSettings

        async def main():
            node = Node(NodeSettings(data_dir=Path({str(tmp_path / "data")!r}), port=0,
                                     ws_port=None, web_dir=None))
            await node.start()
            await node.stop()

        asyncio.run(main())
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("psycopg", "redis")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_serve_refuses_to_start_when_postgresql_is_unreachable(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(CONFIG)
    dead = free_port()
    result = subprocess.run(
        [
            sys.executable, "-m", "aronanet", "serve", "--data-dir", str(tmp_path / "d"),
            "--config", str(config), "--port", "0", "--ws-port", "off",
            "--store", f"postgresql://arona:pa55word@127.0.0.1:{dead}/chat?connect_timeout=2",
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{dead}/chat" in result.stderr
    assert "Traceback" not in result.stderr and "pa55word" not in result.stderr
