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
    #: §14.21: a password reset token (``aronanet admin reset-password``); ``password`` is
    #: then the new password.
    reset: str = ""


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
    #: The form chooses a password (registration, reset): it may not be left empty.
    NEW_PASSWORD = False
    PASSWORD_PLACEHOLDER = "password (8+ characters)"
    #: Arona's halo on top; a form with many fields leaves it out to fit 32 rows.
    SHOW_ART = True
    BINDINGS: ClassVar[list[BindingType]] = [*FOCUS_KEYS]

    def __init__(self, address: str = "", user: str = "") -> None:
        super().__init__()
        self._address, self._user = address, user

    def compose(self) -> ComposeResult:
        with Vertical(id="account-card"):
            if self.SHOW_ART:
                yield Static(ARONA_ART, id="arona-art")
            yield Label(self.title_text(), id="account-title")
            yield OrderedInput(self._address, placeholder="node address (host:port)", id="address")
            yield OrderedInput(self._user, placeholder="user name", id="user")
            yield from self.fields_before_password()
            yield OrderedInput(placeholder=self.PASSWORD_PLACEHOLDER, password=True, id="password")
            yield from self.extra_fields()
            yield Label("", id="account-error")
            with Horizontal(id="account-buttons"):
                yield Button(self.SUBMIT_LABEL, variant="primary", id="submit")
                yield from self.extra_buttons()
            with Horizontal(id="account-links"):
                yield from self.extra_links()
        yield Footer()

    def title_text(self) -> str:
        return self.TITLE_TEXT

    def fields_before_password(self) -> ComposeResult:
        yield from ()

    def extra_fields(self) -> ComposeResult:
        yield from ()

    def extra_buttons(self) -> ComposeResult:
        yield from ()

    def extra_links(self) -> ComposeResult:
        """A row under the buttons, for the less travelled ways (a reset token)."""
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
        if (password or self.NEW_PASSWORD) and len(password) < 8:
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
    BINDINGS: ClassVar[list[BindingType]] = [
        ("ctrl+r", "register", "Create an account"),
        ("ctrl+t", "reset", "Reset token"),
    ]

    def title_text(self) -> str:
        """ "Welcome back" only for someone who has logged in from here before."""
        return self.TITLE_TEXT if self._user else self.FIRST_TITLE_TEXT

    def extra_buttons(self) -> ComposeResult:
        yield Button("Create an account", id="to-register")

    def extra_links(self) -> ComposeResult:
        yield Button("Forgot password? Use a reset token", id="to-reset", compact=True)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "to-register":
            self.action_register()
        elif event.button.id == "to-reset":
            self.action_reset()
        else:
            await super().on_button_pressed(event)

    def action_register(self) -> None:
        self.app.push_screen(RegisterScreen(self.value("address"), self.value("user")))

    def action_reset(self) -> None:
        self.app.push_screen(ResetScreen(self.value("address"), self.value("user")))


class _NewPasswordScreen(_AccountScreen):
    """A form that chooses a password: typed twice, Escape back to the login screen."""

    NEW_PASSWORD = True
    BINDINGS: ClassVar[list[BindingType]] = [("escape", "back", "Back to login")]

    def extra_fields(self) -> ComposeResult:
        yield OrderedInput(placeholder="password again", password=True, id="confirm")

    def validate(self) -> str | None:
        if self.value("password") != self.value("confirm"):
            return "The two passwords differ, Sensei."
        return super().validate()

    def action_back(self) -> None:
        self.app.pop_screen()


class RegisterScreen(_NewPasswordScreen):
    TITLE_TEXT = "Nice to meet you, Sensei! Choose a name."
    INVITED_TEXT = "You're invited, Sensei! Choose a name and a password."
    SUBMIT_LABEL = "Create account"
    REGISTER = True

    def __init__(self, address: str = "", user: str = "", *, invite: str = "") -> None:
        """``invite``: the token of an invitation link (§14.21), sent with the AUTH."""
        super().__init__(address, user)
        self._invite = invite

    def title_text(self) -> str:
        return self.INVITED_TEXT if self._invite else self.TITLE_TEXT

    def credentials(self) -> Credentials:
        return dataclasses.replace(super().credentials(), invite=self._invite)


class ResetScreen(_NewPasswordScreen):
    """§14.21: the one-time token an admin printed with ``aronanet admin reset-password``,
    and the new password. On success the node signs every other device out."""

    TITLE_TEXT = "Your reset token and a new password, Sensei!"
    SHOW_ART = False
    SUBMIT_LABEL = "Set password and log in"
    PASSWORD_PLACEHOLDER = "new password (8+ characters)"

    def __init__(self, address: str = "", user: str = "", *, token: str = "") -> None:
        """``token``: filled in from ``aronanet chat --reset-token``."""
        super().__init__(address, user)
        self._token = token

    def fields_before_password(self) -> ComposeResult:
        yield OrderedInput(self._token, placeholder="reset token", id="token")

    def validate(self) -> str | None:
        if not self.value("token").strip():
            return "Sensei, I need the reset token your node's admin gave you."
        return super().validate()

    def credentials(self) -> Credentials:
        return dataclasses.replace(super().credentials(), reset=self.value("token").strip())


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
