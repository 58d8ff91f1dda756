"""The login and registration screens: where to connect, and who you are.

Password managers type the whole form in one burst (``bob`` Tab ``secret`` Enter): Tab is a
priority binding here (the App moves the focus before it forwards the next key) and the
fields are ``OrderedInput``; submitting waits until every field has typed what it was sent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from aronanet.tui import voice
from aronanet.tui.widgets.ordered_input import FOCUS_KEYS, OrderedInput, settled

ARONA_ART = r"""
      ˚  ✧  ◯  ✧  ˚
    ╭───────────────╮
    │   A r o n a   │
    ╰───────────────╯
"""


@dataclass(frozen=True)
class Credentials:
    address: str
    user: str
    password: str
    register: bool
    #: §14.21: an invitation token (from an ``aronanet://`` link) for the registration.
    invite: str = ""


class CredentialsSubmitted(Message):
    """Posted by both screens; the app connects and answers with ``show_error``."""

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self.credentials = credentials


class _AccountScreen(Screen[None]):
    """Shared by login and registration: the fields, the error line, the busy state."""

    TITLE_TEXT = ""
    SUBMIT_LABEL = ""
    REGISTER = False
    BINDINGS: ClassVar[list[BindingType]] = [*FOCUS_KEYS]

    def __init__(self, address: str = "", user: str = "") -> None:
        super().__init__()
        self._address, self._user = address, user

    def compose(self) -> ComposeResult:
        with Vertical(id="account-card"):
            yield Static(ARONA_ART, id="arona-art")
            yield Label(self.title_text(), id="account-title")
            yield OrderedInput(self._address, placeholder="node address (host:port)", id="address")
            yield OrderedInput(self._user, placeholder="user name", id="user")
            yield OrderedInput(placeholder="password (8+ characters)", password=True, id="password")
            yield from self.extra_fields()
            yield Label("", id="account-error")
            with Horizontal(id="account-buttons"):
                yield Button(self.SUBMIT_LABEL, variant="primary", id="submit")
                yield from self.extra_buttons()
        yield Footer()

    def title_text(self) -> str:
        return self.TITLE_TEXT

    def extra_fields(self) -> ComposeResult:
        yield from ()

    def extra_buttons(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        empty = next((i for i in self.query(Input) if not i.value), None)
        (empty or self.query_one("#password", Input)).focus()

    def value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def validate(self) -> str | None:
        if not self.value("address").strip():
            return "Sensei, which node? Type its address, like 127.0.0.1:7777."
        if not self.value("user").strip():
            return "Sensei, I need your user name."
        password = self.value("password")
        # ArTP/1.1 §14.3: no password signs in with this device, if it signed in before.
        if (password or self.REGISTER) and len(password) < 8:
            return "Passwords have at least 8 characters, Sensei."
        return None

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        await self.submit()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            await self.submit()

    async def submit(self) -> None:
        for field in self.query(Input):
            await settled(field)  # the keys typed before Enter, in every field
        problem = self.validate()
        if problem:
            self.show_error(problem)
            return
        self.show_error("Connecting…", error=False)
        self.query_one("#submit", Button).disabled = True
        self.post_message(CredentialsSubmitted(self.credentials()))

    def credentials(self) -> Credentials:
        return Credentials(
            self.value("address").strip(),
            self.value("user").strip(),
            self.value("password"),
            self.REGISTER,
        )

    def show_error(self, text: str, *, error: bool = True) -> None:
        label = self.query_one("#account-error", Label)
        label.update(text)
        label.set_class(error, "error")
        self.query_one("#submit", Button).disabled = not error


class LoginScreen(_AccountScreen):
    TITLE_TEXT = "Welcome back, Sensei!"
    FIRST_TITLE_TEXT = "Welcome, Sensei! New here? Ctrl+R creates your account."
    SUBMIT_LABEL = "Log in"
    BINDINGS: ClassVar[list[BindingType]] = [("ctrl+r", "register", "Create an account")]

    def title_text(self) -> str:
        """ "Welcome back" only for someone who has logged in from here before."""
        return self.TITLE_TEXT if self._user else self.FIRST_TITLE_TEXT

    def extra_buttons(self) -> ComposeResult:
        yield Button("Create an account", id="to-register")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "to-register":
            self.action_register()
        else:
            await super().on_button_pressed(event)

    def action_register(self) -> None:
        self.app.push_screen(RegisterScreen(self.value("address"), self.value("user")))


class RegisterScreen(_AccountScreen):
    TITLE_TEXT = "Nice to meet you, Sensei! Choose a name."
    INVITED_TEXT = "You're invited, Sensei! Choose a name and a password."
    SUBMIT_LABEL = "Create account"
    REGISTER = True
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "back", "Back to login")]

    def __init__(self, address: str = "", user: str = "", *, invite: str = "") -> None:
        """``invite``: the token of an invitation link (§14.21), sent with the AUTH."""
        super().__init__(address, user)
        self._invite = invite

    def title_text(self) -> str:
        return self.INVITED_TEXT if self._invite else self.TITLE_TEXT

    def credentials(self) -> Credentials:
        return dataclasses.replace(super().credentials(), invite=self._invite)

    def extra_fields(self) -> ComposeResult:
        yield OrderedInput(placeholder="password again", password=True, id="confirm")

    def validate(self) -> str | None:
        if self.value("password") != self.value("confirm"):
            return "The two passwords differ, Sensei."
        return super().validate()

    def action_back(self) -> None:
        self.app.pop_screen()


class SigningInScreen(Screen[None]):
    """While this device signs in by itself on start (no form: nothing to type)."""

    def __init__(self, address: str, user: str) -> None:
        super().__init__()
        self._address, self._user = address, user

    def compose(self) -> ComposeResult:
        with Vertical(id="account-card"):
            yield Static(ARONA_ART, id="arona-art")
            yield Label(voice.signing_in(self._user, self._address), id="account-title")
        yield Footer()
