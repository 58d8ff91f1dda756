"""Trust on first use: the first-contact question and the loud changed-key refusal.

ArTP/1.0 §2: "Clients pin it on first use per address and MUST refuse, loudly, a changed key
unless the user accepts it." Both screens show fingerprints in full.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from aronanet.tui.widgets.ordered_input import OrderedInput

ACCEPT_WORD = "ACCEPT"


class TrustScreen(ModalScreen[bool]):
    """First contact with a node: show its fingerprint, ask whether to pin it."""

    BINDINGS = [("y", "answer(True)", "Trust"), ("n,escape", "answer(False)", "Refuse")]  # noqa: RUF012

    def __init__(self, address: str, fingerprint: str) -> None:
        super().__init__()
        self.address, self.fingerprint = address, fingerprint

    def compose(self) -> ComposeResult:
        with Vertical(id="trust-card", classes="card"):
            yield Label("First visit to this node, Sensei!", classes="card-title")
            yield Static(
                f"Address:     {self.address}\nFingerprint: {self.fingerprint}",
                classes="fingerprint",
            )
            yield Static(
                "Compare the fingerprint with the one the node's owner gave you\n"
                "(`aronanet fingerprint` on the node). I will remember it and warn you\n"
                "loudly if it ever changes.",
            )
            with Horizontal(classes="card-buttons"):
                yield Button("Trust (y)", variant="primary", id="trust")
                yield Button("Refuse (n)", variant="error", id="refuse")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "trust")

    def action_answer(self, trusted: bool) -> None:
        self.dismiss(trusted)


class KeyChangedScreen(ModalScreen[bool]):
    """The node's key differs from the pinned one: refuse, unless ACCEPT is typed."""

    BINDINGS = [("escape", "refuse", "Refuse")]  # noqa: RUF012

    def __init__(self, address: str, pinned: str, presented: str) -> None:
        super().__init__()
        self.address, self.pinned, self.presented = address, pinned, presented

    def compose(self) -> ComposeResult:
        with Vertical(id="key-changed-card", classes="card"):
            yield Label("⚠  THE NODE'S KEY HAS CHANGED  ⚠", classes="card-title")
            yield Static(
                f"Address:   {self.address}\nPinned:    {self.pinned}\nPresented: {self.presented}",
                classes="fingerprint",
            )
            yield Static(
                "Sensei, I refused to connect. Someone may be impersonating this node,\n"
                "or its owner reinstalled it. Ask the owner for the new fingerprint.\n"
                f"If it matches, type {ACCEPT_WORD} and press Enter to pin the new key\n"
                "(or remove the address's line from the known_nodes file).",
            )
            yield OrderedInput(placeholder=f"type {ACCEPT_WORD} to trust the new key", id="accept")
            with Horizontal(classes="card-buttons"):
                yield Button("Refuse", variant="error", id="refuse")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == ACCEPT_WORD:
            self.dismiss(True)
        else:
            event.input.value = ""

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(False)

    def action_refuse(self) -> None:
        self.dismiss(False)
