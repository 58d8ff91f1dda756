"""The mention rule agrees with the shared cases that the TypeScript client is tested on too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aronanet.proto.mentions import mentions

_VECTORS = Path(__file__).parents[2] / "vectors" / "mentions.json"
_CASES = json.loads(_VECTORS.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", _CASES, ids=[f"{c['content']!r}-{c['name']}" for c in _CASES])
def test_mentions_agrees_with_the_shared_cases(case: dict[str, object]) -> None:
    assert mentions(str(case["content"]), str(case["name"])) is case["mentions"]
