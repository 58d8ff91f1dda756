"""A community's address list: parsing with clear errors, one key pinned across the list,
and the failover order (round-robin, backoff only after a whole cycle)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from aronanet.client.community import (
    AddressRing,
    CommunityPins,
    community_key,
    format_address_list,
    parse_address_list,
)
from aronanet.client.known_nodes import KnownNodes
from aronanet.client.outbox import outbox_path
from aronanet.client.sync_options import SyncOptions
from aronanet.errors import KeyChangedError

KEY_A = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
KEY_B = "SHA256:ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs"
LIST = ("127.0.0.1:7001", "127.0.0.1:7002", "ws://h:7778/artp")


# ---------------------------------------------------------------------------- parsing


def test_a_list_is_parsed_in_order_into_canonical_addresses() -> None:
    assert parse_address_list("127.0.0.1:7001, 127.0.0.1:7002,ws://H:7778") == LIST


def test_a_single_address_is_a_list_of_one() -> None:
    assert parse_address_list("[::1]") == ("[::1]:7777",)


def test_a_sequence_is_parsed_like_the_text() -> None:
    assert parse_address_list(list(LIST)) == LIST


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "127.0.0.1:7001,,127.0.0.1:7002",
            "address 2 of '127.0.0.1:7001,,127.0.0.1:7002' is empty",
        ),
        ("127.0.0.1:7001,", "address 2 of '127.0.0.1:7001,' is empty"),
        (",127.0.0.1:7001", "address 1 of ',127.0.0.1:7001' is empty"),
        ("a:1, ,b:2", "address 2 of 'a:1, ,b:2' is empty"),
        ("a:1,b:99999", "address 2 of the list: port 99999 in 'b:99999' is outside 1..65535"),
        ("a:1,ftp://b", "address 2 of the list: unsupported scheme 'ftp'"),
        ("a:1,b:x", "address 2 of the list: port 'x' in 'b:x' is not a number"),
        ("a:7777,b,A", "'A' is in the address list twice (as a:7777)"),
        ("ws://h,ws://h:7778/artp", "'ws://h:7778/artp' is in the address list twice"),
    ],
)
def test_a_bad_list_says_which_element_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_address_list(text)
    assert says in str(raised.value)


def test_an_empty_text_or_sequence_is_refused() -> None:
    with pytest.raises(ValueError, match="empty node address"):
        parse_address_list("")
    with pytest.raises(ValueError, match="no node address"):
        parse_address_list([])


def test_the_formatted_list_parses_back() -> None:
    assert parse_address_list(format_address_list(LIST)) == LIST


# ---------------------------------------------------------------------------- community key


def test_the_community_key_ignores_order_and_is_the_address_for_one() -> None:
    assert community_key(LIST) == community_key(tuple(reversed(LIST))) == "127.0.0.1:7001"
    assert community_key(("h:7777",)) == "h:7777"


def test_every_order_of_a_list_shares_one_outbox(tmp_path: Path) -> None:
    first = SyncOptions(address="127.0.0.1:7002", user="arona", config_dir=tmp_path, addresses=LIST)
    again = SyncOptions(
        address=format_address_list(reversed(LIST)), user="Arona", config_dir=tmp_path
    )
    paths = {outbox_path(tmp_path, community_key(o.address_list()), o.user) for o in (first, again)}
    assert len(paths) == 1


def test_options_start_at_their_address_and_refuse_one_not_listed(tmp_path: Path) -> None:
    options = SyncOptions(address="127.0.0.1:7002", user="u", config_dir=tmp_path, addresses=LIST)
    assert options.address_list() == (LIST[1], LIST[2], LIST[0])
    outsider = SyncOptions(address="h:1", user="u", config_dir=tmp_path, addresses=LIST)
    with pytest.raises(ValueError, match="not one of the addresses"):
        outsider.address_list()


# ---------------------------------------------------------------------------- pinning


@pytest.fixture
def pins(tmp_path: Path) -> CommunityPins:
    return CommunityPins(tmp_path / "known_nodes", LIST)


def test_nothing_pinned_is_new_and_accepting_pins_every_address(pins: CommunityPins) -> None:
    assert pins.check(LIST[0], KEY_A) == "new"
    pins.pin(LIST[0], KEY_A)
    assert pins.entries() == dict.fromkeys(LIST, KEY_A)


def test_a_pin_of_another_address_makes_the_same_key_known_and_pins_it(
    pins: CommunityPins,
) -> None:
    plain = KnownNodes(pins.path)
    plain.pin(LIST[2], KEY_A)
    assert pins.check(LIST[0], KEY_A) == "known"
    assert plain.lookup(LIST[0]) == KEY_A
    assert plain.lookup(LIST[1]) is None  # pinned when it is met, not before


def test_a_different_key_anywhere_in_the_list_is_a_changed_key(pins: CommunityPins) -> None:
    KnownNodes(pins.path).pin(LIST[1], KEY_A)
    with pytest.raises(KeyChangedError) as raised:
        pins.check(LIST[0], KEY_B)
    assert (raised.value.address, raised.value.pinned, raised.value.presented) == (
        LIST[0],
        KEY_A,
        KEY_B,
    )
    assert KnownNodes(pins.path).lookup(LIST[0]) is None  # a refused key leaves no pin


def test_an_address_pinned_apart_from_its_community_is_refused_too(
    pins: CommunityPins,
) -> None:
    plain = KnownNodes(pins.path)
    plain.pin(LIST[0], KEY_A)
    plain.pin(LIST[1], KEY_B)
    for presented in (KEY_A, KEY_B):
        with pytest.raises(KeyChangedError):
            pins.check(LIST[2], presented)


def test_pins_outside_the_community_are_left_alone(pins: CommunityPins) -> None:
    plain = KnownNodes(pins.path)
    plain.pin("elsewhere:7777", KEY_B)
    assert pins.check(LIST[0], KEY_A) == "new"
    pins.pin(LIST[0], KEY_A)
    assert plain.lookup("elsewhere:7777") == KEY_B


# ---------------------------------------------------------------------------- failover order


def test_the_ring_tries_each_address_in_turn_and_backs_off_after_a_cycle() -> None:
    ring = AddressRing(LIST)
    tried, cycle_ends = [], []
    for _ in range(6):
        tried.append(ring.current)
        cycle_ends.append(ring.failed())
    assert tried == [*LIST, *LIST]
    assert cycle_ends == [False, False, True, False, False, True]
    assert ring.cycles == 2


def test_a_lost_link_moves_on_at_once_and_a_cycle_returns_to_it() -> None:
    ring = AddressRing(LIST)
    assert ring.succeeded() is False  # the first sign-in is no move
    ring.lost()
    assert ring.current == LIST[1]
    assert [ring.failed(), ring.failed()] == [False, False]
    assert ring.current == LIST[0]
    assert ring.failed() is True  # every address failed once since the loss


def test_moves_are_counted_only_when_the_node_changes() -> None:
    ring = AddressRing(LIST)
    ring.succeeded()
    ring.lost()
    assert ring.succeeded() is True
    ring.lost()
    ring.failed()
    ring.failed()  # back at LIST[1]
    assert ring.current == LIST[1]
    assert ring.succeeded() is False
    assert ring.failovers == 1


def test_the_target_puts_the_current_address_first_and_keeps_the_others() -> None:
    ring = AddressRing(LIST, start=1)
    assert parse_address_list(ring.target()) == (LIST[1], LIST[2], LIST[0])


def test_a_ring_needs_an_address() -> None:
    with pytest.raises(ValueError, match="at least one address"):
        AddressRing(())


def test_a_spread_ring_keeps_the_first_address_and_shuffles_the_rest() -> None:
    """Clients of one dying node must not all move onto the same next node."""
    addresses = [f"127.0.0.1:{7001 + n}" for n in range(6)]
    orders = {AddressRing(addresses, spread=random.Random(seed)).addresses for seed in range(20)}
    assert all(order[0] == addresses[0] for order in orders)
    assert all(sorted(order) == sorted(addresses) for order in orders)
    assert len({order[1] for order in orders}) > 1  # the next node differs between clients
    assert AddressRing(addresses).addresses == tuple(addresses)  # no spread: the given order
