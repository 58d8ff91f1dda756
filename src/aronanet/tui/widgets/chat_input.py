"""The input line: history on up/down and tab completion of nicks, channels and commands.

Pasting the path of an image file (what terminals paste when a file is dropped on them)
posts ``ImagePasted`` instead of inserting the text, so that the app sends the image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

#: Returns the words tab may complete to: (nicks, channels, commands).
Vocabulary = Callable[[], tuple[list[str], list[str], list[str]]]
HISTORY_SIZE = 500


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


class ChatInput(Input):
    class ImagePasted(Message):
        """The user pasted the path of an image file: send it (``/img``)."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    BINDINGS = [  # noqa: RUF012 - Textual's own convention
        Binding("tab", "complete", "Complete", show=False, priority=True),
        Binding("up", "history(-1)", "Previous line", show=False),
        Binding("down", "history(1)", "Next line", show=False),
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
        if path is None:
            return  # Textual runs Input's own handler next: the text is typed
        event.stop()
        event.prevent_default()  # and Input's handler is skipped
        self.post_message(self.ImagePasted(path))

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
