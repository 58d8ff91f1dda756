"""Publishing tokens: read from an environment variable or a private file, never shown.

A token that publishes the record can replace it, so it is handled like a password: it is
read from where the operator put it (``$GITHUB_TOKEN``, ``--publish-token-env VAR`` or a
file), a file that others could read is refused (as ``identity`` refuses a readable key),
and it is wrapped in ``Secret``, whose ``repr`` and ``str`` are redacted so that no log line,
traceback or error message can carry it by accident.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from aronanet.discovery.errors import DiscoveryError
from aronanet.filemodes import loose_permissions

#: A token file holds one line; anything much longer is not a token.
MAX_TOKEN_BYTES = 4096


class Secret:
    """A token whose value is only available through ``reveal()``, at the point of use."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value or any(ch in value for ch in "\r\n"):
            raise DiscoveryError("a token must be one non-empty line")
        self._value = value

    def reveal(self) -> str:
        """The token itself; call it only to build an ``Authorization`` header."""
        return self._value

    def bearer(self) -> dict[str, str]:
        """The ``Authorization: Bearer TOKEN`` header (RFC 6750 §2.1)."""
        return {"Authorization": f"Bearer {self._value}"}

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def token_from_env(variable: str, environ: Mapping[str, str] | None = None) -> Secret | None:
    """The token in ``$variable``, or None when the variable is unset or empty."""
    value = (os.environ if environ is None else environ).get(variable, "").strip()
    return Secret(value) if value else None


def token_from_file(path: Path) -> Secret:
    """The first line of ``path``; refuse a file readable by group or others.

    Raises ``DiscoveryError`` naming the file and the fix (``chmod 600``), never the content.
    """
    try:
        with path.open("rb") as handle:
            loose = loose_permissions(handle.fileno())
            if loose is not None:
                raise DiscoveryError(
                    f"token file {path} has permissions {loose}; it must be "
                    f"readable by its owner only (chmod 600 {path})"
                )
            raw = handle.read(MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise DiscoveryError(f"cannot read token file {path}: {exc.strerror}") from None
    if len(raw) > MAX_TOKEN_BYTES:
        raise DiscoveryError(f"token file {path} is larger than {MAX_TOKEN_BYTES} bytes")
    first_line = raw.decode("utf-8", errors="replace").splitlines()[:1]
    token = first_line[0].strip() if first_line else ""
    if not token:
        raise DiscoveryError(f"token file {path} is empty")
    return Secret(token)


def load_token(
    env_var: str | None,
    file: Path | None,
    *,
    fallback_env: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Secret | None:
    """The token from the file, else ``$env_var``, else ``$fallback_env`` (if any), else None.

    A named variable that is unset is an error (the operator asked for it); the fallback
    (``GITHUB_TOKEN`` for gists) is only a convenience and may be missing.
    """
    if file is not None:
        return token_from_file(file)
    if env_var is not None:
        token = token_from_env(env_var, environ)
        if token is None:
            raise DiscoveryError(f"environment variable {env_var} is not set or empty")
        return token
    if fallback_env is not None:
        return token_from_env(fallback_env, environ)
    return None
