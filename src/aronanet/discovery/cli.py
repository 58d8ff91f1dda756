"""``aronanet discover SOURCE``: find a node, show where it is, and optionally pin its key.

Then connect as usual: ``aronanet chat ADDRESS`` (or ``send``/``tail``) with the same
``--config-dir``; the pinned fingerprint makes the first connection verified, not blind.
A record with several addresses prints them as one comma-separated list: given all of them,
the client moves to the next when one fails (``client/community.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import msgspec

from aronanet.client.community import format_address_list
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.paths import ClientPaths
from aronanet.discovery.errors import DiscoveryError
from aronanet.discovery.finding import find_record
from aronanet.discovery.pinning import pin_record, usable_addresses
from aronanet.discovery.record import NodeRecord
from aronanet.discovery.settings import DEFAULT_GITHUB_API
from aronanet.discovery.tokens import load_token
from aronanet.errors import KeyChangedError

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_TRUST = 5  # as for send/tail: a key conflict the user must resolve


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``discover`` to the ``aronanet`` command."""
    parser = subparsers.add_parser(
        "discover",
        help="find a published node and print its addresses and fingerprint",
        description="Fetch the record a node published (a gist id, a gist URL or any record "
        "URL) and print its addresses and fingerprint. With --pin, also pin the fingerprint "
        "for each address, so the first connection is verified rather than trusted blindly.",
        epilog="exit codes: 0 found, 1 not found or not a valid record, 2 bad arguments, "
        "5 an address is already pinned to another key (see `aronanet trust`)",
    )
    parser.add_argument("source", metavar="SOURCE", help="gist id, gist URL, or record URL")
    parser.add_argument("--pin", action="store_true", help="pin the fingerprint for each address")
    parser.add_argument("--config-dir", type=Path, help="client state (known nodes) directory")
    parser.add_argument("--json", action="store_true", help="print the record as JSON")
    parser.add_argument(
        "--token-env", metavar="VAR", help="send the token in $VAR (a private record URL)"
    )
    parser.add_argument(
        "--github-api",
        metavar="URL",
        default=DEFAULT_GITHUB_API,
        help=f"GitHub API base, for GitHub Enterprise (default {DEFAULT_GITHUB_API})",
    )
    parser.set_defaults(handler=run_discover)


def run_discover(args: argparse.Namespace) -> int:
    """Find, print, and (with ``--pin``) pin; map every failure to a message and exit code."""
    try:
        token = load_token(args.token_env, None)
        record = asyncio.run(find_record(args.source, github_api=args.github_api, token=token))
    except DiscoveryError as exc:
        return _fail(EXIT_NOT_FOUND, str(exc))
    print(msgspec.json.encode(record).decode() if args.json else describe(record))
    if not args.pin:
        return EXIT_OK
    known = KnownNodes(ClientPaths.at(args.config_dir).known_nodes)
    try:
        results = pin_record(record, known)
    except KeyChangedError as exc:
        return _fail(EXIT_TRUST, _conflict_help(exc, args.config_dir))
    for result in results:
        detail = f": {result.detail}" if result.detail else ""
        print(f"{result.outcome} {result.address}{detail}", file=sys.stderr)
    return EXIT_OK


def describe(record: NodeRecord) -> str:
    """The record for people: name, fingerprint, addresses, and how to connect."""
    updated = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(record.updated))
    lines = [
        f"node        {record.name} (record updated {updated})",
        f"fingerprint {record.fingerprint}",
    ]
    usable = usable_addresses(record)
    lines += [f"address     {address}" for address, problem in usable if problem is None]
    lines += [f"unusable    {address} ({problem})" for address, problem in usable if problem]
    good = [address for address, problem in usable if problem is None]
    if good:  # every address at once: the client moves between them (one key for all)
        lines.append(f"connect with: aronanet chat {format_address_list(good)}")
    return "\n".join(lines)


def _conflict_help(error: KeyChangedError, config_dir: Path | None) -> str:
    config = f" --config-dir {config_dir}" if config_dir is not None else ""
    return (
        f"THE RECORD'S KEY FOR {error.address} DIFFERS FROM THE ONE YOU PINNED!\n"
        f"  pinned:    {error.pinned}\n"
        f"  published: {error.presented}\n"
        "The record may have been tampered with, or the node's operator replaced its key. "
        "Nothing was pinned. Ask the operator for the fingerprint (`aronanet fingerprint` on "
        f"the node); if the published one is right, run:\n  aronanet trust{config} --forget "
        f"{error.address}\nand discover again."
    )


def _fail(code: int, message: str) -> int:
    print(f"aronanet discover: {message}", file=sys.stderr)
    return code
