"""Every document the code points a reader to is in the repository, heading included.

A docstring that says 'see ARCHITECTURE.md "The hot path"' is only help if a stranger's
clone has that file and that section: the code once pointed at a design note that lived
outside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: ``NAME.md`` (upper-case names: the project's documents), maybe with ``"Heading"`` after it.
REFERENCE = re.compile(r'(?:(?<=[\s(`"])|^)((?:[\w-]+/)*[A-Z][A-Z-]*\.md)(?: "([^"]+)")?')
HEADING = re.compile(r"^#{1,4} +(.+?) *$", re.MULTILINE)


def references_in(text: str) -> list[tuple[str, str | None]]:
    """Each (document, heading or None) that ``text`` refers to."""
    return [(match[1], match[2]) for match in REFERENCE.finditer(text)]


def document(name: str) -> Path | None:
    """The file a reference means: its path from the root, or a bare name under docs/."""
    for candidate in (ROOT / name, ROOT / "docs" / name):
        if candidate.is_file():
            return candidate
    return None


def test_the_reference_pattern_finds_documents_and_their_headings() -> None:
    text = 'Group commit (docs/ARCHITECTURE.md "The hot path"): see PROTOCOL.md and README.md.'
    assert references_in(text) == [
        ("docs/ARCHITECTURE.md", "The hot path"),
        ("PROTOCOL.md", None),
        ("README.md", None),
    ]
    assert references_in("a file named notes.md or mobile/README.md") == [
        ("mobile/README.md", None)
    ]


def test_every_document_the_code_names_exists_with_its_heading() -> None:
    sources = [*ROOT.glob("src/aronanet/**/*.py"), *ROOT.glob("bench/**/*.py")]
    assert len(sources) > 100
    missing = []
    for source in sources:
        for name, heading in references_in(source.read_text(encoding="utf-8")):
            found = document(name)
            if found is None:
                missing.append(f"{source.relative_to(ROOT)}: {name}")
            elif heading is not None and heading not in HEADING.findall(found.read_text()):
                missing.append(f'{source.relative_to(ROOT)}: {name} "{heading}"')
    assert missing == []
