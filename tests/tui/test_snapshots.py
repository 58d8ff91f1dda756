"""Every screen of the terminal client, in the light and the dark Arona theme.

Rendered with a fixed clock (Tuesday 25 November 2025, 09:30 UTC) and UTC as the time zone,
so day separators and timestamps never drift. Update with ``--snapshot-update`` after
looking at the SVGs under ``__snapshots__``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from tui_helpers import (
    FIXED_NOW,
    hold_still,
    lively_state,
    picture_cache,
    reconnecting_state,
    settle_images,
    snapshot_app,
    wait_for,
)

from aronanet.client.state import Activated, ChatState, EventsReceived, TypingChanged, reduce
from aronanet.errors import ClientError
from aronanet.proto.lifecycle import Reaction, ReplyQuote
from aronanet.proto.messages import MsgEvent
from aronanet.tui import voice
from aronanet.tui.screens.login import RegisterScreen, ResetScreen
from aronanet.tui.screens.trust import KeyChangedScreen, TrustScreen
from aronanet.tui.theme import DARK, LIGHT

SIZE = (110, 32)
THEMES = pytest.mark.parametrize("theme", [LIGHT, DARK])
FINGERPRINT = "SHA256:+7WF90essC+nf5vdxw4EGRSs1NJ0mXxAMFmI0DYZHww"
OTHER = "SHA256:Qm9ndXNrZXlCb2d1c2tleUJvZ3Vza2V5Qm9ndXNrZXk"


def chat_with(state: Callable[[], ChatState]) -> Callable[[Pilot[int]], object]:
    async def before(pilot: Pilot[int]) -> None:
        app = pilot.app
        await app.enter_chat()  # type: ignore[attr-defined]
        app.state = state()  # type: ignore[attr-defined]
        app.dispatch(Activated("#general"))  # type: ignore[attr-defined]
        await pilot.pause()
        await settle_images(pilot, 1)  # lively_state's drawing, from the picture cache
        await hold_still(pilot)

    return before


@THEMES
def test_login_screen(snap_compare: Callable[..., bool], theme: str) -> None:
    app = snapshot_app(theme)
    app.settings = app.settings.__class__(address="127.0.0.1:7777", user="sensei")
    assert snap_compare(app, terminal_size=SIZE, run_before=hold_still)


@THEMES
def test_register_screen_with_a_mismatch_error(
    snap_compare: Callable[..., bool], theme: str
) -> None:
    """Submitted with Enter, not a click: a clicked button stays pressed-looking for 0.2 s
    (a timer no snapshot waits for), so a loaded machine photographed it either way."""

    async def before(pilot: Pilot[int]) -> None:
        screen = RegisterScreen("127.0.0.1:7777", "sensei")
        await pilot.app.push_screen(screen)
        screen.query_one("#password", Input).value = "password1"
        screen.query_one("#confirm", Input).value = "password2"
        screen.query_one("#confirm", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "differ" in str(screen.query_one("#account-error").render()))
        await hold_still(pilot)

    assert snap_compare(snapshot_app(theme), terminal_size=SIZE, run_before=before)


@THEMES
def test_reset_screen_with_a_refused_token(snap_compare: Callable[..., bool], theme: str) -> None:
    """§14.21: the token field first, the new password twice, the refusal in Arona's words."""

    async def before(pilot: Pilot[int]) -> None:
        screen = ResetScreen("127.0.0.1:7777", "sensei", token="3kQ9-used-token")
        await pilot.app.push_screen(screen)
        refused = ClientError("AUTH_FAILED", "this reset token is not valid for you")
        screen.show_error(voice.reset_token_refused(refused))
        await hold_still(pilot)

    assert snap_compare(snapshot_app(theme), terminal_size=(110, 36), run_before=before)


@THEMES
def test_first_use_trust_prompt_shows_the_full_fingerprint(
    snap_compare: Callable[..., bool], theme: str
) -> None:
    async def before(pilot: Pilot[int]) -> None:
        await pilot.app.push_screen(TrustScreen("127.0.0.1:7777", FINGERPRINT))
        await hold_still(pilot)

    assert snap_compare(snapshot_app(theme), terminal_size=SIZE, run_before=before)


@THEMES
def test_changed_key_is_a_loud_refusal(snap_compare: Callable[..., bool], theme: str) -> None:
    async def before(pilot: Pilot[int]) -> None:
        await pilot.app.push_screen(KeyChangedScreen("127.0.0.1:7777", FINGERPRINT, OTHER))
        await hold_still(pilot)

    assert snap_compare(snapshot_app(theme), terminal_size=SIZE, run_before=before)


@THEMES
def test_chat_screen(snap_compare: Callable[..., bool], theme: str, tmp_path: Path) -> None:
    app = snapshot_app(theme, picture_cache(tmp_path / "cache"))
    assert snap_compare(app, terminal_size=SIZE, run_before=chat_with(lively_state))


@THEMES
def test_chat_screen_while_reconnecting(
    snap_compare: Callable[..., bool], theme: str, tmp_path: Path
) -> None:
    """Offline, the drawing still shows: it comes from the cache, which needs no link."""
    app = snapshot_app(theme, picture_cache(tmp_path / "cache"))
    assert snap_compare(app, terminal_size=SIZE, run_before=chat_with(reconnecting_state))


def lifecycle_state() -> ChatState:
    """lively_state, then a reply with its quote and reactions, a tombstone, an edited
    message that mentions sensei, and two people typing (ArTP/1.1 §14.9-14.13)."""
    state = lively_state()
    moment = FIXED_NOW - 100
    talk = (
        MsgEvent(
            id="m20",
            from_="yuuka",
            dest_type="channel",
            dest="#general",
            content="lunch at noon, sensei?",
            timestamp=moment,
        ),
        MsgEvent(
            id="m21",
            from_="hoshino",
            dest_type="channel",
            dest="#general",
            content="yes please, I'm starving",
            timestamp=moment + 5,
            reply_to="m20",
            reply=ReplyQuote(id="m20", from_="yuuka", content="lunch at noon, sensei?"),
            reactions=[
                Reaction(emoji="👍", count=2, users=["yuuka", "sensei"]),
                Reaction(emoji="🎉", count=1, users=["yuuka"]),
            ],
        ),
        MsgEvent(
            id="m22",
            from_="yuuka",
            dest_type="channel",
            dest="#general",
            content="",
            timestamp=moment + 6,
            deleted=moment + 7,
        ),
        MsgEvent(
            id="m23",
            from_="hoshino",
            dest_type="channel",
            dest="#general",
            content="@sensei the budget is fixed",
            timestamp=moment + 8,
            edited=moment + 9,
        ),
    )
    for action in (
        EventsReceived(talk),
        TypingChanged("channel", "#general", "yuuka", True, FIXED_NOW + 6, FIXED_NOW),
        TypingChanged("channel", "#general", "hoshino", True, FIXED_NOW + 6, FIXED_NOW),
    ):
        state = reduce(state, action)
    return state


@THEMES
def test_chat_screen_with_replies_reactions_and_a_selection(
    snap_compare: Callable[..., bool], theme: str, tmp_path: Path
) -> None:
    async def before(pilot: Pilot[int]) -> None:
        await chat_with(lifecycle_state)(pilot)
        await pilot.press("alt+up", "alt+up", "alt+up")  # the reply is selected
        await hold_still(pilot)

    app = snapshot_app(theme, picture_cache(tmp_path / "cache"))
    assert snap_compare(app, terminal_size=SIZE, run_before=before)
