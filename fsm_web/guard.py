"""What stands between the customer's pages and the internet: CSRF tokens, rate limits and
the server's secret.

**CSRF** (a signed double submit): each browser gets a random ``fsm_csrf`` cookie
(HttpOnly, SameSite=Strict); every form carries ``csrf`` = HMAC-SHA256(secret, cookie).
A POST is taken only when the field is the HMAC of the cookie it came with: another
site can make a browser send the cookie, but neither read it nor compute its HMAC
without the server's secret. The secret is 32 random bytes in the data folder
(``web-secret``, mode 0600), made on first start.

**Rate limits**: fixed one-minute (or ten-minute) windows counted in memory per client
address (the proxy's ``X-Forwarded-For`` where uvicorn trusts it: from 127.0.0.1 by
default, ``FORWARDED_ALLOW_IPS`` otherwise) and per token. ``fsm serve`` is one process,
so the counts are whole; a restart forgets them, which only forgives.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

CSRF_COOKIE = "fsm_csrf"
SECRET_FILE = "web-secret"


def load_secret(folder: Path) -> bytes:
    """The server's secret from ``folder/web-secret``, made (0600) if missing."""
    path = folder / SECRET_FILE
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) >= 32:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return data[:64]
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
    return secret


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(16)


def csrf_field(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, cookie.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, cookie: str | None, field: str | None) -> bool:
    if not cookie or not field or len(cookie) > 64 or len(field) > 128:
        return False
    return hmac.compare_digest(csrf_field(secret, cookie), field)


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


LIMITS: dict[str, Limit] = {
    "page-ip": Limit(600, 60),  # pages a client address may open a minute
    "page-token": Limit(1200, 60),  # opens of one label or link a minute (a shared label)
    "post-ip": Limit(20, 60),  # forms a client address may send a minute
    "post-token": Limit(30, 60),  # forms sent to one label or link a minute
    "message-token": Limit(10, 600),  # chat messages to one order in ten minutes
}


class RateLimiter:
    """Counts per (kind, key) in fixed windows; :meth:`hit` says whether one more is
    allowed and how many seconds to wait otherwise."""

    def __init__(self, limits: dict[str, Limit] | None = None) -> None:
        self.limits = dict(limits or LIMITS)
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    def hit(self, kind: str, key: str, *, now: float | None = None) -> int:
        """Count one; 0 if allowed, else the seconds until the window ends."""
        limit = self.limits[kind]
        moment = time.monotonic() if now is None else now
        window = int(moment // limit.seconds)
        slot = (kind, key[:200])
        found = self._counts.get(slot)
        count = found[1] + 1 if found is not None and found[0] == window else 1
        self._counts[slot] = (window, count)
        if len(self._counts) > 100_000:
            self._sweep(moment)
        if count > limit.count:
            return max(1, int((window + 1) * limit.seconds - moment))
        return 0

    def _sweep(self, moment: float) -> None:
        self._counts = {
            slot: value
            for slot, value in self._counts.items()
            if value[0] == int(moment // self.limits[slot[0]].seconds)
        }
