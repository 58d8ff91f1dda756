"""Publishing tokens: where they are read from, and that they never show."""

from __future__ import annotations

import pytest

from aronanet.discovery.errors import DiscoveryError
from aronanet.discovery.tokens import Secret, load_token, token_from_file


def test_a_secret_never_shows_its_value_in_repr_str_or_formatting():
    secret = Secret("ghp_abcdef")
    assert "ghp_abcdef" not in repr(secret) + str(secret) + f"{secret} {secret!r}"
    assert secret.bearer() == {"Authorization": "Bearer ghp_abcdef"}


def test_a_named_variable_is_read():
    token = load_token("MY_TOKEN", None, environ={"MY_TOKEN": " t0k3n \n"})
    assert token is not None and token.reveal() == "t0k3n"


def test_a_named_variable_that_is_unset_is_an_error_naming_it():
    with pytest.raises(DiscoveryError, match="MY_TOKEN is not set"):
        load_token("MY_TOKEN", None, environ={})


def test_the_fallback_variable_may_be_missing():
    assert load_token(None, None, fallback_env="GITHUB_TOKEN", environ={}) is None
    token = load_token(None, None, fallback_env="GITHUB_TOKEN", environ={"GITHUB_TOKEN": "g"})
    assert token is not None and token.reveal() == "g"


def test_a_private_token_file_is_read_first_line_only(tmp_path):
    path = tmp_path / "token"
    path.write_text("s3cret\nsecond line\n")
    path.chmod(0o600)
    assert token_from_file(path).reveal() == "s3cret"
    assert load_token("IGNORED", path, environ={}).reveal() == "s3cret"  # type: ignore[union-attr]


def test_a_token_file_others_can_read_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "token"
    path.write_text("s3cret\n")
    path.chmod(0o644)
    with pytest.raises(DiscoveryError, match=f"chmod 600 {path}") as caught:
        token_from_file(path)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_an_empty_token_file_is_refused(tmp_path, content):
    path = tmp_path / "token"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(DiscoveryError, match="is empty"):
        token_from_file(path)


def test_a_missing_token_file_is_a_discovery_error(tmp_path):
    with pytest.raises(DiscoveryError, match="cannot read token file"):
        token_from_file(tmp_path / "absent")
