"""The input line: history on up/down and tab completion of nicks, channels and commands.

Every key the line binds runs in the line's own queue, in order with the characters typed
around it (``OrderedInput``): Enter takes the text and empties the line at once, so a burst
of ``k Enter thx Enter`` sends "k" and then "thx", never a merged or repeated line. The keys
that switch buffers live here too, so that a switch and a line keep their order on the way
to the app (both bubble up the same path).

Pasting the path of an image file (what terminals paste when a file is dropped on them)
posts ``ImagePasted`` instead of inserting the text, so that the app sends the image. A
pasted text of several lines is kept whole: each line break shows as ``LINE_BREAK`` and
Enter sends the text as one message of several lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.message import Message

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
        """Enter: send ``line`` (already taken out of the input line)."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

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

    def __init__(self, vocabulary: Vocabulary, *, id: str | None = None) -> None:
        super().__init__(placeholder="Talk to Arona… (/help lists commands)", id=id)
        self._vocabulary = vocabulary
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
        self.value = ""
        self.remember(line)
        self._completion = None
        self.post_message(self.Entered(line.replace(LINE_BREAK, "\n")))

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
