"""No identifier holding a control character gets past the codec (issue 9 item 7).

msgspec's ``pattern`` searches like ``re.search``, so a ``$`` anchor let ``"name\\n"`` through
as a second account beside ``name``. Every identifier a node stores, logs or shows (user and
channel names, ``dest``, transfer ids, message ids) must refuse a control character anywhere
in it, in every request that carries one. An upload's ``dest`` and file name are checked by
the node's image layer instead (so the refusal names its ``transfer``): see
tests/integration/node/test_names_and_wording.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aronanet.errors import ErrorCode
from aronanet.proto.codec import Rejection, decode_request

SHA = "0" * 64

control_characters = st.characters(categories=["Cc"])
user_names = st.from_regex(r"\A[A-Za-z0-9_-]{1,31}\Z")
channel_names = st.from_regex(r"\A#[a-z0-9_-]{1,31}\Z")
message_ids = st.from_regex(r"\A[0-9]{1,20}\Z")


def _with_control(name: str, control: str, at: int) -> str:
    """``name`` with ``control`` inserted at position ``at`` (0 is before the first)."""
    at %= len(name) + 1
    return name[:at] + control + name[at:]


def _chunk(**fields: Any) -> dict[str, Any]:
    return {
        "type": "IMG_CHUNK",
        "transfer": "t1",
        "index": 0,
        "total": 1,
        "data": "AA==",
        "dest_type": "channel",
        "dest": "#ok",
        "name": "a.png",
        "mime": "image/png",
        "size": 1,
        "sha256": SHA,
        **fields,
    }


#: For each kind of identifier, the requests that carry it (one per place it can appear).
CARRIERS: dict[str, list[Callable[[str], dict[str, Any]]]] = {
    "user": [
        lambda n: {"type": "AUTH", "user": n, "password": "long enough"},
        lambda n: {"type": "AUTH", "user": n, "password": "long enough", "register": True},
        lambda n: {"type": "MSG", "dest_type": "user", "dest": n, "content": "hi"},
        lambda n: {"type": "HISTORY", "dest_type": "user", "dest": n},
    ],
    "channel": [
        lambda n: {"type": "JOIN", "channel": n},
        lambda n: {"type": "PART", "channel": n},
        lambda n: {"type": "TOPIC", "channel": n, "topic": "t"},
        lambda n: {"type": "MSG", "dest_type": "channel", "dest": n, "content": "hi"},
        lambda n: {"type": "HISTORY", "dest_type": "channel", "dest": n},
    ],
    "message_id": [
        lambda n: {"type": "HISTORY", "dest_type": "channel", "dest": "#ok", "before": n},
        lambda n: {"type": "HISTORY", "dest_type": "channel", "dest": "#ok", "after": n},
    ],
    "transfer": [
        lambda n: _chunk(transfer=n),
        lambda n: {"type": "IMG_STATUS", "transfer": n},
    ],
}
VALID_NAMES = {
    "user": user_names,
    "channel": channel_names,
    "message_id": message_ids,
    "transfer": user_names,
}


def _decode(request: dict[str, Any]) -> object:
    return decode_request(json.dumps({**request, "id": "r1"}).encode())


def test_every_carrier_accepts_its_identifier_when_it_is_clean() -> None:
    """The property below is only meaningful if the same requests pass without the control."""
    clean = {"user": "sensei", "channel": "#ok", "message_id": "12", "transfer": "t1"}
    for kind, carriers in CARRIERS.items():
        for carrier in carriers:
            assert not isinstance(_decode(carrier(clean[kind])), Rejection), (kind, carrier)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(sorted(CARRIERS)),
    data=st.data(),
    control=control_characters,
    at=st.integers(min_value=0),
)
def test_no_identifier_with_a_control_character_is_accepted(
    kind: str, data: st.DataObject, control: str, at: int
) -> None:
    name = _with_control(data.draw(VALID_NAMES[kind]), control, at)
    for carrier in CARRIERS[kind]:
        result = _decode(carrier(name))
        assert isinstance(result, Rejection), (kind, name, result)
        assert (result.code, result.re) == (ErrorCode.INVALID, "r1")


def test_a_trailing_newline_makes_no_second_account_or_channel() -> None:
    """The two reported cases, spelled out."""
    for request in (
        {"type": "AUTH", "user": "aronabc67\n", "password": "long enough", "register": True},
        {"type": "JOIN", "channel": "#lobby\n"},
    ):
        assert isinstance(_decode(request), Rejection)
