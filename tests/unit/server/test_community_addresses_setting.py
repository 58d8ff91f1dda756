"""``--community-addresses`` and ``community_addresses``: the WebSocket addresses of the nodes
sharing this node's key, which the web client fails over to (``/community.json``)."""

from __future__ import annotations

import pytest

from aronanet.cli import build_parser
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.settings import (
    MAX_COMMUNITY_ADDRESSES,
    NodeSettings,
    SettingsError,
    from_mapping,
)
from aronanet.transport.static import community_file, community_origins, community_sockets


def test_no_community_by_default() -> None:
    assert NodeSettings().community_addresses == ()
    assert community_file(()).body == b'{"addresses": []}'


def test_the_flag_and_the_file_key_both_list_addresses() -> None:
    argv = ["serve", "--community-addresses", "h1.example:7778, wss://h2.example/artp"]
    settings = settings_from_args(build_parser(argv).parse_args(argv))
    assert settings.community_addresses == ("h1.example:7778", "wss://h2.example/artp")
    given = from_mapping({"community_addresses": ["[::1]:7778"]})
    assert given.community_addresses == ("[::1]:7778",)


def test_at_most_the_limit_of_addresses() -> None:
    many = [f"h{i}.example:7778" for i in range(MAX_COMMUNITY_ADDRESSES)]
    assert len(from_mapping({"community_addresses": many}).community_addresses) == len(many)
    with pytest.raises(SettingsError):
        from_mapping({"community_addresses": [*many, "one-more.example:7778"]})


@pytest.mark.parametrize(
    "bad",
    ["", "h1 h2:7778", "h1:7778,h2:7778", "http://h1:7778", "h1:7778/a b", "x" * 256],
)
def test_what_is_not_one_address_is_refused(bad: str) -> None:
    with pytest.raises(SettingsError):
        from_mapping({"community_addresses": [bad]})


def test_the_origins_are_the_pages_of_those_nodes() -> None:
    assert community_origins(["H1.example:7778", "wss://h2.example/artp", "ws://h3:80"]) == (
        "http://h1.example:7778",
        "https://h1.example:7778",
        "https://h2.example",
        "http://h3:80",
        "https://h3:80",
    )


def test_the_page_may_open_the_websockets_of_those_nodes() -> None:
    assert community_sockets(["h1.example:7778", "wss://h2.example/artp"]) == (
        "ws://h1.example:7778",
        "wss://h1.example:7778",
        "wss://h2.example",
    )
