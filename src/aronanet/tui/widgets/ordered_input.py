"""Text fields that keep every key of a burst in order.

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

from textual import events
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
