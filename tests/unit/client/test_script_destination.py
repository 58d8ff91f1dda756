"""``aronanet send DEST``: what the user typed becomes the request's ``dest_type``/``dest``."""

from __future__ import annotations

from aronanet.client.script import Destination


def test_a_channel_name_is_lowered_before_it_is_sent() -> None:
    """Channel names fold case in the client; the node still refuses ``#Ops`` (ArTP/1.0)."""
    assert Destination.parse("#Ops") == Destination("channel", "#ops")


def test_a_user_name_keeps_its_case_and_loses_the_at() -> None:
    assert Destination.parse("@Hoshino") == Destination("user", "Hoshino")
    assert Destination.parse("Hoshino") == Destination("user", "Hoshino")
