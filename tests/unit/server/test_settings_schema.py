"""The configuration schema: every setting typed and ranged, every error one line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import msgspec
import pytest

from aronanet.config import Limits
from aronanet.server.settings import NodeSettings, SettingsError, describe, from_mapping


def numeric_fields(cls: type) -> list[msgspec.inspect.Field]:
    info = msgspec.inspect.type_info(cls)
    numbers = (msgspec.inspect.IntType, msgspec.inspect.FloatType)
    return [f for f in info.fields if isinstance(f.type, numbers)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("limit", numeric_fields(Limits), ids=lambda f: f.name)
def test_every_numeric_limit_has_a_lower_bound(limit: msgspec.inspect.Field) -> None:
    """A new limit declared as a plain ``int`` would let ``-5`` through and break every
    request; declare it with ``config.Positive`` (or another constrained type)."""
    assert limit.type.ge is not None or limit.type.gt is not None  # type: ignore[attr-defined]


def test_the_defaults_pass_the_schema() -> None:
    assert from_mapping({}) == NodeSettings()


def test_a_whole_file_converts_into_typed_settings() -> None:
    settings = from_mapping({
        "port": 0, "ws_port": "off", "registration": False, "log_level": "info",
        "uvloop": False, "data_dir": "~/arona", "ws_origins": ["https://a.example"],
        "limits": {"max_content": 100, "rate_messages_per_second": 2},
        "accounts": {"time_cost": 1, "memory_kib": 8, "parallelism": 1},
    })  # fmt: skip
    assert (settings.port, settings.ws_port, settings.registration_open) == (0, None, False)
    assert settings.log_level == "INFO" and not settings.use_uvloop
    assert settings.data_dir.is_absolute() and settings.data_dir.name == "arona"
    assert settings.ws_origins == ("https://a.example",)
    assert settings.limits.max_content == 100 and settings.limits.rate_messages_per_second == 2.0
    assert settings.hashing.parallelism == 1


@pytest.mark.parametrize(
    ("values", "message", "key"),
    [
        ({"limits": {"max_frame": 100}}, "[limits] max_frame = 100: must be an integer from 1024 "
         "to 65535", ("limits", "max_frame")),
        ({"login_throttle": {"burst": 0}}, "[login_throttle] burst = 0: must be an integer >= 1",
         ("login_throttle", "burst")),
        ({"accounts": {"parallelism": 4, "memory_kib": 16}},
         "[accounts]: memory_kib must be at least 8 x parallelism = 32", ("hashing",)),
        ({"publish": {"methd": "PUT"}},
         "unknown configuration key 'methd' in [publish] (did you mean method?)",
         ("publish", "methd")),
        ({"node_name": ""}, 'node_name = "": must be a string of 1 to 64 characters',
         ("node_name",)),
        ({"ws_origins": [1]}, "ws_origins = [1]: must be a list of strings", ("ws_origins",)),
        ({"broker": "amqp://u:secret@h/"}, "broker = \"amqp://u:***@h/\": must be 'local' or a "
         "redis:// URL", ("broker",)),
    ],
)  # fmt: skip
def test_errors_name_the_key_as_the_file_spells_it(values, message, key) -> None:
    with pytest.raises(SettingsError) as refused:
        from_mapping(values)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value.key == key


def test_ranges_are_described_in_words() -> None:
    info = {f.name: f.type for f in msgspec.inspect.type_info(Limits).fields}  # type: ignore[attr-defined]
    assert describe(info["max_frame"]) == "an integer from 1024 to 65535"
    assert describe(info["idle_ping_after"]) == "a number > 0"
    assert describe(info["rate_limit_enabled"]) == "true or false"


def test_the_readme_example_configuration_is_valid() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.DOTALL)
    assert example is not None
    settings = from_mapping(tomllib.loads(example.group(1)))
    assert settings.node_name == "arona" and not settings.registration_open
