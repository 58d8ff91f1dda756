"""Text fields that keep every key of a burst in order, and Alt+digit as xterm sends it.

Why this exists (issue 10; Textualize/textual#6605): Textual types a printable key in the
focused widget's own message queue, but runs a *bound* key (Enter, Backspace, Tab, Up...)
only once the key event has bubbled up to the App, through one queue per ancestor. Keys that
arrive together (a password manager, a paste, tmux ``send-keys 'k' Enter 'thx' Enter``) are
all forwarded to the field before the first Enter comes back round, so Enter submitted a line
that already held the next one, and a screen's Tab moved the focus after the next field's
characters had been typed into the old one.

The cure has two halves, one per kind of key:

- a key whose meaning depends on the *text* (Enter, Backspace, history, completion) runs in
  the field's own queue, in order with the characters: ``OrderedInput`` runs the field's own
  bindings inline instead of letting them bubble;
- a key that decides *where* the next keys go (Tab between login fields) is a priority
  binding of its screen (``FOCUS_KEYS``): the App runs those before it forwards the next key.
"""

from __future__ import annotations

import asyncio
from typing import cast

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Input

#: Tab and Shift+Tab as priority bindings: the App moves the focus when the key arrives, so
#: the keys typed after it go to the next field however fast they come.
FOCUS_KEYS: list[BindingType] = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]


class OrderedInput(Input):
    """An ``Input`` whose own bindings run where its characters are typed: in order."""

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # Input's own handler, next in the MRO, types it
        if await run_own_binding(self, event):
            event.stop()
            event.prevent_default()


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run ``widget``'s own (non-priority) binding for ``event`` now; True if one ran.

    Priority bindings are left alone: the App ran those before it forwarded the key.
    """
    bindings = widget._bindings.key_to_bindings  # Textual keeps the node's map here
    for key in event.aliases:
        for binding in bindings.get(key, ()):
            if not binding.priority and await widget.app.run_action(binding.action, widget):
                return True
    return False


async def settled(widget: Widget) -> None:
    """Return once ``widget`` has handled every message already in its queue (the keys the
    App forwarded to it): read a field's value only then."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def finish() -> None:
        if not done.done():
            done.set_result(None)

    if not widget.call_later(finish):
        return  # the widget is closing: there is nothing more to wait for
    await done


class _KeyName:
    """Stands in for a ``textual.keys.Keys`` member: Textual reads only ``.value``."""

    def __init__(self, value: str) -> None:
        self.value = value


def read_escape_digit_as_alt() -> None:
    """Make ESC followed by a digit the key ``alt+DIGIT``, as xterm, VTE, tmux and screen
    send Alt+digit ("meta sends escape"); idempotent.

    Textual maps these sequences to the glyphs macOS types with Option (``ESC 2`` becomes
    ``™``) for WezTerm on macOS, so Alt+2 typed ``™`` into the input line, which then went out
    as a message. A terminal that sends the glyph itself (Option composing on macOS) still
    types it: only the two-byte ESC sequence changes meaning.
    """
    table = cast("dict[str, object]", ANSI_SEQUENCES_KEYS)  # a dict, typed read-only
    for digit in "0123456789":
        table["\x1b" + digit] = (_KeyName(f"alt+{digit}"),)
