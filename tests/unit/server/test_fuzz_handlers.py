"""Runs the atheris campaign over the request handlers (fuzz/fuzz_handlers.py) briefly.

A real in-process node with its SQLite store gets the committed seed corpus
(fuzz/corpus/handlers) and then mutations of it; an ``ERROR INTERNAL``, an ERROR logged by
the node, a dropped session or a hang makes the target exit non-zero with the input.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from aronanet.proto.messages import Ping
from support.fuzzing import FUZZ_DIR, run_campaign

SEED_CORPUS = FUZZ_DIR / "corpus" / "handlers"
#: About 10 s on the shared 2-core CI machine (roughly 100 inputs per second).
RUNS = 1000


def test_the_seed_corpus_covers_every_request_type() -> None:
    text = "".join(path.read_text() for path in SEED_CORPUS.iterdir())
    for request_type in ("AUTH", "JOIN", "PART", "MSG", "HISTORY", "TOPIC", "LIST"):
        assert f'"type":"{request_type}"' in text, request_type
    for request_type in ("IMG_CHUNK", "IMG_STATUS", "IMG_GET", "PING", "PONG"):
        assert f'"type":"{request_type}"' in text, request_type


def test_fuzzing_the_request_handlers_on_a_real_node_finds_nothing(tmp_path: Path) -> None:
    run_campaign("fuzz_handlers.py", tmp_path, RUNS, seed_corpus=SEED_CORPUS)


def _harness_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(FUZZ_DIR))
    return importlib.import_module("fuzz_handlers")


def test_the_harness_reports_an_exception_escaping_a_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The campaign's oracle works: a handler that raises is a finding, not a silent pass."""
    harness = _harness_module(monkeypatch).Harness()

    async def broken(ctx: Any, request: Ping) -> None:
        raise RuntimeError("a bug in a handler")

    try:
        harness.run([b'{"type":"PING","id":"p1"}'])  # a clean input passes
        harness.node.handlers.register(Ping, broken)
        with pytest.raises(AssertionError, match=r"ERROR INTERNAL|handler_failed"):
            harness.run([b'{"type":"PING","id":"p2"}'])
    finally:
        harness.close()
