"""The input line: history on up/down and tab completion of nicks, channels and commands.

Every key the line binds runs in the line's own queue, in order with the characters typed
around it (``OrderedInput``): Enter takes the text and empties the line at once, so a burst
of ``k Enter thx Enter`` sends "k" and then "thx", never a merged or repeated line. The keys
that switch buffers live here too, so that a switch and a line keep their order on the way
to the app (both bubble up the same path).

Lifecycle gestures (ArTP/1.1 §14.9-14.12) live here too, for the same reason: Alt+Up/Down
(or Ctrl+Up/Down) moves a selection over the log's messages, and then ``r`` replies, ``e``
edits, ``d`` deletes (``y`` confirms), ``+`` reacts and Enter jumps to the quoted message; Up
on an empty line edits the user's last message. Each gesture sets the line's ``Compose``
(shown in its border; Escape drops it) in the line's own queue, so ``e`` then ``fixed Enter``
typed in one burst edits with "fixed", and Enter carries the ``Compose`` to the app.

Pasting the path of an image file (what terminals paste when a file is dropped on them)
posts ``ImagePasted`` instead of inserting the text, so that the app sends the image. A
pasted text of several lines is kept whole: each line break shows as ``LINE_BREAK`` and
Enter sends the text as one message of several lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from textual import events
from textual.binding import Binding
from textual.message import Message

from aronanet.client.state import Line
from aronanet.tui.widgets.ordered_input import OrderedInput

#: Returns the words tab may complete to: (nicks, channels, commands).
Vocabulary = Callable[[], tuple[list[str], list[str], list[str]]]
HISTORY_SIZE = 500
#: How a line break of a pasted text shows in the one-line input; Enter sends a real one.
LINE_BREAK = "↵"
#: Alt+1 .. Alt+9 jump to the buffer numbered so in the sidebar, Alt+0 to the tenth.
JUMP_KEYS = [
    *(Binding(f"alt+{n}", f"jump({n})", show=False) for n in range(1, 10)),
    Binding("alt+0", "jump(10)", show=False),
]
#: The buffer keys of the footer and ``/help`` (Ctrl+P is Textual's command palette).
NEXT_BUFFER_KEY, PREVIOUS_BUFFER_KEY = "ctrl+n", "ctrl+b"


#: The keys that move the selection over the log's messages (Alt+Up/Down as in gomuks;
#: Ctrl+Up/Down for terminals whose Alt+arrow the window manager takes).
SELECT_KEYS = {"alt+up": -1, "ctrl+up": -1, "alt+down": 1, "ctrl+down": 1}
#: In the selection: what each key does to the selected message.
SELECTION_GESTURES = {"r": "reply", "e": "edit", "d": "delete", "plus": "react", "+": "react"}

#: The input line's border while a message is selected: what the keys do.
SELECTING_LABEL = "r reply · e edit · d delete · + react · ⏎ quote"

ComposeKind = Literal["reply", "edit", "react", "delete"]


@dataclass(frozen=True, slots=True)
class Compose:
    """What Enter does with the line, besides sending it: reply to, edit, react on or
    confirm deleting the message ``msg_id``; ``label`` shows in the line's border."""

    kind: ComposeKind
    msg_id: str
    label: str


class MessagePicker(Protocol):
    """The log's messages as the input line selects them (implemented by the chat screen)."""

    def move(self, step: int) -> Line | None: ...
    def selected(self) -> Line | None: ...
    def clear(self) -> None: ...
    def last_own(self) -> Line | None: ...
    def mine(self, line: Line) -> bool: ...


def compose_for(kind: ComposeKind, line: Line) -> Compose:
    """The ``Compose`` of a gesture on ``line``, with the words its border shows."""
    first = (line.text.split("\n", 1)[0] or "an image")[:60]
    labels = {
        "reply": f"↳ replying to {line.sender}: {first} · Esc cancels",
        "edit": "✎ editing your message · Enter saves, Esc cancels",
        "react": f"react to {line.sender}: {first} · an emoji, then Enter",
        "delete": f"delete “{first}”? y deletes, n or Esc keeps it",
    }
    return Compose(kind, line.id, labels[kind])


@dataclass
class _Completion:
    """An ongoing tab cycle: the text around the word and the candidates."""

    before: str
    after: str
    suffix: str
    candidates: list[str]
    index: int = 0


def candidates_for(word: str, at_start: bool, vocabulary: tuple[list[str], ...]) -> list[str]:
    """Words ``word`` can become: commands first on the line, channels for #, else nicks."""
    nicks, channels, commands = vocabulary
    if word.startswith("/") and at_start:
        pool = commands
    elif word.startswith("#"):
        pool = channels
    else:
        pool = nicks
    folded = word.casefold()
    return sorted((c for c in pool if c.casefold().startswith(folded)), key=str.casefold)


def pasted_lines(text: str) -> list[str]:
    """The lines of a pasted text, any line ending, without the final empty one."""
    return text.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n").split("\n")


class ChatInput(OrderedInput):
    class Entered(Message):
        """Enter: send ``line`` (already taken out of the input line), as ``compose`` says
        (None: a plain line or command)."""

        def __init__(self, line: str, compose: Compose | None = None) -> None:
            super().__init__()
            self.line = line
            self.compose = compose

    class JumpToQuote(Message):
        """Enter on a selected reply: show the message ``msg_id`` it answers, in context."""

        def __init__(self, msg_id: str) -> None:
            super().__init__()
            self.msg_id = msg_id

    class Refused(Message):
        """A gesture that cannot apply (edit someone else's message): Arona says why."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Jump(Message):
        """Alt+N: show the buffer numbered ``number`` in the sidebar (1 is the first)."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    class Cycle(Message):
        """Ctrl+N / Ctrl+B: the next (+1) or previous (-1) buffer in sidebar order."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class LinesPasted(Message):
        """A paste of ``count`` lines is in the input line, to be sent as one message."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class ImagePasted(Message):
        """The user pasted the path of an image file: send it (``/img``)."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    BINDINGS = [  # noqa: RUF012 - Textual's own convention
        Binding("tab", "complete", "Complete", show=False),
        Binding("up", "history(-1)", "Previous line", show=False),
        Binding("down", "history(1)", "Next line", show=False),
        Binding("ctrl+j", "submit", "Send", show=False),  # a line feed: Enter to a terminal
        Binding(NEXT_BUFFER_KEY, "cycle(1)", "Next buffer"),
        Binding(PREVIOUS_BUFFER_KEY, "cycle(-1)", "Prev buffer"),
        *JUMP_KEYS,
    ]

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        picker: MessagePicker | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(placeholder="Talk to Arona… (/help lists commands)", id=id)
        self._vocabulary = vocabulary
        self.picker = picker
        self.composing: Compose | None = None
        self.selecting = False
        self._history: list[str] = []
        self._position = 0  # len(_history) means the draft line
        self._draft = ""
        self._completion: _Completion | None = None

    def _on_paste(self, event: events.Paste) -> None:
        from aronanet.tui.uploads import pasted_image_path  # the input stays import-light

        path = pasted_image_path(event.text) if not self.value.strip() else None
        lines = pasted_lines(event.text)
        if path is None and len(lines) == 1:
            return  # Textual runs Input's own handler next: the text is typed
        event.stop()
        event.prevent_default()  # and Input's handler (which keeps the first line) is skipped
        if path is not None:
            self.post_message(self.ImagePasted(path))
            return
        start, end = sorted(self.selection)
        self.replace(LINE_BREAK.join(lines), start, end)
        self.post_message(self.LinesPasted(len(lines)))

    async def action_submit(self) -> None:
        """Take the line and empty the input now, before the next key (already queued)."""
        line = self.value
        compose = self.composing
        self.value = ""
        if compose is None or compose.kind == "reply":
            self.remember(line)
        self.set_compose(None)
        self._completion = None
        self.post_message(self.Entered(line.replace(LINE_BREAK, "\n"), compose))

    # ------------------------------------------------------------------- gestures

    def set_compose(self, compose: Compose | None, text: str | None = None) -> None:
        """Enter now replies / edits / reacts / confirms (None: plain); ``text`` fills the
        line (an edit starts from the message's text)."""
        self.composing = compose
        self.border_title = compose.label if compose is not None else None
        self.set_class(compose is not None, "-composing")
        if text is not None:
            self.value = text
            self.cursor_position = len(text)

    def _leave_selection(self) -> None:
        if self.selecting:
            self.selecting = False
            self.set_class(False, "-selecting")
            self.border_title = None
        if self.picker is not None:
            self.picker.clear()

    def _start(self, kind: ComposeKind, line: Line) -> None:
        """A gesture on ``line``: the line's ``Compose`` (an edit also fills in its text)."""
        self._leave_selection()
        if kind == "edit" and self.picker is not None and not self.picker.mine(line):
            self.post_message(self.Refused("Sensei, only your own messages can be edited."))
            return
        if kind == "delete" and self.picker is not None and not self.picker.mine(line):
            self.post_message(self.Refused("Sensei, only your own messages can be deleted."))
            return
        prefix = "/me " if line.kind == "action" else ""
        text = prefix + line.text.replace("\n", LINE_BREAK) if kind == "edit" else ""
        self.set_compose(compose_for(kind, line), text)

    def drop_gesture(self) -> None:
        """Another buffer is shown: a selection or a gesture on this one's message ends
        (an edit's or reaction's text goes with it; a reply's draft stays, as a plain line)."""
        self._leave_selection()
        compose = self.composing
        if compose is not None:
            self.set_compose(None, "" if compose.kind in ("edit", "react") else None)

    def ask_delete(self, line: Line) -> None:
        """``/delete``: confirm first, in the line (y / n)."""
        self._start("delete", line)

    def start_edit(self, line: Line) -> None:
        """``/edit`` without text: the line holds the message's text to change."""
        self._start("edit", line)

    def _selection_key(self, key: str, character: str | None) -> bool:
        """A key while a message is selected; False when it ends the selection and should
        then do what it normally does."""
        picker = self.picker
        assert picker is not None
        selected = picker.selected()
        if key in ("up", "down") or key in SELECT_KEYS:
            picker.move(-1 if key.endswith("up") else 1)
            return True
        if key == "escape":
            self._leave_selection()
            return True
        gesture = SELECTION_GESTURES.get(key) or SELECTION_GESTURES.get(character or "")
        if selected is not None and gesture is not None:
            self._start(gesture, selected)  # type: ignore[arg-type]
            return True
        if selected is not None and key in ("enter", "j"):
            self._leave_selection()
            if selected.reply is not None:
                self.post_message(self.JumpToQuote(selected.reply.id))
            return True
        self._leave_selection()
        return False

    def _compose_key(self, key: str, character: str | None) -> bool:
        """Keys with a meaning of their own while composing: Escape drops the compose; a
        delete is confirmed with y (or Enter) and kept with anything else."""
        compose = self.composing
        assert compose is not None
        if key == "escape":
            self.set_compose(None, "" if compose.kind in ("edit", "react") else None)
            return True
        if compose.kind == "delete":
            self.set_compose(None)
            if character in ("y", "Y") or key == "enter":
                self.post_message(self.Entered("", compose))
            return True
        return False

    async def _on_key(self, event: events.Key) -> None:
        """Runs before ``OrderedInput``'s and ``Input``'s handlers (Textual calls each class's
        own ``_on_key`` down the MRO until one prevents the default): a gesture stops there."""
        if self.picker is not None and self._gesture(event):
            event.stop()
            event.prevent_default()

    def _gesture(self, event: events.Key) -> bool:
        """True when ``event`` was a lifecycle gesture (and is used up)."""
        assert self.picker is not None
        if self.selecting and self._selection_key(event.key, event.character):
            return True
        if self.composing is not None and self._compose_key(event.key, event.character):
            return True
        if event.key in SELECT_KEYS:
            self.selecting = True
            self.set_class(True, "-selecting")
            self.border_title = SELECTING_LABEL
            if self.picker.move(SELECT_KEYS[event.key]) is None:
                self._leave_selection()
            return True
        if event.key == "up" and not self.value and self.composing is None:
            own = self.picker.last_own()
            if own is not None:
                self._start("edit", own)
                return True
        return False

    def action_jump(self, number: int) -> None:
        self.post_message(self.Jump(number))

    def action_cycle(self, step: int) -> None:
        self.post_message(self.Cycle(step))

    def remember(self, line: str) -> None:
        """Add a submitted line to the history (no immediate duplicates)."""
        if line and (not self._history or self._history[-1] != line):
            self._history.append(line)
            del self._history[:-HISTORY_SIZE]
        self._position = len(self._history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self._history:
            return
        if self._position == len(self._history):
            self._draft = self.value
        self._position = max(0, min(len(self._history), self._position + step))
        line = (
            self._draft if self._position == len(self._history) else self._history[self._position]
        )
        self.value = line
        self.cursor_position = len(line)

    def action_complete(self) -> None:
        if self._completion is None or not self._continues(self._completion):
            self._completion = self._start_completion()
        else:
            self._completion.index = (self._completion.index + 1) % len(self._completion.candidates)
        if self._completion is not None:
            self._apply(self._completion)

    def _continues(self, completion: _Completion) -> bool:
        current = completion.candidates[completion.index] + completion.suffix
        return self.value == completion.before + current + completion.after

    def _start_completion(self) -> _Completion | None:
        head, tail = self.value[: self.cursor_position], self.value[self.cursor_position :]
        start = head.rfind(" ") + 1
        word = head[start:]
        if not word:
            return None
        at_start = start == 0
        candidates = candidates_for(word, at_start, self._vocabulary())
        if not candidates:
            self.app.bell()
            return None
        nick_at_start = at_start and not word.startswith(("/", "#"))
        suffix = ": " if nick_at_start else " "
        return _Completion(head[:start], tail, suffix, candidates)

    def _apply(self, completion: _Completion) -> None:
        word = completion.candidates[completion.index] + completion.suffix
        self.value = completion.before + word + completion.after
        self.cursor_position = len(completion.before + word)
