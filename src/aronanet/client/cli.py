"""``aronanet send``, ``aronanet tail`` and ``aronanet trust``: the script client.

This module parses arguments, reads the password from where the user said, runs the flow in
``client/script.py`` and turns every failure into one message on stderr that says what to do
next, plus a documented exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aronanet.client.address import parse_address
from aronanet.client.community import format_address_list, parse_address_list
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.client.script import Destination, SessionOptions, lines_from, run_send
from aronanet.client.tail import TailOptions, run_tail
from aronanet.errors import AronaError, ClientError, KeyChangedError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_AUTH = 4
EXIT_TRUST = 5

EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  the node refused a request (the message says why)
  2  bad arguments: address, password source, device key file
  3  could not connect, or the connection was lost
  4  login failed: wrong user name or password, or registration closed
  5  the node's key changed or is not trusted yet (see `aronanet trust`)
"""

_CONNECTION_CODES = {"CONNECT", "HANDSHAKE", "DISCONNECTED", "TIMEOUT"}
_AUTH_CODES = {"AUTH_FAILED", "USER_EXISTS", "REGISTRATION_CLOSED"}


class UsageError(AronaError):
    """The command line cannot be acted on; the text says how to fix it."""


class _IntermixedParser(argparse.ArgumentParser):
    """A parser whose positionals may follow its options: ``tail HOST --user U '#a' '#b'``.

    Plain argparse hands a trailing ``nargs="*"`` positional its (empty) value in the first
    run of positionals (``HOST``) and then rejects ``'#a'`` as unrecognised.
    """

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:  # the inner passes of parse_known_intermixed_args
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``send``, ``tail`` and ``trust`` to the ``aronanet`` command."""
    _register_send(subparsers)
    _register_tail(subparsers)
    _register_trust(subparsers)


def _register_send(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command_parser(
        subparsers,
        "send",
        "send a message to a channel or a user and print its message id",
        "Send MESSAGE (the remaining arguments, joined by spaces) or, with no MESSAGE, each "
        "non-empty line of standard input as one message. Joins the channel first if needed. "
        "Quote channel names in the shell: '#general'.",
    )
    _add_session_arguments(parser)
    parser.add_argument("destination", metavar="DEST", help="'#channel' or a user name")
    parser.add_argument("message", metavar="MESSAGE", nargs="*", help="the text to send")
    parser.set_defaults(handler=_send_command)


def _register_tail(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command_parser(
        subparsers,
        "tail",
        "print a session's events as they arrive, one per line",
        "Follow events until SIGTERM. With CHANNELs, joins them and shows only their events; "
        "without, shows everything this user gets. When the node restarts, reconnects and "
        "prints what was sent meanwhile, with no gap and no duplicate.",
    )
    _add_session_arguments(parser)
    parser.add_argument("channels", metavar="CHANNEL", nargs="*", help="'#name' or name")
    parser.add_argument(
        "--since", metavar="ID", help="first print the stored messages after message ID"
    )
    parser.add_argument("--json", action="store_true", help="print each event as JSON")
    parser.add_argument(
        "--reconnect-for",
        type=float,
        metavar="S",
        help="after losing the node, keep trying to reconnect for S seconds, then exit 3 "
        "(default: forever; 0: exit 3 at once)",
    )
    parser.set_defaults(handler=_tail_command)


def _register_trust(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = _command_parser(
        subparsers,
        "trust",
        "list the pinned node keys, or forget one",
        "Nodes are pinned on first use. When a node's key changes, check the new fingerprint "
        "with its operator (`aronanet fingerprint` on the node), then forget the old pin.",
    )
    parser.add_argument("--config-dir", type=Path, help="client state directory")
    parser.add_argument("--forget", metavar="ADDRESS", help="remove the pin of ADDRESS")
    parser.set_defaults(handler=_trust_command)


def _command_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # add_parser builds the root's parser class; only the parsing method differs.
    parser.__class__ = _IntermixedParser
    return parser


def _add_session_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "address",
        metavar="ADDRESS",
        help="host, host:port, [v6]:port or ws://host:port/artp; or several addresses of one "
        "community, comma-separated (tried in turn; one key pinned for all)",
    )
    parser.add_argument("--user", "-u", required=True, help="account name")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    source.add_argument(
        "--password-file", metavar="FILE", type=Path, help="read it from FILE's first line"
    )
    source.add_argument(
        "--password",
        metavar="PASSWORD",
        help="UNSAFE: other users can see it in the process list; prefer --password-env",
    )
    parser.add_argument(
        "--register", action="store_true", help="create the account if it does not exist"
    )
    parser.add_argument(
        "--require-known",
        action="store_true",
        help="refuse a node not already pinned, instead of trusting it on first use",
    )
    parser.add_argument(
        "--config-dir", type=Path, help="client state (device key, known nodes) directory"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to connect (default 10)"
    )


# ---------------------------------------------------------------------------- handlers


def _send_command(args: argparse.Namespace) -> int:
    def flow() -> Coroutine[Any, Any, None]:
        destination = Destination.parse(args.destination)
        contents = _from_arguments(args.message) if args.message else lines_from(sys.stdin)
        return run_send(_session_options(args), destination, contents, sys.stdout)

    return _run(args, flow)


def _tail_command(args: argparse.Namespace) -> int:
    channels = [name if name.startswith("#") else f"#{name}" for name in args.channels]

    def flow() -> Coroutine[Any, Any, bool]:
        tail = TailOptions(channels, args.since, args.json, args.reconnect_for)
        return run_tail(_session_options(args), tail, sys.stdout)

    return _run(args, flow)


def _trust_command(args: argparse.Namespace) -> int:
    known = KnownNodes(ClientPaths.at(args.config_dir).known_nodes)
    if args.forget is None:
        entries = known.entries()
        if not entries:
            print(f"no pinned nodes in {known.path}", file=sys.stderr)
        for address, fingerprint in entries.items():
            print(f"{address} {fingerprint}")
        return EXIT_OK
    address = _canonical(args.forget)
    if known.lookup(address) is None:
        print(f"aronanet trust: {address} is not pinned in {known.path}", file=sys.stderr)
        return EXIT_REFUSED
    known.forget(address)
    print(f"forgot the key of {address}; it will be pinned again on the next connection")
    return EXIT_OK


def _run(args: argparse.Namespace, flow: Callable[[], Coroutine[Any, Any, object]]) -> int:
    """Run ``flow`` and map its outcome to an exit code and one helpful message."""
    try:
        result = asyncio.run(flow())
    except UsageError as error:
        return _fail(args, EXIT_USAGE, str(error))
    except KeyChangedError as error:
        return _fail(args, EXIT_TRUST, _key_changed_help(error, args.config_dir))
    except ClientError as error:
        return _fail(args, _exit_code_of(error), _client_error_help(error, args))
    except AronaError as error:  # a device key file that cannot be used, and the like
        return _fail(args, EXIT_USAGE, str(error))
    if result is False:  # tail: the node ended the session
        return _fail(args, EXIT_CONNECTION, f"the node {args.address} closed the connection")
    return EXIT_OK


def _fail(args: argparse.Namespace, code: int, message: str) -> int:
    print(f"aronanet {args.command}: {message}", file=sys.stderr)
    return code


def _exit_code_of(error: ClientError) -> int:
    if error.code in _CONNECTION_CODES:
        return EXIT_CONNECTION
    if error.code in _AUTH_CODES:
        return EXIT_AUTH
    if error.code == "UNTRUSTED":
        return EXIT_TRUST
    if error.code == "ADDRESS":
        return EXIT_USAGE
    return EXIT_REFUSED


def _client_error_help(error: ClientError, args: argparse.Namespace) -> str:
    if error.code == "AUTH_FAILED":
        return (
            f"login as {args.user} failed: wrong user name or password "
            "(add --register to create the account)"
        )
    if error.code == "UNTRUSTED":
        return (
            f"{args.address} is not pinned and --require-known was given; connect once "
            "without it, after checking the fingerprint with the node's operator"
        )
    return error.message if error.code in _CONNECTION_CODES else str(error)


def _key_changed_help(error: KeyChangedError, config_dir: Path | None) -> str:
    """§2: refuse a changed key "loudly", and say how the user accepts it."""
    config = f" --config-dir {config_dir}" if config_dir is not None else ""
    return (
        f"THE KEY OF NODE {error.address} HAS CHANGED!\n"
        f"  pinned:    {error.pinned}\n"
        f"  presented: {error.presented}\n"
        "Someone may be impersonating the node, or its operator replaced its key. Ask the "
        "operator for the node's fingerprint (`aronanet fingerprint` on the node). If the "
        f"presented one is right, accept it with:\n  aronanet trust{config} --forget "
        f"{error.address}"
    )


# ---------------------------------------------------------------------------- inputs


def _session_options(args: argparse.Namespace) -> SessionOptions:
    try:
        address = format_address_list(parse_address_list(args.address))
    except ValueError as error:
        raise UsageError(str(error)) from error
    return SessionOptions(
        address=address,
        user=args.user,
        password=_password_source(args),
        register=args.register,
        config_dir=args.config_dir,
        timeout=args.timeout,
        require_known=args.require_known,
    )


def _password_source(args: argparse.Namespace) -> Callable[[], Awaitable[str]]:
    """The password, read only if the node does not know this device yet (ArTP/1.1
    §14.3): the first run asks, later runs sign in with the device key alone. A terminal
    prompt runs in a thread, so the session keeps answering the node meanwhile."""

    async def read() -> str:
        return await asyncio.to_thread(_read_password, args)

    return read


def _read_password(args: argparse.Namespace) -> str:
    """The password from the source the user named; a terminal prompt if none and stdin is a
    terminal. Never from a plain flag unless ``--password`` (documented unsafe) was used."""
    if args.password is not None:
        return str(args.password)
    if args.password_env is not None:
        value = os.environ.get(args.password_env)
        if value is None:
            raise UsageError(f"environment variable {args.password_env} is not set")
        return value
    if args.password_file is not None:
        return _first_line(args.password_file)
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {args.user}: ")
    raise UsageError(
        "this device is not signed in yet and there is no password: give --password-env VAR "
        "or --password-file FILE once"
    )


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as handle:
            line = handle.readline()
    except OSError as error:
        raise UsageError(f"cannot read password file {path}: {error.strerror}") from error
    password = line.rstrip("\r\n")
    if not password:
        raise UsageError(f"password file {path} is empty")
    return password


def _canonical(address: str) -> str:
    """The spelling pins are stored under; an unparsable address is taken as written."""
    try:
        return str(parse_address(address))
    except ValueError:
        return address


async def _from_arguments(words: list[str]) -> AsyncIterator[str]:
    yield " ".join(words)
