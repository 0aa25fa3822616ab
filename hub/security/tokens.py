"""Short-lived JWT access tokens (HS256 only) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from hub.domain.errors import Unauthenticated

ALGORITHM = "HS256"
# Access tokens whose signature this process has verified, kept so that an app's next
# request with the same token costs a dictionary look-up instead of a decode and an HMAC
# (about a tenth of a resident read's CPU). Emptied when full.
VERIFIED_MAX = 10_000


@dataclass(frozen=True)
class AccessClaims:
    account_id: int
    session_id: str


class TokenIssuer:
    def __init__(self, secret: str, access_ttl: timedelta) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self._verified: dict[str, tuple[AccessClaims, float]] = {}

    def access_token(self, account_id: int, session_id: str, at: datetime) -> str:
        claims = {"sub": str(account_id), "sid": session_id, "iat": at,
                  "exp": at + self.access_ttl, "typ": "access"}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read_access_token(self, token: str) -> AccessClaims:
        """The claims of a valid access token; Unauthenticated for any other."""
        known = self._verified.get(token)
        if known is None:
            return self._verify(token)
        claims, expires = known
        # The same bytes under the same secret verify the same way; only time changes the
        # answer, checked as PyJWT checks it (expired from `exp` on, no leeway).
        if datetime.now(UTC).timestamp() >= expires:
            self._verified.pop(token, None)
            raise Unauthenticated("access token expired")
        return claims

    def _verify(self, token: str) -> AccessClaims:
        # The algorithm list is fixed: a token signed otherwise, or `alg: none`, is refused.
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM],
                                options={"require": ["exp", "sub", "sid"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("access token expired") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("access token invalid") from None
        if claims.get("typ") != "access":
            raise Unauthenticated("not an access token")
        try:
            verified = AccessClaims(int(claims["sub"]), str(claims["sid"]))
            expires = float(claims["exp"])
        except (TypeError, ValueError):
            raise Unauthenticated("access token invalid") from None
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = (verified, expires)
        return verified


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    # Refresh tokens are 256 random bits, so a plain hash (no salt, no stretching) suffices.
    return hashlib.sha256(token.encode()).hexdigest()
