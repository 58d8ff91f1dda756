"""``--ws-hosts`` and ``ws_hosts``: the names browsers may reach the node by (DNS rebinding)."""

from __future__ import annotations

from aronanet.cli import build_parser
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.settings import NodeSettings, from_mapping


def test_ws_hosts_default_to_none_beyond_the_built_in_names() -> None:
    assert NodeSettings().ws_hosts == ()


def test_the_flag_and_the_file_key_both_list_names() -> None:
    argv = ["serve", "--ws-hosts", "chat.example.com, chat.example.org", "--ws-origins", "*"]
    settings = settings_from_args(build_parser(argv).parse_args(argv))
    assert settings.ws_hosts == ("chat.example.com", "chat.example.org")
    assert settings.ws_origins == ("*",)
    assert from_mapping({"ws_hosts": ["a.example"]}).ws_hosts == ("a.example",)
