"""The node's settings: defaults, then a TOML file, then command-line flags.

``NodeSettings`` is one frozen object built once at start-up and handed to every part of
the node, so that no module reads the environment or the clock of the configuration on its
own. The limits the node enforces are ``config.Limits`` (the contract's defaults), nested
here so that the TOML file and the flags can override each one.

The TOML file mirrors the flags::

    host = "0.0.0.0"
    port = 7777
    ws_port = 7778
    node_name = "arona"
    registration = true
    store = "sqlite"           # or "postgresql://user@host/db" (scale-out)
    broker = "local"           # or "redis://host:6379/0" (scale-out)
    broker_prefix = "aronanet" # Redis channel prefix: the same on every node of a community
    [limits]
    max_content = 2000
    rate_messages_per_second = 5.0
    [accounts]
    time_cost = 3
    memory_kib = 65536
    [admin]                    # /metrics and /healthz: plain HTTP, keep it on loopback
    listen = "127.0.0.1:9101"
    [publish]                  # discovery: see aronanet.discovery.settings
    target = "gist"
    ngrok = true

One typed schema checks all of it: ``NodeSettings`` and the tables it nests are converted by
msgspec from the merged file and flags, so a wrong type, a value out of range or an unknown
key (at the top or inside a table) stops the start with one line that names the key and
what it accepts. Adding a setting is one line in the class that owns it: a name, a
constrained type (``config.Positive``...) and a default.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec
import platformdirs
from msgspec import Meta
from msgspec import inspect as schema

from aronanet.config import DEFAULT_TCP_PORT, DEFAULT_WS_PORT, Limits, Positive, PositiveFloat
from aronanet.discovery.settings import PublishSettings

#: The default backends: one process, no services (docs/ARCHITECTURE.md "Scale-out").
SQLITE_STORE = "sqlite"
LOCAL_BROKER = "local"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

#: A TCP port; 0 lets the system pick a free one.
Port = Annotated[int, Meta(ge=0, le=65535)]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
StoreUrl = Annotated[
    str,
    Meta(pattern=r"^(sqlite|postgres(ql)?://.+)$", description="'sqlite' or a postgresql:// URL"),
]
BrokerUrl = Annotated[
    str,
    Meta(pattern=r"^(local|(redis|rediss|unix)://.+)$", description="'local' or a redis:// URL"),
]
Name = Annotated[str, Meta(min_length=1, max_length=64)]
#: A WebSocket address of a node of the same community: ``host:port`` or a ``ws(s)://`` URL.
CommunityAddress = Annotated[
    str,
    Meta(
        pattern=r"\A(wss?://)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[!-+\--~]*)?\Z",
        max_length=255,
        description="host:port or a ws(s):// URL",
    ),
]
#: A community is a handful of nodes; the web client keeps at most this many addresses.
MAX_COMMUNITY_ADDRESSES = 16
UserNameSetting = Annotated[
    str, Meta(pattern=r"\A[A-Za-z0-9_-]{1,32}\Z", description="a user name")
]


class SettingsError(ValueError):
    """The configuration file or a flag holds a value the node cannot run with.

    ``key`` is the setting's path in the configuration file (``("limits", "max_content")``),
    when the error concerns one setting, so the command line can name the flag instead.
    """

    def __init__(self, message: str, key: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.key = key


class PasswordHashing(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Argon2id cost parameters (RFC 9106 low-memory profile by default).

    Tests lower them to keep registration fast; production keeps the defaults.
    """

    time_cost: Positive = 3
    #: Argon2 needs at least 8 KiB per lane.
    memory_kib: Annotated[int, Meta(ge=8)] = 64 * 1024
    parallelism: Annotated[int, Meta(ge=1, le=64)] = 4

    def __post_init__(self) -> None:
        if self.memory_kib < 8 * self.parallelism:
            raise ValueError(
                f"memory_kib must be at least 8 x parallelism = {8 * self.parallelism}"
            )


class LoginThrottle(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The login throttle's budgets (§6 AUTH): token buckets of ``burst`` that regain
    ``refill_per_second``, and how many password hashes may run at once.

    Failed logins are counted per (account, address) pair, so a stranger guessing from one
    address exhausts only their own pair and never locks the owner out from elsewhere;
    ``address_*`` caps one address across all accounts (password spraying) and ``account_*``
    is a much higher ceiling per account across all addresses (a distributed guesser).
    Registrations have a budget of their own per address, so a household behind one NAT
    that registers a few accounts can still log in.
    """

    burst: Positive = 10
    refill_per_second: PositiveFloat = 0.2
    address_burst: Positive = 30
    address_refill_per_second: PositiveFloat = 0.5
    account_burst: Positive = 100
    account_refill_per_second: PositiveFloat = 0.2
    register_burst: Positive = 5
    register_refill_per_second: PositiveFloat = 5 / 3600
    #: Password hashes running at once for one address, for one account, and on the node:
    #: a guesser waits behind their own hashes instead of delaying everyone else's login.
    hashes_per_address: Positive = 1
    hashes_per_account: Positive = 1
    hash_slots: Positive = 2


#: ``HOST:PORT`` (an IPv6 host in brackets); the port is checked by ``AdminSettings``.
AdminAddress = Annotated[
    str,
    Meta(
        pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
        description="HOST:PORT, such as 127.0.0.1:9101",
    ),
]


class AdminSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The admin listener (``/metrics``, ``/healthz``; docs/OPERATIONS.md).

    Plain HTTP without authentication: off unless ``listen`` is set, and meant for loopback
    (or a private network) only. It parses little and bounds all of it: the request head's
    size, the time to send it, and how many admin connections are open at once.
    """

    listen: AdminAddress | None = None
    max_request_bytes: Annotated[int, Meta(ge=256, le=1024 * 1024)] = 8192
    request_timeout: PositiveFloat = 5.0
    max_connections: Positive = 8
    #: ``/healthz`` answers 503 when the store has not answered ``SELECT 1`` within this.
    health_timeout: PositiveFloat = 1.0

    def __post_init__(self) -> None:
        if self.listen is not None and int(self.listen.rsplit(":", 1)[1]) > 65535:
            raise ValueError(f"listen = {self.listen!r}: the port must be from 0 to 65535")

    @property
    def host(self) -> str:
        assert self.listen is not None
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        assert self.listen is not None
        return int(self.listen.rsplit(":", 1)[1])


def default_data_dir() -> Path:
    """The per-user data directory used when ``--data-dir`` is not given."""
    return Path(platformdirs.user_data_dir("aronanet"))


def default_web_dir() -> Path | None:
    """The web client bundled in the package (``aronanet/web``), if it was built into it."""
    candidate = Path(__file__).resolve().parent.parent / "web"
    return candidate if candidate.is_dir() else None


@dataclass(frozen=True, kw_only=True)
class NodeSettings:
    """Everything a node needs to run; built by ``from_mapping`` (which checks the types
    and ranges written here) or directly by tests and embedders (which are trusted)."""

    data_dir: Path = field(default_factory=default_data_dir)
    #: 127.0.0.1 by default so that a fresh node is not exposed until its owner says so.
    host: str = "127.0.0.1"
    port: Port = DEFAULT_TCP_PORT
    #: None: no WebSocket listener ("off" in the file and on the command line).
    ws_port: Port | None = DEFAULT_WS_PORT
    node_name: Name = "aronanet"
    #: True (anyone may register), False (nobody), or "invite": only with a token from
    #: ``aronanet admin invite`` (§14.21).
    registration_open: bool | Literal["invite"] = True
    #: §14.20: node admins named in the configuration (besides ``aronanet admin grant``).
    admins: tuple[UserNameSetting, ...] = ()
    #: Browser origins allowed on the WebSocket besides the node's own page ("*": any).
    ws_origins: tuple[str, ...] | None = None
    #: Names browsers reach the node by, besides loopback names, IP addresses, ``host`` and
    #: the machine's name (a page's Host must be one: DNS rebinding).
    ws_hosts: tuple[str, ...] = ()
    web_dir: Path | None = field(default_factory=default_web_dir)
    #: The WebSocket addresses of the community's nodes (docs/SCALE-OUT.md), told to the web
    #: client at ``/community.json`` so it fails over to them; their pages are also allowed
    #: as origins here, since the client served by one node may move to another.
    community_addresses: Annotated[
        tuple[CommunityAddress, ...], Meta(max_length=MAX_COMMUNITY_ADDRESSES)
    ] = ()
    #: A PEM certificate (chain) and its key: the WebSocket port then speaks TLS only, so the
    #: page, its code and the WebSocket come over https:// and wss://. No key: it is in the cert.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    use_uvloop: bool = True
    log_level: LogLevel = "WARNING"
    #: "sqlite" (the file under data_dir), or a postgresql:// URL shared by several nodes.
    store: StoreUrl = SQLITE_STORE
    #: "local" (in-process), or a redis:// URL through which several nodes fan out.
    broker: BrokerUrl = LOCAL_BROKER
    #: Prefix of the Redis channel; every node of one community must use the same one.
    broker_prefix: Name = "aronanet"
    limits: Limits = field(default_factory=Limits)
    hashing: PasswordHashing = field(default_factory=PasswordHashing)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    #: Discovery: publish the node's record (gist or URL) and/or open an ngrok tunnel.
    publish: PublishSettings = field(default_factory=PublishSettings)
    #: The admin listener (``/metrics``, ``/healthz``): off unless ``admin.listen`` is set.
    admin: AdminSettings = field(default_factory=AdminSettings)

    @property
    def key_path(self) -> Path:
        """The node's static key: its identity (ArTP §2)."""
        return self.data_dir / "node.key"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "aronanet.sqlite3"

    @property
    def uses_postgres(self) -> bool:
        return self.store.startswith(_POSTGRES_SCHEMES)

    @property
    def uses_redis(self) -> bool:
        return self.broker.startswith(_REDIS_SCHEMES)


#: Configuration-file name -> NodeSettings field, for the keys whose names differ.
_TOML_RENAMES = {"registration": "registration_open", "uvloop": "use_uvloop", "accounts": "hashing"}
_FILE_NAMES = {field_name: key for key, field_name in _TOML_RENAMES.items()}
#: Settings where "off" (TOML has no null) means None.
_OFF_MEANS_NONE = {"ws_port"}


def read_toml(path: Path) -> dict[str, Any]:
    """Read a configuration file; a missing or malformed file is a ``SettingsError``."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"configuration file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"configuration file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"cannot read configuration file {path}: {exc.strerror}") from exc


def normalise(values: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration mapping with field names (``registration`` -> ``registration_open``)
    and TOML's spellings of "nothing" turned into None; unknown top-level keys are refused."""
    known = {f.name for f in fields(NodeSettings)}
    result: dict[str, Any] = {}
    for key, value in values.items():
        name = _TOML_RENAMES.get(key, key)
        if name not in known:
            names = (known - set(_FILE_NAMES)) | set(_TOML_RENAMES)
            raise SettingsError(_unknown(key, names, table=""), (key,))
        result[name] = _plain(name, value)
    return result


def _plain(name: str, value: Any) -> Any:
    if name in _OFF_MEANS_NONE and value == "off":
        return None
    if name == "web_dir" and value == "":
        return None
    if name == "log_level" and isinstance(value, str):
        return value.upper()
    return value


def merged(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` on ``base``, table by table (a flag sets one key of ``[limits]``, not all)."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def from_mapping(values: Mapping[str, Any]) -> NodeSettings:
    """Check a parsed configuration (file names or field names) against the schema.

    Raises ``SettingsError`` whose text names the key, the value and what is accepted:
    ``[limits] max_content = -5: must be an integer from 1 to 65519``.
    """
    plain = normalise(values)
    try:
        return msgspec.convert(plain, NodeSettings, dec_hook=_decode_path)
    except msgspec.ValidationError as exc:
        raise explain(exc, plain) from None


def _decode_path(kind: type, value: Any) -> Any:
    if kind is not Path:
        raise NotImplementedError
    if not isinstance(value, str):
        raise TypeError("Expected a path")  # explain() words it from the schema
    return Path(value).expanduser()


# ------------------------------------------------------------------ error lines

_LOCATED = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]*)`$")


def explain(error: msgspec.ValidationError, values: Mapping[str, Any]) -> SettingsError:
    """Turn msgspec's ``Expected `int` >= 1 - at `$.limits.max_content``` into a line an
    operator can act on: the key as written in the file, its value, and what it accepts."""
    found = _LOCATED.match(str(error))
    assert found is not None  # the pattern matches any text
    problem, path = found["problem"], _split_path(found["path"] or "")
    unknown = _UNKNOWN.match(problem)
    if unknown is not None:
        table = _type_at(path)
        names = {f.encode_name for f in getattr(table, "fields", ())}
        key = (*path, unknown["key"])
        return SettingsError(_unknown(unknown["key"], names, table=display_key(path)), key)
    kind = _type_at(path)
    if problem.startswith(("Expected", "Invalid enum value")) and kind is not None:
        problem = f"must be {describe(kind, path)}"
    if not path:
        return SettingsError(problem)
    value = _value_at(values, path)
    if isinstance(value, Mapping):  # a check across the table's keys
        return SettingsError(f"{display_key(path)}: {problem}", path)
    return SettingsError(f"{display_key(path)} = {toml_value(value)}: {problem}", path)


def _unknown(key: str, known: set[str], *, table: str) -> str:
    where = f" in {table}" if table else ""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(sorted(known))}"
    return f"unknown configuration key {key!r}{where} ({hint})"


def _split_path(text: str) -> tuple[str, ...]:
    """``.limits.max_content`` -> ``("limits", "max_content")``; an item of a list is
    reported as the list (``.ws_origins[0]`` -> ``("ws_origins",)``)."""
    path = text.split("[", 1)[0]
    return tuple(part for part in path.split(".") if part)


def display_key(path: tuple[str, ...]) -> str:
    """``("limits", "max_content")`` -> ``[limits] max_content``, as the file spells it."""
    names = [_FILE_NAMES.get(part, part) for part in path]
    if len(names) <= 1:
        return f"[{names[0]}]" if names and _is_table(path) else "".join(names)
    return f"[{names[0]}] {'.'.join(names[1:])}"


def _is_table(path: tuple[str, ...]) -> bool:
    return isinstance(_type_at(path), schema.StructType | schema.DataclassType)


def _type_at(path: tuple[str, ...]) -> schema.Type | None:
    """The schema type of the setting at ``path`` (None past a list or an unknown key)."""
    kind: schema.Type = schema.type_info(NodeSettings)
    for part in path:
        if isinstance(kind, schema.Metadata):
            kind = kind.type
        by_name = {f.encode_name: f.type for f in getattr(kind, "fields", ())}
        if part not in by_name:
            return None
        kind = by_name[part]
    return kind


def _value_at(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = values
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def describe(kind: schema.Type, path: tuple[str, ...] = ()) -> str:
    """What a setting of this type accepts, in words: "an integer from 0 to 65535"."""
    if isinstance(kind, schema.Metadata):
        described = (kind.extra_json_schema or {}).get("description")
        return str(described) if described else describe(kind.type, path)
    if isinstance(kind, schema.UnionType):
        off = ['"off"'] if path and path[-1] in _OFF_MEANS_NONE else []
        parts = [describe(t, path) for t in kind.types if not isinstance(t, schema.NoneType)]
        return " or ".join(dict.fromkeys(parts + off))
    if isinstance(kind, schema.IntType | schema.FloatType):
        noun = "an integer" if isinstance(kind, schema.IntType) else "a number"
        return noun + _range(kind)
    if isinstance(kind, schema.StrType) and kind.max_length is not None:
        return f"a string of {kind.min_length or 0} to {kind.max_length} characters"
    if isinstance(kind, schema.LiteralType):
        return "one of " + ", ".join(json.dumps(value) for value in kind.values)
    return _SIMPLE.get(type(kind), "a value of another type")


def _range(kind: schema.IntType | schema.FloatType) -> str:
    if kind.ge is not None and kind.le is not None:
        return f" from {kind.ge} to {kind.le}"
    bounds = [(">", kind.gt), (">=", kind.ge), ("<", kind.lt), ("<=", kind.le)]
    return "".join(f" {sign} {bound}" for sign, bound in bounds if bound is not None)


_SIMPLE: dict[type, str] = {
    schema.BoolType: "true or false",
    schema.StrType: "a string",
    schema.CustomType: "a path",
    schema.VarTupleType: "a list of strings",
    schema.ListType: "a list of strings",
    schema.StructType: "a table",
    schema.DataclassType: "a table",
}


def toml_value(value: Any) -> str:
    """A value as TOML writes it (never showing a URL's password)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(redact_url(value))
    return json.dumps(value, default=str)


def redact_url(url: str) -> str:
    """``url`` without its password, for banners and errors (never log a password)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))
