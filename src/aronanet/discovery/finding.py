"""Find a node: turn what a user was given (a gist id, a gist URL, a record URL) into a record.

``aronanet discover SOURCE`` accepts:

* a gist id (``3f2a...``) or a gist page URL (``https://gist.github.com/USER/ID``): read
  through GitHub's API (``GET /gists/ID``), no token needed;
* any other ``http(s)://`` URL, raw gist URLs included: fetched as the record itself.
"""

from __future__ import annotations

from aronanet.discovery.errors import DiscoveryError
from aronanet.discovery.gist import fetch_gist_record, gist_id_from
from aronanet.discovery.record import NodeRecord
from aronanet.discovery.settings import DEFAULT_GITHUB_API
from aronanet.discovery.tokens import Secret
from aronanet.discovery.url import fetch_url_record


async def find_record(
    source: str,
    *,
    github_api: str = DEFAULT_GITHUB_API,
    token: Secret | None = None,
) -> NodeRecord:
    """The record ``source`` points at; raises ``DiscoveryError`` (or ``RecordError``)."""
    gist_id = gist_id_from(source)
    if gist_id is not None:
        return await fetch_gist_record(gist_id, api=github_api, token=token)
    if source.strip().lower().startswith(("http://", "https://")):
        return await fetch_url_record(source.strip(), token=token)
    raise DiscoveryError(
        f"{source!r} is neither a gist id, a gist URL nor an http(s) URL of a node record"
    )
