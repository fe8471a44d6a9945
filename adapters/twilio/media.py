"""Customers' media on Twilio: ``MediaUrl0`` is fetched with the account's Basic auth.

There is no lookup step: the webhook's URL is the media's id and stays valid until the
media is deleted at Twilio. Twilio answers it with a redirect to a pre-signed URL on its
CDN; httpx drops the credentials on a redirect to another origin, as it should. The
credentials are sent only to one of the account's media resources on the configured API
origin (``…/Messages/MM…/Media/ME…``), never to a URL elsewhere, even one that arrived in a
signed webhook: not to another host, and not to another resource of the account's API
(dot segments after the media's path would reach its message list).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from adapters.whatsapp.media import CloudMediaIn
from bot.errors import ProviderError
from bot.media.inbound import MediaInfo
from bot.media.spool import Spool, SpooledFile

_MEDIA_RESOURCE = re.compile(r"Messages/[A-Za-z0-9]{2,64}/Media/[A-Za-z0-9]{2,64}")
"""A media resource's path under the account's: two sids, no dot segments, no query."""


class TwilioMediaIn:
    """:class:`bot.media.inbound.CustomerMediaSource` for Twilio's media URLs."""

    def __init__(
        self,
        client: Callable[[], httpx.AsyncClient],
        api_base: str,
        account_path: str,
        headers: Mapping[str, str],
    ):
        """``client`` answers the provider's client when a download needs it
        (``bot.http_client``); ``account_path``: ``/2010-04-01/Accounts/{AccountSid}/``,
        under which the account's media URLs lie."""
        self._origin = _origin(api_base)
        self._prefix = api_base.rstrip("/") + account_path
        # The streamed, capped download is the Cloud path's; only the credentials differ.
        self._download = CloudMediaIn(client, api_base, headers)

    def holds(self, reference: str) -> bool:
        """Whether a media reference is this account's (``bot.providers`` routes by it):
        Twilio's media URLs lie under the account's path on the API host."""
        return reference.startswith(self._prefix)

    async def lookup(self, media_id: str) -> MediaInfo:
        """The id is the URL itself; the type comes from the webhook's ``MediaContentType0``."""
        return MediaInfo(url=media_id, mime_type="")

    async def download(self, info: MediaInfo, spool: Spool, *, cap: int) -> SpooledFile:
        if _origin(info.url) != self._origin:
            raise ProviderError(
                "media URL is not on the Twilio API's host; credentials not sent",
                retryable=False,
            )
        if not (
            self.holds(info.url) and _MEDIA_RESOURCE.fullmatch(info.url.removeprefix(self._prefix))
        ):
            raise ProviderError(
                "media URL is not one of the account's media resources; credentials not sent",
                retryable=False,
            )
        return await self._download.download(info, spool, cap=cap)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()
