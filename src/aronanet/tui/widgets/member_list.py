"""The member list of the active channel, each name in its stable colour, with its role's
IRC mark (``~`` owner, ``@`` operator, ``+`` voiced; §14.16), strongest roles first."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from aronanet.client.moderation_words import member_sort_key, role_mark
from aronanet.client.state import Buffer
from aronanet.tui.theme import nick_colour


class MemberList(Widget):
    """Shown for a channel unless ``folded`` (a narrow terminal). ``display`` is set here,
    at once, not through a style class: the log's width then changes in the same layout as
    its content, and a log that follows its newest line never passes through the top."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._members: tuple[tuple[str, str], ...] = ()  # (mark, name), in display order
        #: The buffer's members and roles ``_members`` was ordered from: the state keeps a
        #: tuple and a dict until they change, so a message does not sort the list again.
        self._ordered_from: tuple[object, object] = ((), {})
        self._channel = False
        self._folded = False

    def fold(self, folded: bool) -> None:
        self._folded = folded
        self.display = self._channel and not folded

    def show(self, buffer: Buffer) -> None:
        source = (buffer.members, buffer.roles)
        if buffer.kind != "channel":
            members: tuple[tuple[str, str], ...] = ()
        elif all(now is then for now, then in zip(source, self._ordered_from, strict=True)):
            members = self._members
        else:
            members = marked_members(buffer)
        self._ordered_from = source
        self._channel = buffer.kind == "channel"
        self.display = self._channel and not self._folded
        if members != self._members:
            self._members = members
            self.refresh()  # a fixed-size panel: its content never changes the layout

    def render(self) -> Text:
        dark = self.app.current_theme.dark
        text = Text(f"{len(self._members)} here\n", style="bold", no_wrap=True)
        marked = any(mark for mark, _ in self._members)
        shown = self._members
        rows = max(1, self.size.height - 1)  # below the count; the panel does not scroll
        if len(shown) > rows:  # a big channel: the strongest roles first, then how many more
            shown = shown[: rows - 1]
        for mark, name in shown:
            if marked:  # a column of marks only where roles are known (a moderation node)
                text.append(mark or " ", style="bold")
            text.append(f"{name}\n", style=nick_colour(name, dark=dark))
        if len(shown) < len(self._members):
            text.append(f"+{len(self._members) - len(shown)} more", style="italic")
        text.rstrip()
        return text


def marked_members(buffer: Buffer) -> tuple[tuple[str, str], ...]:
    """(mark, name) of each member, owner first, then operators, voiced, everyone else."""
    roles = {name.casefold(): role for name, role in buffer.roles.items()}
    ordered = sorted(
        buffer.members, key=lambda name: member_sort_key(name, roles.get(name.casefold()))
    )
    return tuple((role_mark(roles.get(name.casefold())), name) for name in ordered)
