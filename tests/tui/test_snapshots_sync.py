"""The screens ArTP/1.1 sync adds to the terminal client, in both Arona themes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Button
from tui_helpers import snapshot_app

from aronanet.tui.screens.password import PasswordScreen
from aronanet.tui.theme import DARK, LIGHT

SIZE = (110, 32)
THEMES = pytest.mark.parametrize("theme", [LIGHT, DARK])


@THEMES
def test_password_screen_with_a_mismatch_error(
    snap_compare: Callable[..., bool], theme: str
) -> None:
    async def before(pilot: Pilot[int]) -> None:
        await pilot.app.push_screen(PasswordScreen())
        for field, value in (("old", "old password"), ("new", "new one 1"), ("again", "new 2")):
            pilot.app.screen.query_one(f"#{field}").value = value  # type: ignore[attr-defined]
        # The button's highlight after a click lasts 0.2 s, and the snapshot shows it: kept
        # for a minute, so that a screenshot taken late (a loaded machine) shows it too.
        pilot.app.screen.query_one("#change", Button).active_effect_duration = 60
        await pilot.click("#change")

    assert snap_compare(snapshot_app(theme), terminal_size=SIZE, run_before=before)
