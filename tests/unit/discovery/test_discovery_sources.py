"""Reading what users type and operators configure: gist sources, publish settings."""

from __future__ import annotations

import pytest

from aronanet.cli import build_parser
from aronanet.discovery.gist import gist_id_from
from aronanet.discovery.ngrok import public_address
from aronanet.discovery.publisher import Listening, local_addresses
from aronanet.discovery.settings import PublishSettings
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.settings import SettingsError, from_mapping

GIST = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (GIST, GIST),
        (f"https://gist.github.com/arona/{GIST}", GIST),
        (f"https://gist.github.com/{GIST}", GIST),
        (f"https://gist.github.com/arona/{GIST}/revisions", GIST),
        (f"https://api.github.com/gists/{GIST}", GIST),
        (f"https://gist.githubusercontent.com/arona/{GIST}/raw/aronanet-node.json", None),
        ("https://example.org/node.json", None),
        ("https://gist.github.com/arona", None),
        ("chat.example.org:7777", None),
    ],
)
def test_a_gist_is_recognised_by_its_id_or_its_page_url(source, expected):
    assert gist_id_from(source) == expected


def test_serve_flags_fill_the_publish_settings():
    argv = [
        "serve",
        "--publish",
        "https://example.org/node.json",
        "--publish-method",
        "POST",
        "--publish-token-env",
        "NODE_TOKEN",
        "--public-address",
        "chat.example.org:7777",
        "--public-address",
        "ws://chat.example.org:7778/artp",
        "--ngrok",
    ]
    publish = settings_from_args(build_parser(argv).parse_args(argv)).publish
    assert publish == PublishSettings(
        target="https://example.org/node.json",
        method="POST",
        token_env="NODE_TOKEN",
        public_addresses=("chat.example.org:7777", "ws://chat.example.org:7778/artp"),
        ngrok=True,
    )


def test_a_node_publishes_nothing_unless_told_to():
    argv = ["serve"]
    assert not settings_from_args(build_parser(argv).parse_args(argv)).publish.active


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"target": "ftp://example.org/x"}, "is not 'gist'"),
        ({"target": "gist:"}, "is not 'gist'"),
        ({"colour": "blue"}, "colour"),
        ({"refresh_interval": 0}, "refresh_interval"),
        ({"method": "DELETE"}, "method"),
    ],
)
def test_a_bad_publish_table_is_refused_with_its_problem(table, problem):
    with pytest.raises(SettingsError, match=problem):
        from_mapping({"publish": table})


def test_gist_targets_name_an_existing_gist_or_ask_for_a_new_one():
    assert PublishSettings(target=f"gist:{GIST}").gist_id == GIST
    assert PublishSettings(target="gist").is_gist and PublishSettings(target="gist").gist_id is None
    assert not PublishSettings(target="https://example.org/gist").is_gist


def test_an_ngrok_public_url_becomes_a_host_and_port():
    assert public_address({"public_url": "tcp://0.tcp.ngrok.io:12345"}) == "0.tcp.ngrok.io:12345"


@pytest.mark.parametrize("url", ["https://abc.ngrok.app", "tcp://0.tcp.ngrok.io", None])
def test_an_ngrok_tunnel_that_is_not_tcp_host_port_is_refused(url):
    from aronanet.discovery.errors import NgrokUnavailableError

    with pytest.raises(NgrokUnavailableError):
        public_address({"public_url": url})


def test_the_bound_addresses_are_published_when_none_are_configured():
    addresses = local_addresses(PublishSettings(), Listening("::1", 7777, 7778))
    assert addresses == ["[::1]:7777", "ws://[::1]:7778/artp"]


def test_configured_public_addresses_replace_the_bound_ones():
    settings = PublishSettings(public_addresses=("chat.example.org:443",))
    assert local_addresses(settings, Listening("0.0.0.0", 7777, None)) == ["chat.example.org:443"]
