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
    [publish]                  # discovery: see aronanet.discovery.settings
    target = "gist"
    ngrok = true
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import platformdirs

from aronanet.config import DEFAULT_TCP_PORT, DEFAULT_WS_PORT, Limits
from aronanet.discovery.settings import PublishSettings


class SettingsError(ValueError):
    """The configuration file or a flag holds a value the node cannot run with."""


#: The default backends: one process, no services (ARCHITECTURE.md "Scale-out").
SQLITE_STORE = "sqlite"
LOCAL_BROKER = "local"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True, kw_only=True)
class PasswordHashing:
    """Argon2id cost parameters (RFC 9106 low-memory profile by default).

    Tests lower them to keep registration fast; production keeps the defaults.
    """

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4


@dataclass(frozen=True, kw_only=True)
class LoginThrottle:
    """The login throttle's budgets (§6 AUTH): token buckets of ``burst`` that regain
    ``refill_per_second``, and how many password hashes may run at once.

    Failed logins are counted per (account, address) pair, so a stranger guessing from one
    address exhausts only their own pair and never locks the owner out from elsewhere;
    ``address_*`` caps one address across all accounts (password spraying) and ``account_*``
    is a much higher ceiling per account across all addresses (a distributed guesser).
    Registrations have a budget of their own per address, so a household behind one NAT
    that registers a few accounts can still log in.
    """

    burst: int = 10
    refill_per_second: float = 0.2
    address_burst: int = 30
    address_refill_per_second: float = 0.5
    account_burst: int = 100
    account_refill_per_second: float = 0.2
    register_burst: int = 5
    register_refill_per_second: float = 5 / 3600
    #: Password hashes running at once for one address, for one account, and on the node:
    #: a guesser waits behind their own hashes instead of delaying everyone else's login.
    hashes_per_address: int = 1
    hashes_per_account: int = 1
    hash_slots: int = 2

    def __post_init__(self) -> None:
        for name in ("burst", "address_burst", "account_burst", "register_burst"):
            if getattr(self, name) < 1:
                raise SettingsError(f"[login_throttle] {name} must be at least 1")
        for name in ("hashes_per_address", "hashes_per_account", "hash_slots"):
            if getattr(self, name) < 1:
                raise SettingsError(f"[login_throttle] {name} must be at least 1")
        rates = ("refill_per_second", "address_refill_per_second")
        for name in (*rates, "account_refill_per_second", "register_refill_per_second"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"[login_throttle] {name} must be above 0")


def default_data_dir() -> Path:
    """The per-user data directory used when ``--data-dir`` is not given."""
    return Path(platformdirs.user_data_dir("aronanet"))


def default_web_dir() -> Path | None:
    """The web client bundled in the package (``aronanet/web``), if it was built into it."""
    candidate = Path(__file__).resolve().parent.parent / "web"
    return candidate if candidate.is_dir() else None


@dataclass(frozen=True, kw_only=True)
class NodeSettings:
    """Everything a node needs to run; built by ``load_settings``."""

    data_dir: Path = field(default_factory=default_data_dir)
    #: 127.0.0.1 by default so that a fresh node is not exposed until its owner says so.
    host: str = "127.0.0.1"
    port: int = DEFAULT_TCP_PORT
    ws_port: int | None = DEFAULT_WS_PORT
    node_name: str = "aronanet"
    registration_open: bool = True
    #: Browser origins allowed on the WebSocket besides the node's own page ("*": any).
    ws_origins: tuple[str, ...] | None = None
    #: Names browsers reach the node by, besides loopback names, IP addresses, ``host`` and
    #: the machine's name (a page's Host must be one: DNS rebinding).
    ws_hosts: tuple[str, ...] = ()
    web_dir: Path | None = field(default_factory=default_web_dir)
    use_uvloop: bool = True
    log_level: str = "WARNING"
    #: "sqlite" (the file under data_dir), or a postgresql:// URL shared by several nodes.
    store: str = SQLITE_STORE
    #: "local" (in-process), or a redis:// URL through which several nodes fan out.
    broker: str = LOCAL_BROKER
    #: Prefix of the Redis channel; every node of one community must use the same one.
    broker_prefix: str = "aronanet"
    limits: Limits = field(default_factory=Limits)
    hashing: PasswordHashing = field(default_factory=PasswordHashing)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    #: Discovery: publish the node's record (gist or URL) and/or open an ngrok tunnel.
    publish: PublishSettings = field(default_factory=PublishSettings)

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


#: TOML top-level key -> NodeSettings field, for the keys whose names differ.
_TOML_RENAMES = {"registration": "registration_open", "uvloop": "use_uvloop"}
_PATH_FIELDS = {"data_dir", "web_dir"}


def read_toml(path: Path) -> dict[str, Any]:
    """Read a configuration file; a missing or malformed file is a ``SettingsError``."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"configuration file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"configuration file {path} is not valid TOML: {exc}") from exc


def _section(cls: type[Any], values: dict[str, Any], base: Any, name: str) -> Any:
    """Overlay one TOML table on a nested settings object, refusing unknown keys."""
    if not isinstance(values, dict):
        raise SettingsError(f"[{name}] must be a table")
    try:
        if isinstance(base, msgspec.Struct):  # Limits, PublishSettings
            merged = msgspec.structs.asdict(base) | values
            return msgspec.convert(merged, cls)
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise SettingsError(f"unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
        return replace(base, **values)
    except (msgspec.ValidationError, TypeError) as exc:
        raise SettingsError(f"[{name}]: {exc}") from exc


def from_mapping(values: dict[str, Any], base: NodeSettings | None = None) -> NodeSettings:
    """Overlay a parsed TOML document (or any mapping) on ``base``."""
    settings = base or NodeSettings()
    changes: dict[str, Any] = {}
    known = {f.name for f in fields(NodeSettings)}
    nested = {
        "limits": Limits,
        "hashing": PasswordHashing,
        "login_throttle": LoginThrottle,
        "publish": PublishSettings,
    }
    aliases = {"accounts": "hashing"}
    for key, value in values.items():
        target = aliases.get(key, _TOML_RENAMES.get(key, key))
        if target in nested:
            changes[target] = _section(nested[target], value, getattr(settings, target), key)
        elif target in known:
            changes[target] = _coerce(target, value)
        else:
            raise SettingsError(f"unknown configuration key {key!r}")
    return replace(settings, **changes)


def _coerce(name: str, value: Any) -> Any:
    if name == "store" and not (value == SQLITE_STORE or str(value).startswith(_POSTGRES_SCHEMES)):
        raise SettingsError(f"store must be 'sqlite' or a postgresql:// URL, not {_redact(value)}")
    if name == "broker" and not (value == LOCAL_BROKER or str(value).startswith(_REDIS_SCHEMES)):
        raise SettingsError(f"broker must be 'local' or a redis:// URL, not {_redact(value)}")
    if name in _PATH_FIELDS:
        return None if value in (None, "") else Path(value).expanduser()
    if name == "ws_origins":
        return None if value is None else tuple(value)
    if name == "ws_hosts":
        return tuple(value)
    return value


def redact_url(url: str) -> str:
    """``url`` without its password, for banners and errors (never log a password)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def _redact(value: Any) -> str:
    return repr(redact_url(value)) if isinstance(value, str) else repr(value)
