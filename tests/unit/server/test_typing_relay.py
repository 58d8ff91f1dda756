"""§14.13's throttle, on explicit times: one ``typing: true`` relayed per interval per user
and conversation, a ``typing: false`` only while a relayed true holds, memory bounded."""

from __future__ import annotations

from aronanet.server import lifecycle
from aronanet.server.lifecycle import TypingRelay

KEY = ("kei", "#general")


def test_a_true_is_relayed_once_per_interval() -> None:
    relay = TypingRelay()
    assert relay.should_relay(KEY, True, 100.0, 3.0)
    assert not relay.should_relay(KEY, True, 102.9, 3.0)
    assert relay.should_relay(KEY, True, 103.0, 3.0)
    assert relay.should_relay(("kei", "#other"), True, 103.1, 3.0)  # per conversation


def test_a_false_is_relayed_only_while_a_true_holds() -> None:
    relay = TypingRelay()
    assert not relay.should_relay(KEY, False, 100.0, 3.0)  # nothing to stop
    relay.should_relay(KEY, True, 100.0, 3.0)
    assert relay.should_relay(KEY, False, 106.0, 3.0)  # within twice the interval
    assert relay.should_relay(KEY, True, 106.1, 3.0)  # stopped: a new true goes at once
    assert not relay.should_relay(KEY, False, 112.2, 3.0)  # that one expired


def test_the_relay_forgets_the_stalest_past_its_memory(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(lifecycle, "TYPING_MEMORY", 2)
    relay = TypingRelay()
    for number in range(3):
        relay.should_relay((f"u{number}", "#c"), True, 100.0, 3.0)
    assert relay.should_relay(("u0", "#c"), True, 100.5, 3.0)  # forgotten: relayed again
    assert not relay.should_relay(("u2", "#c"), True, 100.5, 3.0)
