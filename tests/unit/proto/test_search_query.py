"""§14.15 words, queries and marks (``proto.search_query``), and that the words found in
Python are the words SQLite's FTS5 tokenizer (as the SQLite store configures it) finds."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest

from aronanet.proto.search_query import (
    MAX_QUERY_CHARS,
    SQLITE_TOKENIZE,
    QueryError,
    Term,
    marks,
    matches,
    parse_query,
    tokenize,
    tsquery,
    tsvector,
)


def words(text: str) -> list[str]:
    return [word.text for word in tokenize(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("Crème BRÛLÉE", ["creme", "brulee"]),
        ("e\u0301te\u0301", ["ete"]),  # decomposed accents fold like composed ones
        ("Łódź straße", ["łodz", "straße"]),  # no diacritic to remove: letters stay
        ("thanks🙏 nice🙂x", ["thanks", "nice", "x"]),  # emoji separate words
        ("don't e-mail me_now", ["don", "t", "e", "mail", "me", "now"]),
        ("한국어 日本語 Ελληνικά", ["한국어", "日本語", "ελληνικά"]),
        ("MICRO µ", ["micro", "μ"]),
        ("", []),
    ],
)
def test_words_are_runs_of_letters_and_digits_folded(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_word_places_are_code_points_of_the_original_text() -> None:
    text = "🙂🙂 Café e\u0301clair"
    found = tokenize(text)
    assert [(w.start, w.length) for w in found] == [(3, 4), (8, 7)]
    assert [text[w.start : w.start + w.length] for w in found] == ["Café", "e\u0301clair"]


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("hello world", [Term(("hello",)), Term(("world",))]),
        ('"new york" pizza', [Term(("new", "york")), Term(("pizza",))]),
        ("Réunion*", [Term(("reunion",), prefix=True)]),
        ('"new yo"*', [Term(("new", "yo"), prefix=True)]),
        ("e-mail", [Term(("e", "mail"))]),
        (
            "OR NOT NEAR(x) col:y ^z",
            [Term(("or",)), Term(("not",)), Term(("near", "x")), Term(("col", "y")), Term(("z",))],
        ),
        ('unterminated "phrase here', [Term(("unterminated",)), Term(("phrase", "here"))]),
        ("word word WORD", [Term(("word",))]),
        ("foo * bar", [Term(("foo",)), Term(("bar",))]),
    ],
)
def test_queries_read_as_documented(query: str, terms: list[Term]) -> None:
    assert list(parse_query(query).terms) == terms


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * (MAX_QUERY_CHARS + 1), "more than the 256"),
        ("!!! 🙂 -- *", "no word"),
        ("a*", "at least 2"),
    ],
)
def test_unsearchable_queries_say_why(query: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        parse_query(query)


def test_a_query_of_exactly_the_limit_is_searched() -> None:
    assert parse_query("x" * MAX_QUERY_CHARS).terms == (Term(("x" * MAX_QUERY_CHARS,)),)


def test_marks_cover_every_matched_word_in_code_points() -> None:
    query = parse_query('caf* "new york"')
    text = "🙂 Café in New-York, not new jersey; CAFETERIA"
    assert marks(query, text) == [[2, 4], [10, 3], [14, 4], [36, 9]]
    assert matches(query, text)
    assert not matches(parse_query('"york new"'), text)


def test_store_literals_quote_words_and_never_pass_operators() -> None:
    query = parse_query("it's O'Brien* café")
    assert tsquery(query) == "('it' <-> 's') & ('o' <-> 'brien':*) & ('cafe')"
    assert tsvector("Café café, ok") == "'cafe':1,2 'ok':3"
    assert tsvector("x" * 3000).startswith("'" + "x" * 2047 + "':1")


# ------------------------------------------------------------- agreement with SQLite FTS5

#: Blocks people write in; over these, Python's words are exactly SQLite's (the few
#: differences left are characters added to Unicode after 6.1, SQLite's tables).
BLOCKS = [
    (0x20, 0x24F),  # ASCII, Latin-1, Latin Extended-A and -B
    (0x300, 0x36F),  # combining diacritical marks
    (0x370, 0x3FF),  # Greek
    (0x400, 0x52F),  # Cyrillic
    (0x590, 0x6FF),  # Hebrew, Arabic
    (0x900, 0x97F),  # Devanagari
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x2BFF),  # punctuation, symbols, arrows, dingbats
    (0x3040, 0x30FF),  # kana
    (0x4E00, 0x4FFF),  # CJK (a part)
    (0xAC00, 0xAE00),  # Hangul (a part)
    (0xFF00, 0xFFEF),  # full-width forms
    (0x1F000, 0x1FAFF),  # emoji
]
SKIP = {0x1E0, 0x1E1, 0x37F, *range(0x528, 0x530), 0x58D, 0x58E, 0x605, 0x61C, 0x61D,
        *range(0x2066, 0x206A), *range(0x20BA, 0x20C1), 0x218A, 0x218B, *range(0x2E3C, 0x2E5E),
        0x1E9B, 0x1E9E, 0x2C2F, 0x2C5F}  # fmt: skip


def sqlite_words(texts: list[str]) -> list[list[str]]:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = {SQLITE_TOKENIZE})")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    conn.executemany("INSERT INTO t (rowid, x) VALUES (?, ?)", enumerate(texts, start=1))
    found: list[list[tuple[int, str]]] = [[] for _ in texts]
    for term, doc, offset in conn.execute("SELECT term, doc, offset FROM v"):
        found[doc - 1].append((offset, term))
    return [[term for _, term in sorted(row)] for row in found]


def test_python_words_are_sqlite_words_over_the_common_blocks() -> None:
    codes = [
        code
        for first, last in BLOCKS
        for code in range(first, last + 1)
        if code not in SKIP and unicodedata.category(chr(code)) != "Cn"
    ]
    texts = [f"q{chr(code)}q Q{chr(code)}" for code in codes]
    differ = [
        (hex(code), mine, theirs)
        for code, text, theirs in zip(codes, texts, sqlite_words(texts), strict=True)
        if (mine := words(text)) != theirs
    ]
    assert differ == []
