"""``/password``: the old and new password in masked fields, never on the command line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

MIN_PASSWORD = 8


class PasswordScreen(ModalScreen[tuple[str, str] | None]):
    """Dismissed with ``(old, new)``, or None when cancelled (Escape)."""

    BINDINGS = [("escape", "cancel", "Cancel")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with Vertical(id="password-card"):
            yield Label("Change your password, Sensei", id="password-title")
            yield Input(placeholder="current password", password=True, id="old")
            yield Input(placeholder="new password (8+ characters)", password=True, id="new")
            yield Input(placeholder="new password again", password=True, id="again")
            yield Label("", id="password-error")
            with Horizontal(id="password-buttons"):
                yield Button("Change", variant="primary", id="change")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#old", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def problem(self) -> str | None:
        if not self._value("old"):
            return "Sensei, type your current password first."
        if len(self._value("new")) < MIN_PASSWORD:
            return "Passwords have at least 8 characters, Sensei."
        if self._value("new") != self._value("again"):
            return "The two new passwords differ, Sensei."
        return None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "change":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        problem = self.problem()
        if problem:
            self.query_one("#password-error", Label).update(problem)
            return
        self.dismiss((self._value("old"), self._value("new")))

    def action_cancel(self) -> None:
        self.dismiss(None)
