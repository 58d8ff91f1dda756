"""Signing in: from the start screen (or this device's remembered user) into the chat.

Apart from the app because it is one flow with its own turns: trust on first use, a node
whose key changed (refused, or accepted after a question), a device sign-in that failed and
falls back to the login form with the name filled in, an invite link or a reset token that
opens its own form, and the error shown on whichever screen the user is on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from aronanet.client.invite_link import InviteLink
from aronanet.client.state import Noted
from aronanet.errors import ClientError, KeyChangedError
from aronanet.tui import voice
from aronanet.tui.link import Login
from aronanet.tui.screens.login import (
    Credentials,
    LoginScreen,
    RegisterScreen,
    ResetScreen,
    SigningInScreen,
)
from aronanet.tui.screens.trust import KeyChangedScreen, TrustScreen

if TYPE_CHECKING:
    from aronanet.tui.app import AronaApp


class SignIn:
    """The app's sign-in flow; the app hands it the login screen's credentials."""

    def __init__(
        self,
        app: AronaApp,
        *,
        forget_key: Callable[[str], None] | None,
        sign_in_by_device: bool,
        invite: InviteLink | None,
        reset_token: str,
    ) -> None:
        self._app = app
        self._forget_key = forget_key
        self._sign_in_by_device = sign_in_by_device
        self._invite = invite
        self._reset_token = reset_token

    def show_first_screen(self) -> None:
        """On start: the form an invite or a reset token asks for, a sign-in as this
        device's user at the address, or else the login screen."""
        address = self._app.settings.address
        user = self._app.settings.device_user(address) if self._sign_in_by_device else ""
        if self._invite is not None:
            self._app.push_screen(LoginScreen(self._invite.address, ""))
            self._app.push_screen(RegisterScreen(self._invite.address, invite=self._invite.token))
        elif self._reset_token:
            self._app.push_screen(LoginScreen(address, self._app.settings.user))
            self._app.push_screen(
                ResetScreen(address, self._app.settings.user, token=self._reset_token)
            )
        elif address and user:
            self._app.push_screen(SigningInScreen(address, user))
            self._app.spawn(self._by_device(Credentials(address, user, "", register=False)))
        else:
            self._app.push_screen(LoginScreen(address, self._app.settings.user))

    async def log_in(self, credentials: Credentials) -> None:
        """Sign in with what the user typed; a failure is told on the form, never raised."""
        try:
            await self._start(credentials)
        except KeyChangedError as error:
            await self._refuse_changed_key(error, credentials)
        except ClientError as error:
            if credentials.reset and error.code == "AUTH_FAILED":
                self._show_login_error(voice.reset_token_refused(error))
            else:
                self._show_login_error(voice.failure("logging in", error))

    async def _by_device(self, credentials: Credentials) -> None:
        """On start (§14.3): this device signed in as ``credentials.user`` here before, so
        try it without a password; the login screen, name filled in, only if that fails."""
        try:
            await self._start(credentials)
        except KeyChangedError as error:
            await self._show_login_screen(credentials)
            await self._refuse_changed_key(error, credentials)
        except ClientError as error:
            await self._show_login_screen(credentials)
            if error.code == "AUTH_FAILED":  # revoked, unknown, or no ``sync``: ask once more
                self.forget_device_user(credentials.address)
                self._show_login_error(voice.device_sign_in_failed(credentials.user, error))
            else:
                self._show_login_error(voice.failure("signing in", error))

    async def _start(self, credentials: Credentials) -> None:
        """Connect (trust on first use) and sign in; raises for the caller to show why not."""
        login = Login(
            credentials.address,
            credentials.user,
            credentials.password,
            credentials.invite,
            credentials.reset,
        )
        await self._app.session.start(
            login, register=credentials.register, trust_new=self._ask_trust
        )
        client = self._app.session.client
        devices = dict(self._app.settings.devices)
        if client is not None and client.syncing:
            devices[credentials.address] = self._app.state.me or credentials.user
        self._app.remember(address=credentials.address, user=credentials.user, devices=devices)
        await self._app.enter_chat(first_time=credentials.register)
        if credentials.reset:
            self._app.dispatch(Noted(voice.password_reset(), self._app.now()))

    async def _refuse_changed_key(self, error: KeyChangedError, credentials: Credentials) -> None:
        self._show_login_error("KEY_CHANGED: refused, the node's key is not the pinned one")
        if await self._confirm_key_change(error):
            await self.log_in(credentials)

    async def _show_login_screen(self, credentials: Credentials) -> None:
        """Replace the signing-in screen with the login form, filled in."""
        await self._app.switch_screen(LoginScreen(credentials.address, credentials.user))

    def forget_device_user(self, address: str) -> None:
        """The next start at ``address`` shows the login screen, not a device sign-in."""
        devices = {a: u for a, u in self._app.settings.devices.items() if a != address}
        self._app.remember(devices=devices)

    def _show_login_error(self, text: str) -> None:
        screen = self._app.screen
        if hasattr(screen, "show_error"):
            screen.show_error(text)

    async def _ask_trust(self, address: str, fingerprint: str) -> bool:
        return await self._ask(TrustScreen(address, fingerprint))

    async def _confirm_key_change(self, error: KeyChangedError) -> bool:
        accepted = await self._ask(KeyChangedScreen(error.address, error.pinned, error.presented))
        if accepted and self._forget_key is not None:
            self._forget_key(error.address)
        return accepted and self._forget_key is not None

    def key_changed_later(self, error: KeyChangedError) -> None:
        """During a reconnect: stop, show the refusal; accepting needs a fresh login."""

        async def ask() -> None:
            if await self._confirm_key_change(error):
                self._app.runner.note(
                    "New key accepted, Sensei. Start `aronanet chat` again to use it."
                )

        self._app.spawn(ask())

    async def _ask(self, screen: TrustScreen | KeyChangedScreen) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._app.push_screen(screen, callback=lambda result: answer.set_result(bool(result)))
        return await answer
