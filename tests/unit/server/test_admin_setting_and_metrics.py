"""``--admin-listen`` / ``[admin]`` and the histogram of ``/metrics``."""

from __future__ import annotations

from pathlib import Path

import pytest

from aronanet.cli import build_parser
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.metrics import Histogram
from aronanet.server.settings import NodeSettings, SettingsError, from_mapping


def test_the_admin_listener_is_off_by_default() -> None:
    assert NodeSettings().admin.listen is None


def test_the_flag_sets_the_address_and_the_file_the_bounds(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('[admin]\nlisten = "127.0.0.1:1"\nrequest_timeout = 2.5\n')
    argv = ["serve", "--config", str(config), "--admin-listen", "[::1]:9101"]
    admin = settings_from_args(build_parser(argv).parse_args(argv)).admin
    assert (admin.host, admin.port, admin.request_timeout) == ("::1", 9101, 2.5)


@pytest.mark.parametrize(
    ("value", "wording"),
    [
        ("9101", "--admin-listen 9101: must be HOST:PORT"),
        ("127.0.0.1:65536", "the port must be from 0 to 65535"),
    ],
)
def test_a_bad_admin_address_is_refused_with_its_flag(value: str, wording: str) -> None:
    argv = ["serve", "--admin-listen", value]
    with pytest.raises(SettingsError, match=wording):
        settings_from_args(build_parser(argv).parse_args(argv))


def test_the_request_bound_has_a_floor() -> None:
    with pytest.raises(SettingsError, match=r"\[admin\] max_request_bytes = 255"):
        from_mapping({"admin": {"max_request_bytes": 255}})


def test_histogram_buckets_are_cumulative_and_bounds_inclusive() -> None:
    histogram = Histogram((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 2.0):
        histogram.observe(value)
    assert histogram.lines("x") == [
        'x_bucket{le="0.1"} 2',
        'x_bucket{le="1.0"} 3',
        'x_bucket{le="+Inf"} 4',
        "x_sum 2.65",
        "x_count 4",
    ]


def test_commit_latency_tells_a_fast_disks_flush_from_a_slow_ones() -> None:
    """A commit of 0.08 ms (NVMe) and one of 0.3 ms (a VM's disk) fall in different buckets."""
    histogram = Histogram()
    histogram.observe(0.00008)
    histogram.observe(0.0003)
    buckets = histogram.lines("c")
    assert 'c_bucket{le="0.0001"} 1' in buckets
    assert 'c_bucket{le="0.00025"} 1' in buckets
    assert 'c_bucket{le="0.0005"} 2' in buckets
