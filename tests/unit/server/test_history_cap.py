"""HELLO's ``max_history`` must be a ``limit`` a client may send (issue 9, spec corrections).

The contract refuses a HISTORY ``limit`` over 200 (``INVALID``); a node that advertised
``max_history = 500`` invited requests it then refused. The cap is 200 at most.
"""

from __future__ import annotations

import pytest

from aronanet.config import HISTORY_LIMIT_MAX
from aronanet.server.assembly import build_hello
from aronanet.server.settings import SettingsError, from_mapping


def test_max_history_over_the_contracts_limit_is_refused_with_its_name() -> None:
    with pytest.raises(SettingsError, match="max_history"):
        from_mapping({"limits": {"max_history": HISTORY_LIMIT_MAX + 1}})
    with pytest.raises(SettingsError, match="max_history"):
        from_mapping({"limits": {"max_history": 0}})


def test_hello_advertises_the_configured_max_history_at_its_edges() -> None:
    for value in (1, HISTORY_LIMIT_MAX):
        settings = from_mapping({"limits": {"max_history": value}})
        assert build_hello(settings).limits.max_history == value
