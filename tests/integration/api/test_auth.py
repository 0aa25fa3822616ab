"""S5: every way of not being signed in is a 401 with the one error shape; login is limited."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from hub.settings import EXAMPLE_JWT_SECRET
from tests.integration.api.conftest import Api
from tests.integration.api.probing import api_with, audit_rows
from tests.integration.api.world import World, login

ME = "/api/v1/auth/me"


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field", "details"}
    assert body["error"]["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


def claims_of(w: World, username: str) -> dict[str, Any]:
    return dict(jwt.decode(w.tokens[username], EXAMPLE_JWT_SECRET, algorithms=["HS256"]))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(claims: dict[str, Any], secret: str = EXAMPLE_JWT_SECRET,
           algorithm: str = "HS256") -> dict[str, str]:
    return bearer(jwt.encode(claims, secret, algorithm=algorithm))


def fresh(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {**claims, "iat": now, "exp": now + timedelta(minutes=5), **changes}


def unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_a_crafted_token_with_the_real_secret_is_accepted(api: Api) -> None:
    """The control for the crafted tokens below: they fail for their one defect only."""
    response = await api.client.get(ME, headers=signed(fresh(claims_of(api.world, "bob"))))
    assert response.status_code == 200
    assert response.json()["username"] == "bob"


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "},
    {"Authorization": "Basic YWRtaW46Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5"},
    {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "bearer a.b.c"},
], ids=["none", "empty-bearer", "blank-bearer", "basic", "garbage", "garbage-lower"])
async def test_a_request_without_a_usable_token_is_401(api: Api,
                                                       headers: dict[str, str]) -> None:
    assert_unauthenticated(await api.client.get(ME, headers=headers))
    assert_unauthenticated(await api.client.get("/api/v1/units", headers=headers))


async def test_an_expired_token_is_401(api: Api) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = {**claims_of(api.world, "admin"), "iat": past - timedelta(minutes=15), "exp": past}
    response = await api.client.get(ME, headers=signed(claims))
    assert_unauthenticated(response)
    assert "expired" in response.json()["error"]["message"]


async def test_a_token_signed_with_another_secret_is_401(api: Api) -> None:
    claims = fresh(claims_of(api.world, "admin"))
    assert_unauthenticated(await api.client.get(
        ME, headers=signed(claims, "someone-elses-secret-0000000000000000")))


async def test_a_token_with_a_tampered_payload_is_401(api: Api) -> None:
    w = api.world
    header, _, signature = w.tokens["bob"].split(".")
    admin_payload = w.tokens["admin"].split(".")[1]
    assert_unauthenticated(await api.client.get(
        ME, headers=bearer(f"{header}.{admin_payload}.{signature}")))


async def test_an_alg_none_token_is_401(api: Api) -> None:
    claims = fresh(claims_of(api.world, "admin"))
    for token in (unsigned(claims), jwt.encode(claims, "", algorithm="none")):
        assert_unauthenticated(await api.client.get(ME, headers=bearer(token)))


async def test_a_token_of_another_hmac_algorithm_is_401(api: Api) -> None:
    claims = fresh(claims_of(api.world, "admin"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        headers = signed(claims, algorithm="HS512")
    assert_unauthenticated(await api.client.get(ME, headers=headers))


@pytest.mark.parametrize("change", [
    {"typ": "refresh"}, {"typ": None}, {"sub": "admin"}, {"sub": None}, {"sid": None},
    {"sid": "00000000-0000-0000-0000-000000000000"}, {"exp": None},
], ids=["refresh-typ", "no-typ", "sub-not-int", "no-sub", "no-sid", "unknown-sid", "no-exp"])
async def test_a_well_signed_token_with_bad_claims_is_401(api: Api,
                                                          change: dict[str, Any]) -> None:
    claims = fresh(claims_of(api.world, "admin"), **change)
    claims = {k: v for k, v in claims.items() if v is not None}
    assert_unauthenticated(await api.client.get(ME, headers=signed(claims)))


async def test_a_token_naming_another_accounts_session_is_401(api: Api) -> None:
    w = api.world
    claims = fresh(claims_of(w, "bob"), sub=str(w.accounts["admin"]))
    assert_unauthenticated(await api.client.get(ME, headers=signed(claims)))


async def test_a_disabled_account_is_401_everywhere_at_once(api: Api) -> None:
    w = api.world
    assert (await api.client.get(ME, headers=w.auth("finance"))).status_code == 200
    disabled = await api.client.patch(f"/api/v1/staff/{w.accounts['finance']}",
                                      headers=w.auth("admin"), json={"active": False})
    assert disabled.status_code == 204
    assert_unauthenticated(await api.client.get(ME, headers=w.auth("finance")))
    assert_unauthenticated(await api.client.get("/api/v1/units", headers=w.auth("finance")))
    assert_unauthenticated(await login(api.client, "finance"))
    assert_unauthenticated(await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": w.refresh_tokens["finance"]}))
    failed = await audit_rows(api, "login_failed")
    assert [(r["actor_id"], r["detail"]) for r in failed] == \
        [(w.accounts["finance"], {"why": "disabled"})]


async def test_a_token_is_401_after_logout(api: Api) -> None:
    w = api.world
    assert (await api.client.post("/api/v1/auth/logout", headers=w.auth("alice"))).status_code \
        == 204
    assert_unauthenticated(await api.client.get(ME, headers=w.auth("alice")))
    assert_unauthenticated(await api.client.post("/api/v1/auth/logout", headers=w.auth("alice")))
    assert (await api.client.get(ME, headers=w.auth("bob"))).status_code == 200


async def test_refresh_after_logout_is_refused(api: Api) -> None:
    w = api.world
    await api.client.post("/api/v1/auth/logout", headers=w.auth("alice"))
    assert_unauthenticated(await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": w.refresh_tokens["alice"]}))


async def test_a_refresh_token_works_once_and_its_successor_works(api: Api) -> None:
    w = api.world
    first = await api.client.post("/api/v1/auth/refresh",
                                  json={"refresh_token": w.refresh_tokens["bob"]})
    assert first.status_code == 200
    issued = first.json()
    assert issued["refresh_token"] != w.refresh_tokens["bob"]
    assert_unauthenticated(await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": w.refresh_tokens["bob"]}))
    me = await api.client.get(ME, headers=bearer(issued["access_token"]))
    assert me.json()["username"] == "bob"
    second = await api.client.post("/api/v1/auth/refresh",
                                   json={"refresh_token": issued["refresh_token"]})
    assert second.status_code == 200


@pytest.mark.parametrize("token", ["x" * 43, "an access token instead"])
async def test_an_unknown_refresh_token_is_401(api: Api, token: str) -> None:
    if token.startswith("an access"):
        token = api.world.tokens["bob"][:200]
    assert_unauthenticated(await api.client.post("/api/v1/auth/refresh",
                                                 json={"refresh_token": token}))


@pytest.mark.parametrize(("username", "password"), [
    ("admin", "wrong-password"), ("nobody", "correct-horse-battery"), ("admin", ""),
])
async def test_a_failed_login_is_401_and_audited_once(api: Api, username: str,
                                                      password: str) -> None:
    before = len(await audit_rows(api, "login_failed"))
    response = await api.client.post("/api/v1/auth/login",
                                     data={"username": username, "password": password})
    if password:
        assert_unauthenticated(response)
        assert response.json()["error"]["message"] == "wrong username or password"
    else:
        assert response.status_code == 422  # the form requires a password
    failed = await audit_rows(api, "login_failed")
    assert len(failed) - before == (1 if password else 0)
    assert "correct-horse" not in json.dumps([str(r) for r in failed])


async def test_a_wrong_password_and_an_unknown_user_answer_alike(api: Api) -> None:
    wrong = await login(api.client, "admin", "wrong-password")
    unknown = await login(api.client, "nobody-at-all", "wrong-password")
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())


@pytest.fixture
async def strict_api(template: tuple[Path, World], tmp_path: Path) -> AsyncIterator[Api]:
    async with api_with(template, tmp_path, api={"login_attempts_per_minute": 3}) as api:
        yield api


async def test_login_is_limited_to_the_configured_attempts_per_minute(strict_api: Api) -> None:
    api = strict_api
    logins = len(await audit_rows(api, "login"))
    answers = [(await login(api.client, "admin", "guess-" + str(n))).status_code
               for n in range(3)]
    limited = await login(api.client, "admin")  # even the right password, now
    assert answers == [401, 401, 401]
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"]["code"] == "too_many_requests"
    assert set(limited.json()["error"]) == {"code", "message", "field", "details"}
    assert int(limited.headers["retry-after"]) >= 1
    assert len(await audit_rows(api, "login_failed")) == 3
    assert len(await audit_rows(api, "login")) == logins


async def test_the_login_limit_does_not_lock_out_other_accounts(strict_api: Api) -> None:
    api = strict_api
    for n in range(4):
        await login(api.client, "admin", f"guess-{n}")
    assert (await login(api.client, "manager")).status_code == 200


async def test_one_address_spraying_many_accounts_is_limited(strict_api: Api) -> None:
    api = strict_api  # 3 attempts per account, 15 per address, per minute
    answers = [(await login(api.client, f"user-{n}", "spring2026")).status_code
               for n in range(16)]
    assert answers[:15] == [401] * 15
    assert answers[15] == 429


async def test_a_password_reset_ends_every_session_of_the_account(api: Api) -> None:
    w = api.world
    reset = await api.client.patch(f"/api/v1/staff/{w.accounts['guard']}",
                                   headers=w.auth("manager"),
                                   json={"password": "a-brand-new-passphrase"})
    assert reset.status_code == 204
    assert (await api.client.get("/api/v1/auth/me", headers=w.auth("guard"))).status_code == 401
    refreshed = await api.client.post("/api/v1/auth/refresh",
                                      json={"refresh_token": w.refresh_tokens["guard"]})
    assert refreshed.status_code == 401
    assert (await login(api.client, "guard", "a-brand-new-passphrase")).status_code == 200
