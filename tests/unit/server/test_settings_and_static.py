"""Settings from TOML and flags; static file resolution that never leaves the web root."""

from __future__ import annotations

from pathlib import Path

import pytest

from aronanet.cli import build_parser
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.settings import NodeSettings, SettingsError, from_mapping
from aronanet.transport import static


def parse(tmp_path: Path, toml: str | None, *flags: str) -> NodeSettings:
    argv = ["serve", *flags]
    if toml is not None:
        config = tmp_path / "node.toml"
        config.write_text(toml)
        argv += ["--config", str(config)]
    return settings_from_args(build_parser(argv).parse_args(argv))


def test_defaults_listen_on_localhost_with_the_contract_ports(tmp_path):
    settings = parse(tmp_path, None)
    assert (settings.host, settings.port, settings.ws_port) == ("127.0.0.1", 7777, 7778)
    assert settings.registration_open and settings.limits.rate_limit_enabled


def test_flags_override_the_file_which_overrides_the_defaults(tmp_path):
    toml = 'host = "0.0.0.0"\nport = 9000\n[limits]\nmax_content = 100\nrate_burst = 7\n'
    settings = parse(tmp_path, toml, "--port", "9001", "--rate-limit", "off", "--ws-port", "off")
    assert settings.host == "0.0.0.0" and settings.port == 9001 and settings.ws_port is None
    assert settings.limits.max_content == 100 and settings.limits.rate_burst == 7
    assert not settings.limits.rate_limit_enabled


def test_unknown_or_ill_typed_keys_are_refused_with_their_name():
    with pytest.raises(SettingsError, match="colour"):
        from_mapping({"colour": "blue"})
    with pytest.raises(SettingsError, match="limits"):
        from_mapping({"limits": {"max_content": "lots"}})


@pytest.mark.parametrize(
    ("key", "refused", "edge"),
    [("max_devices", 0, 1), ("conversations_page", 0, 1), ("conversations_page", 100_001, 100_000)],
)
def test_sync_limits_are_refused_past_their_bounds(key, refused, edge):
    # ArTP/1.1 §14.3/§14.5: an account keeps at least one device, a page lists at least one.
    with pytest.raises(SettingsError, match=key):
        from_mapping({"limits": {key: refused}})
    assert getattr(from_mapping({"limits": {key: edge}}).limits, key) == edge


@pytest.mark.parametrize(
    ("key", "refused", "edge"), [("search_burst", 0, 1), ("searches_per_second", 0, 0.001)]
)
def test_search_rate_is_refused_past_its_bounds(key, refused, edge):
    # §14.15: a session may always search once, and the bucket refills.
    with pytest.raises(SettingsError, match=key):
        from_mapping({"limits": {key: refused}})
    assert getattr(from_mapping({"limits": {key: edge}}).limits, key) == edge


def test_registration_and_origins_flags(tmp_path):
    settings = parse(
        tmp_path,
        None,
        "--registration",
        "closed",
        "--ws-origins",
        "https://a.example, https://b.example",
    )
    assert not settings.registration_open
    assert settings.ws_origins == ("https://a.example", "https://b.example")


@pytest.fixture
def web_root(tmp_path):
    root = tmp_path / "web"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("home")
    (root / "sub" / "index.html").write_text("sub")
    (root / "app.wasm").write_bytes(b"\0asm")
    (tmp_path / "outside.txt").write_text("secret")
    (root / "link").symlink_to(tmp_path / "outside.txt")
    return root


def test_directories_resolve_to_their_index(web_root):
    assert static.resolve(web_root, "/") == (web_root / "index.html").resolve()
    assert static.resolve(web_root, "/sub/") == (web_root / "sub" / "index.html").resolve()


@pytest.mark.parametrize(
    "path",
    ["/../outside.txt", "/%2E%2E/outside.txt", "/link", "/sub/%5C..%5Coutside.txt", "/a%00b"],
)
def test_nothing_outside_the_root_resolves(web_root, path):
    assert static.resolve(web_root, path) is None


def test_content_types_suit_a_web_app(web_root):
    found = static.load(web_root, "/app.wasm")
    assert found is not None and found.content_type == "application/wasm"
    assert static.content_type(Path("x.js")).startswith("text/javascript")
