"""Fetch an article URL safely: http(s) only, no private addresses (SSRF), bounded time, size and redirects.

Ingestion takes URLs from strangers (Discord members), so every hop of a redirect chain is resolved and checked
before it is requested. Tests that serve pages on 127.0.0.1 set `allow_private_urls`.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 5
TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown")


class FetchError(Exception):
    """A URL could not be turned into article bytes; the message is one line naming the reason."""


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str


# Cloud metadata endpoints hand out credentials: never fetched, even with private URLs allowed.
METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254", "100.100.100.200"})


def _check_address(host: str, port: int, allow_private: bool) -> None:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if str(addr) in METADATA_ADDRESSES:
            raise FetchError(f"refusing to fetch {host}: it is a cloud metadata address ({addr})")
        if allow_private:
            continue
        if (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
            or addr.is_unspecified
        ):
            raise FetchError(
                f"refusing to fetch {host}: it resolves to a private or local address ({addr});"
                " set NEWSDESK_ALLOW_PRIVATE_URLS=true to allow it"
            )


def check_url(url: str, allow_private: bool) -> None:
    """Raise FetchError unless `url` is http(s) and points at a public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be ingested, not {parts.scheme or 'a bare path'!r}")
    if not parts.hostname:
        raise FetchError("URL has no host")
    _check_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), allow_private)


def fetch_url(url: str, *, timeout_s: float, max_bytes: int, allow_private: bool) -> Fetched:
    """GET `url`, following up to MAX_REDIRECTS redirects, each checked; stop reading past `max_bytes`."""
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
    headers = {"User-Agent": "newsdesk/0.1 (+https://github.com/newsdesk)", "Accept": "text/html,text/plain;q=0.9"}
    current = url
    with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(current, allow_private)
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"redirect without a Location header ({response.status_code})")
                        current = urljoin(current, location)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
                    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if ctype and not ctype.startswith(TEXT_TYPES):
                        raise FetchError(f"unsupported content type {ctype} (expected an HTML or text page)")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise FetchError(f"page is larger than the {max_bytes:,}-byte limit")
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body.extend(piece)
                        if len(body) > max_bytes:
                            raise FetchError(f"page is larger than the {max_bytes:,}-byte limit")
                    return Fetched(url=current, content=bytes(body), content_type=ctype or "text/html")
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out after {timeout_s:g} s") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"could not fetch: {type(exc).__name__}: {exc}".strip()) from exc
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")
