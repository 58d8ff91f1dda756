"""ArTP/1.1 §14.15 search: what a word is, how a query reads, and where it matched (sans-I/O).

One definition of a *word*, used everywhere a search touches text, so that both stores, the
marks sent to clients and the tests' brute-force oracle agree:

* A word is a maximal run of letters, digits, private-use characters and combining marks
  (Unicode categories L*, N*, Co, M*). Everything else separates words: spaces,
  punctuation, symbols, emoji (also the emoji SQLite's older Unicode tables do not know: see
  ``SEPARATOR_RANGES``).
* Words compare folded: lower case, and a Latin letter with diacritics counts as its ASCII
  letter (``É`` and ``e\\u0301`` are ``e``; ``ł``, ``ø``, ``ß``, Hangul, Arabic stay what they
  are). This is exactly SQLite FTS5's ``unicode61 remove_diacritics 2`` folding, which the
  SQLite store indexes with; ``tokenize`` mirrors it so the PostgreSQL store (which indexes
  ``tsvector`` values built here) and the marks find the same words.

A query is words separated by spaces, all required (AND); ``"a phrase"`` needs its words
next to each other; ``word*`` matches words starting with ``word``. A query word that holds
punctuation (``e-mail``, ``don't``) is the phrase of its words. Nothing else has a meaning:
FTS operators (``OR``, ``NOT``, ``NEAR``, ``col:``, ``^``) are plain words, and the store
query is built from quoted folded words only, never from the query's text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

#: §14.15: a query is 1-256 characters.
MAX_QUERY_CHARS: Final = 256
#: A prefix needs this many characters before ``*`` (a one-letter prefix would read a large
#: part of the index; the stores keep prefix indexes of 2 and 3 characters).
MIN_PREFIX_CHARS: Final = 2
#: PostgreSQL refuses a lexeme of more than 2047 bytes. Longer words are cut (every query
#: word is at most 256 characters, so a cut word can still match prefixes only, as in SQLite).
MAX_LEXEME_BYTES: Final = 2047
#: PostgreSQL positions stop at 16383; a message of at most 4000 characters has fewer words.
MAX_POSITION: Final = 16383

#: Blocks of symbols and emoji that separate words. SQLite's FTS5 tables date from Unicode
#: 6.1, where most emoji were unassigned (and unassigned code points are word characters):
#: "thanks🙏" would be one word. The SQLite store lists these as extra ``separators`` of its
#: tokenizer, and ``tokenize`` treats them as separators too. No letter or digit is in them.
SEPARATOR_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x2190, 0x21FF),  # arrows
    (0x2300, 0x23FF),  # miscellaneous technical (⌚ ⏰ ⏳ ...)
    (0x2500, 0x27BF),  # box drawing, shapes, miscellaneous symbols, dingbats (☀ ✅ ❤ ...)
    (0x2900, 0x297F),  # supplemental arrows-B
    (0x2B00, 0x2BFF),  # miscellaneous symbols and arrows (⭐ ⬆ ...)
    (0x1F000, 0x1F0FF),  # mahjong, domino, playing cards
    (0x1F10D, 0x1F1FF),  # enclosed alphanumeric supplement: symbols, regional indicators
    (0x1F200, 0x1FBEF),  # enclosed ideographic supplement ... symbols for legacy computing
)

#: SQLite's tokenizer, as the SQLite store creates its index (``SEPARATORS`` quoted in).
_SEPARATOR_CHARS: Final = "".join(
    chr(code) for first, last in SEPARATOR_RANGES for code in range(first, last + 1)
)
SQLITE_TOKENIZE: Final = (
    "'unicode61 remove_diacritics 2 categories ''L* N* Co M*'' separators ''"
    + _SEPARATOR_CHARS
    + "'''"
)

#: The combining diacritical marks SQLite drops from words (``e\\u0301`` is ``e``); it keeps
#: the other marks as word characters.
_DIACRITICS: Final = frozenset(
    [*range(0x300, 0x305), *range(0x306, 0x30D), 0x30F, 0x311, 0x31B, *range(0x323, 0x329)]
).union((0x32D, 0x32E, 0x330, 0x331))
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_ASCII_SEPARATOR = re.compile(r"[^A-Za-z0-9]")


class QueryError(ValueError):
    """A query that cannot be searched; the text completes ``invalid query: ...``."""


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a text: its folded form and where it is, in code points of the text."""

    text: str
    start: int
    length: int


@dataclass(frozen=True, slots=True)
class Term:
    """What one query term requires: ``words`` next to each other (one word: anywhere), the
    last of them only as a prefix when ``prefix``."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed query: every term must match (AND)."""

    terms: tuple[Term, ...]


# ---------------------------------------------------------------- words


def _in_separator_ranges(code: int) -> bool:
    return any(first <= code <= last for first, last in SEPARATOR_RANGES)


@lru_cache(maxsize=65536)
def _fold_char(char: str) -> str | None:
    """The folded form of a word character (``""`` for a dropped diacritic), or None if
    ``char`` separates words."""
    code = ord(char)
    if code in _DIACRITICS:
        return ""
    category = unicodedata.category(char)
    if category[0] not in "LNMC" or _in_separator_ranges(code):
        return None
    if category[0] == "C" and category not in ("Co", "Cn"):
        return None  # controls, format characters (ZWJ), surrogates
    decomposed = unicodedata.normalize("NFD", char)
    base = decomposed[0]
    if base.isascii() and base.isalpha() and all(unicodedata.combining(c) for c in decomposed[1:]):
        return base.lower()
    for folded in (char.casefold(), char.lower()):  # case folding (µ is μ), unless it grows
        if len(folded) == 1:
            return folded
    return char


def tokenize(text: str) -> list[Word]:
    """The words of ``text`` in order, folded, with their place in ``text``."""
    if text.isascii():
        return [
            Word(match.group().lower(), match.start(), match.end() - match.start())
            for match in _ASCII_WORD.finditer(text)
        ]
    words: list[Word] = []
    start = -1
    folded: list[str] = []
    for index, char in enumerate(text):
        fold = _fold_char(char)
        if fold is None:
            if start >= 0:
                _close(words, folded, start, index)
                start, folded = -1, []
            continue
        if start < 0:
            start = index
        folded.append(fold)
    if start >= 0:
        _close(words, folded, start, len(text))
    return words


def _close(words: list[Word], folded: list[str], start: int, end: int) -> None:
    text = "".join(folded)
    if text:  # a run of dropped diacritics alone is no word
        words.append(Word(text, start, end - start))


def has_separator(text: str) -> bool:
    """Whether ``text`` (one whitespace-free query word) holds more than one word."""
    return len(tokenize(text)) > 1 or (text.isascii() and bool(_ASCII_SEPARATOR.search(text)))


# ---------------------------------------------------------------- queries

#: A quoted phrase (its closing quote may be missing at the end), with a ``*`` right after
#: it; or a bare query word, up to a space or a quote.
_QUOTED_OR_BARE = re.compile(r'"([^"]*)"?(\*?)|([^\s"]+)')


def parse_query(text: str) -> SearchQuery:
    """The terms of ``text``; ``QueryError`` for an empty, too long or wordless query."""
    if not text.strip():
        raise QueryError("the query is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query has {len(text)} characters, more than the {MAX_QUERY_CHARS} allowed"
        )
    terms: list[Term] = []
    for match in _QUOTED_OR_BARE.finditer(text):
        phrase, star, bare = match.groups()
        term = _term(phrase + star if phrase is not None else bare)
        if term is not None and term not in terms:
            terms.append(term)
    if not terms:
        raise QueryError("no word to search for (punctuation and symbols are ignored)")
    return SearchQuery(tuple(terms))


def _term(text: str) -> Term | None:
    """One term: a quoted phrase or a bare query word, with a trailing ``*`` as a prefix."""
    stripped = text.rstrip()
    prefix = stripped.endswith("*")
    words = tuple(word.text for word in tokenize(stripped))
    if not words:
        return None
    if prefix and not stripped.rstrip("*")[-1:].isspace():
        last = tokenize(stripped.rstrip("*"))
        # "foo*" is a prefix of its last word only if the * follows that word directly.
        prefix = bool(last) and last[-1].start + last[-1].length == len(stripped.rstrip("*"))
    else:
        prefix = False
    if prefix and len(words[-1]) < MIN_PREFIX_CHARS:
        raise QueryError(
            f"a prefix needs at least {MIN_PREFIX_CHARS} letters or digits before the *"
        )
    return Term(words, prefix)


def fts5_expression(query: SearchQuery, column: str) -> str:
    """The query as an SQLite FTS5 expression on ``column``, from quoted words only."""
    parts = []
    for term in query.terms:
        quoted = '"' + " ".join(term.words).replace('"', '""') + '"'
        parts.append(quoted + (" *" if term.prefix else ""))
    return f"{column} : ({' AND '.join(parts)})"


def fts5_any(tokens: list[str], column: str) -> str:
    """``column`` holds any of ``tokens`` (each one word of letters and digits)."""
    quoted = ('"' + token.replace('"', '""') + '"' for token in tokens)
    return f"{column} : ({' OR '.join(quoted)})"


def tsquery(query: SearchQuery) -> str:
    """The query as a PostgreSQL ``tsquery`` literal (to cast, never parsed as words)."""
    parts = []
    for term in query.terms:
        lexemes = [_lexeme(word) for word in term.words]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def tsvector(text: str) -> str:
    """The words of ``text`` as a PostgreSQL ``tsvector`` literal, with their positions."""
    positions: dict[str, list[int]] = {}
    for position, word in enumerate(tokenize(text), start=1):
        positions.setdefault(word.text, []).append(min(position, MAX_POSITION))
    return " ".join(
        f"{_lexeme(word)}:{','.join(map(str, sorted(set(places))))}"
        for word, places in positions.items()
    )


def _lexeme(word: str) -> str:
    raw = word.encode()
    if len(raw) > MAX_LEXEME_BYTES:
        word = raw[:MAX_LEXEME_BYTES].decode(errors="ignore")
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


# ---------------------------------------------------------------- matching and marks


def _occurrences(term: Term, words: list[Word]) -> list[int]:
    """Indexes of ``words`` where ``term`` starts."""
    wanted = term.words
    count = len(wanted)
    found = []
    for index in range(len(words) - count + 1):
        if all(
            _same(words[index + k].text, wanted[k], term.prefix and k == count - 1)
            for k in range(count)
        ):
            found.append(index)
    return found


def _same(word: str, wanted: str, prefix: bool) -> bool:
    return word.startswith(wanted) if prefix else word == wanted


def matches(query: SearchQuery, text: str) -> bool:
    """Whether ``text`` matches every term of ``query`` (the stores' answer, in Python)."""
    words = tokenize(text)
    return all(_occurrences(term, words) for term in query.terms)


def marks(query: SearchQuery, text: str) -> list[list[int]]:
    """§14.15 ``marks``: ``[start, length]`` of every word of ``text`` a term matched, in
    code points, in order."""
    words = tokenize(text)
    marked: set[int] = set()
    for term in query.terms:
        for index in _occurrences(term, words):
            marked.update(range(index, index + len(term.words)))
    return [[words[index].start, words[index].length] for index in sorted(marked)]
