"""Access tokens (HS256 JWT, typed, expiring) and Argon2id password hashes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from hub.domain.errors import Unauthenticated
from hub.security.passwords import hash_password, verify_password
from hub.security.tokens import (
    AccessClaims,
    TokenIssuer,
    new_refresh_token,
    refresh_token_hash,
)

SECRET = "lakeside-test-jwt-secret-" + "0123456789abcdef" * 3  # 64 bytes: enough for HS512 too
TTL = timedelta(minutes=15)


def now() -> datetime:
    # PyJWT checks `exp` and `iat` against the real clock, so tokens are issued around it.
    return datetime.now(UTC)


def issuer(secret: str = SECRET) -> TokenIssuer:
    return TokenIssuer(secret, TTL)


def test_access_token_round_trip() -> None:
    token = issuer().access_token(7, "session-1", now())
    assert issuer().read_access_token(token) == AccessClaims(account_id=7, session_id="session-1")


def test_expired_token_is_refused() -> None:
    token = issuer().access_token(7, "session-1", now() - TTL - timedelta(minutes=1))
    with pytest.raises(Unauthenticated, match="expired"):
        issuer().read_access_token(token)


def test_a_verified_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # The second read comes from the issuer's memory of verified tokens: it must still
    # see the token expire.
    reader = issuer()
    token = reader.access_token(7, "session-1", now())
    assert reader.read_access_token(token).account_id == 7

    class Later(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Later:  # type: ignore[override]
            return cls.fromtimestamp((datetime.now(UTC) + TTL).timestamp(), UTC)

    monkeypatch.setattr("hub.security.tokens.datetime", Later)
    with pytest.raises(Unauthenticated, match="expired"):
        reader.read_access_token(token)


def test_a_token_one_byte_off_a_verified_one_is_refused() -> None:
    reader = issuer()
    token = reader.access_token(7, "session-1", now())
    reader.read_access_token(token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(Unauthenticated, match="invalid"):
        reader.read_access_token(tampered)


def test_token_signed_with_another_secret_is_refused() -> None:
    token = issuer("another-secret-of-at-least-32-characters").access_token(7, "s", now())
    with pytest.raises(Unauthenticated, match="invalid"):
        issuer().read_access_token(token)


def claims(**extra: object) -> dict[str, object]:
    at = now()
    base: dict[str, object] = {"sub": "7", "sid": "session-1", "iat": at, "exp": at + TTL,
                               "typ": "access"}
    base.update(extra)
    return {key: value for key, value in base.items() if value is not None}


def unsigned(payload: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def test_alg_none_is_refused() -> None:
    with pytest.raises(Unauthenticated):
        issuer().read_access_token(unsigned(claims()))


def test_other_algorithms_are_refused_even_with_the_secret() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS512")
    with pytest.raises(Unauthenticated):
        issuer().read_access_token(token)


@pytest.mark.parametrize("typ", ["refresh", "ACCESS", ""])
def test_only_access_typed_tokens_are_accepted(typ: str) -> None:
    token = jwt.encode(claims(typ=typ), SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="not an access token"):
        issuer().read_access_token(token)


def test_a_token_without_a_type_is_refused() -> None:
    token = jwt.encode(claims(typ=None), SECRET, algorithm="HS256")
    assert "typ" not in jwt.decode(token, SECRET, algorithms=["HS256"])
    with pytest.raises(Unauthenticated, match="not an access token"):
        issuer().read_access_token(token)


@pytest.mark.parametrize("missing", ["exp", "sub", "sid"])
def test_tokens_missing_a_required_claim_are_refused(missing: str) -> None:
    payload = {k: v for k, v in claims().items() if k != missing}
    with pytest.raises(Unauthenticated):
        issuer().read_access_token(jwt.encode(payload, SECRET, algorithm="HS256"))


def test_non_numeric_subject_is_refused() -> None:
    token = jwt.encode(claims(sub="admin"), SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated, match="invalid"):
        issuer().read_access_token(token)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "x" * 500])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        issuer().read_access_token(garbage)


def test_refresh_tokens_are_random_and_hashed() -> None:
    first, second = new_refresh_token(), new_refresh_token()
    assert first != second and len(first) >= 40
    assert refresh_token_hash(first) == refresh_token_hash(first)
    assert refresh_token_hash(first) != refresh_token_hash(second)
    assert first not in refresh_token_hash(first)


def test_a_refresh_token_is_not_an_access_token() -> None:
    with pytest.raises(Unauthenticated):
        issuer().read_access_token(new_refresh_token())


@pytest.fixture(scope="module")
def lakeside_hash() -> str:
    return hash_password("湖畔花园-manager-2026")


def test_password_hash_verifies(lakeside_hash: str) -> None:
    assert lakeside_hash.startswith("$argon2id$")
    assert "manager" not in lakeside_hash
    assert verify_password(lakeside_hash, "湖畔花园-manager-2026")


def test_wrong_password_does_not_verify(lakeside_hash: str) -> None:
    assert not verify_password(lakeside_hash, "湖畔花园-manager-2027")
    assert not verify_password(lakeside_hash, "")


def test_hashes_are_salted() -> None:
    assert hash_password("same-password") != hash_password("same-password")


def test_no_hash_never_verifies() -> None:
    assert verify_password(None, "anything") is False
    assert verify_password(None, "not-a-real-password") is False


def test_empty_hash_never_verifies() -> None:
    assert verify_password("", "anything") is False
    assert verify_password("", "not-a-real-password") is False


def test_corrupt_hash_does_not_verify() -> None:
    assert verify_password("$argon2id$garbage", "anything") is False
    assert verify_password("plain-text-password", "plain-text-password") is False
