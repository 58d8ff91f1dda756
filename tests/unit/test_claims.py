"""What the project says about its encryption matches what the code does (issue 9, item 13).

ArTP encrypts each connection (Noise) and pins node keys, but the node decrypts, stores and
reads every message: calling that "end-to-end encrypted" misleads users about who can read
them. Every text a user reads (README, docs, the package description, the web and terminal
clients) may only mention end-to-end encryption to say that AronaNET does not have it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Where users read about AronaNET: docs, package metadata, the clients' own texts.
USER_TEXTS = ("README.md", "docs/*.md", "pyproject.toml", "mobile/README.md",
              "mobile/src/**/*.ts", "mobile/src/**/*.tsx", "mobile/app.json",
              "src/aronanet/**/*.py", "src/aronanet/**/*.tcss")  # fmt: skip
CLAIM = re.compile(r"end[- ]to[- ]end(?:[- ]encrypt\w*)?|\bE2EE?\b", re.IGNORECASE)
#: A mention is honest when it denies the claim: "not end-to-end", "no end-to-end".
DENIAL = re.compile(r"\b(?:not|no)\W+$", re.IGNORECASE)


def claims_in(text: str) -> list[str]:
    """Each mention of end-to-end encryption that does not deny it, with its context."""
    found = []
    for match in CLAIM.finditer(text):
        before = text[max(0, match.start() - 12) : match.start()]
        after = text[match.end() : match.end() + 12]
        if "encrypt" not in match.group(0).lower() + after.lower() and "E2E" not in match[0]:
            continue  # "upload end to end" (a benchmark's scope), not a claim about crypto
        if not DENIAL.search(before.replace("*", "")):
            found.append(text[max(0, match.start() - 40) : match.end() + 20])
    return found


def user_texts() -> list[Path]:
    return sorted({path for pattern in USER_TEXTS for path in ROOT.glob(pattern)})


def test_the_claim_detector_sees_the_old_wording_and_accepts_a_denial() -> None:
    assert claims_in("AronaNET is a self-hosted, end-to-end encrypted chat system")
    assert claims_in("messages are E2E encrypted")
    assert not claims_in("It is **not** end-to-end encrypted: the node reads every message")
    assert not claims_in("| upload end to end (`upload_image` → `OK`) |")


def test_no_text_claims_end_to_end_encryption() -> None:
    texts = user_texts()
    assert len(texts) > 50  # the globs still find the sources
    claims = {
        str(path.relative_to(ROOT)): found
        for path in texts
        if (found := claims_in(path.read_text(encoding="utf-8", errors="replace")))
    }
    assert claims == {}


def test_the_readme_says_what_the_encryption_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "encrypted in transit (Noise)" in readme and "pinned node keys" in readme
    assert "stores and can read every" in readme
