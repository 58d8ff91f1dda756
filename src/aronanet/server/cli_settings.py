"""``NodeSettings`` from the command line: defaults, then ``--config FILE``, then flags.

A flag left out leaves the file's value alone, and an invalid value is reported under the
name the operator typed (the file and its key, or the flag), so this mapping of flags onto
the settings' keys lives in one place, for ``serve`` and ``fingerprint`` alike.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from aronanet.server.settings import (
    NodeSettings,
    SettingsError,
    from_mapping,
    merged,
    normalise,
    read_toml,
)

#: flag destination -> [limits] key, for the flags that set a limit.
_LIMIT_FLAGS = {
    "max_frame": "max_frame",
    "max_content": "max_content",
    "max_history": "max_history",
    "handshake_timeout": "handshake_timeout",
    "idle_ping": "idle_ping_after",
    "idle_timeout": "idle_close_after",
    "max_connections_per_address": "max_connections_per_address",
    "max_connections": "max_connections",
    "max_outgoing_queue": "max_outgoing_queue",
    "max_outgoing_bytes": "max_outgoing_bytes",
    "max_outgoing_bytes_per_node": "max_outgoing_bytes_per_node",
    "rate": "rate_messages_per_second",
    "rate_burst": "rate_burst",
    "max_reactions": "max_reactions",
    "keep_edit_history": "keep_edit_history",
}


#: flag destination -> [publish] key (discovery).
_PUBLISH_FLAGS = {
    "publish": "target",
    "publish_method": "method",
    "publish_token_env": "token_env",
    "publish_token_file": "token_file",
    "public_address": "public_addresses",
    "ngrok": "ngrok",
}


def settings_from_args(args: argparse.Namespace) -> NodeSettings:
    """Defaults, then the TOML file, then the flags that were given: checked as one whole.

    The file is checked alone first, so that an error names the file and its key; what
    fails after the flags are laid over it names the flag.
    """
    file_values: dict[str, Any] = {}
    if args.config is not None:
        document = read_toml(args.config)  # its errors name the file already
        try:
            file_values = normalise(document)
            from_mapping(file_values)
        except SettingsError as exc:
            raise SettingsError(f"{args.config}: {exc}", exc.key) from None
    flags = _flag_values(args)
    try:
        return from_mapping(merged(file_values, normalise(flags)))
    except SettingsError as exc:
        flag = _flag_for(exc.key)
        if flag is None:
            raise
        shown = str(exc).split(": ", 1)[-1]
        raise SettingsError(f"{flag} {_flag_text(args, exc.key)}: {shown}", exc.key) from None


def _flag_for(key: tuple[str, ...]) -> str | None:
    """The flag that sets the setting at ``key`` (a path as in the file), if there is one."""
    destinations: dict[tuple[str, ...], str] = {
        ("registration_open",): "registration",
        ("use_uvloop",): "no_uvloop",
        ("limits", "rate_limit_enabled"): "rate_limit",
        **{("limits", limit): flag for flag, limit in _LIMIT_FLAGS.items()},
        **{("publish", name): flag for flag, name in _PUBLISH_FLAGS.items()},
        ("admin", "listen"): "admin_listen",
    }
    destination = destinations.get(key, key[0] if len(key) == 1 else None)
    return None if destination is None else "--" + destination.replace("_", "-")


def _flag_text(args: argparse.Namespace, key: tuple[str, ...]) -> str:
    flag = _flag_for(key)
    assert flag is not None
    value = getattr(args, flag[2:].replace("-", "_"), None)
    return "" if value is None or isinstance(value, bool) else str(value)


def _flag_values(args: argparse.Namespace) -> dict[str, Any]:
    given = {key: value for key, value in vars(args).items() if value is not None}
    values: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    for key in (
        "data_dir",
        "host",
        "port",
        "ws_port",
        "node_name",
        "web_dir",
        "tls_cert",
        "tls_key",
        "log_level",
        "store",
        "broker",
        "broker_prefix",
    ):
        if key in given:
            values[key] = str(given[key]) if isinstance(given[key], Path) else given[key]
    if "ws_port" in given and given["ws_port"].isdigit():
        values["ws_port"] = int(given["ws_port"])
    if "registration" in given:
        chosen = given["registration"]
        values["registration"] = "invite" if chosen == "invite" else chosen == "open"
    for key in ("ws_origins", "ws_hosts", "admins", "community_addresses"):
        if key in given:
            values[key] = [item.strip() for item in given[key].split(",") if item.strip()]
    if given.get("no_uvloop"):
        values["uvloop"] = False
    if "rate_limit" in given:
        limits["rate_limit_enabled"] = given["rate_limit"] == "on"
    for flag, key in _LIMIT_FLAGS.items():
        if flag in given:
            limits[key] = given[flag]
    if limits:
        values["limits"] = limits
    publish = {
        key: given[flag] for flag, key in _PUBLISH_FLAGS.items() if given.get(flag) is not None
    }
    if publish:
        values["publish"] = publish
    if "admin_listen" in given:
        values["admin"] = {"listen": given["admin_listen"]}
    return values
