"""Door credentials as readers send them, and the codes the hub derives: a resident's app
code lives one step (plus a few seconds' grace), a visitor's code is fixed per pass, a card
is kept only as a keyed fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.access.codes import (
    QR_GRACE,
    CardRead,
    ResidentCode,
    Unreadable,
    VisitorCode,
    card_fingerprint,
    normalise_card,
    qr_key,
    read_credential,
    resident_code_ok,
    resident_token,
    visitor_code_ok,
    visitor_token,
)

SECRET = b"k" * 32
STEP = 60
T0 = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)  # a step boundary


def _code(token: str) -> str:
    return token.rsplit("-", maxsplit=1)[-1]


def test_readers_credentials_are_taken_apart_or_called_unreadable() -> None:
    assert read_credential("CARD:04a1b2c3") == CardRead("04A1B2C3")
    assert read_credential("QR:12-ABCDEFGHIJKLMNOP") == ResidentCode(12, "ABCDEFGHIJKLMNOP")
    assert read_credential("QR:V-7-ABCDEFGHIJKLMNOP") == VisitorCode(7, "ABCDEFGHIJKLMNOP")
    for junk in ("CARD:", "CARD:12", "QR:", "QR:12-short", "QR:V-x-ABCDEFGHIJKLMNOP",
                 "NFC:1234", "", "QR:12-abcdefghijklmnop"):
        assert isinstance(read_credential(junk), Unreadable), junk


@given(st.text(max_size=80))
def test_reading_never_raises(text: str) -> None:
    read_credential(text)


def test_an_app_code_is_valid_in_its_step_and_a_few_seconds_after() -> None:
    key = qr_key(SECRET, 5, "salt")
    token, ends = resident_token(5, key, T0 + timedelta(seconds=30), STEP)
    assert ends == T0 + timedelta(seconds=STEP)
    code = _code(token)
    assert resident_code_ok(key, code, T0, STEP)
    assert resident_code_ok(key, code, ends - timedelta(microseconds=1), STEP)
    assert resident_code_ok(key, code, ends + QR_GRACE - timedelta(microseconds=1), STEP)
    assert not resident_code_ok(key, code, ends + QR_GRACE, STEP)  # the screenshot is stale
    assert not resident_code_ok(key, code, T0 - timedelta(seconds=1), STEP)  # not yet


def test_codes_differ_by_step_credential_salt_and_secret() -> None:
    key = qr_key(SECRET, 5, "salt")
    now = _code(resident_token(5, key, T0, STEP)[0])
    assert now != _code(resident_token(5, key, T0 + timedelta(seconds=STEP), STEP)[0])
    assert now != _code(resident_token(5, qr_key(SECRET, 6, "salt"), T0, STEP)[0])
    assert now != _code(resident_token(5, qr_key(SECRET, 5, "new salt"), T0, STEP)[0])
    assert now != _code(resident_token(5, qr_key(b"x" * 32, 5, "salt"), T0, STEP)[0])


@given(st.integers(min_value=0, max_value=10**6))
def test_the_code_of_any_moment_checks_at_that_moment(seconds: int) -> None:
    at = T0 + timedelta(seconds=seconds)
    key = qr_key(SECRET, 1, "s")
    token, ends = resident_token(1, key, at, STEP)
    assert resident_code_ok(key, _code(token), at, STEP)
    assert timedelta(0) < ends - at <= timedelta(seconds=STEP)


def test_a_visitor_code_is_fixed_for_its_pass_and_salt() -> None:
    token = visitor_token(SECRET, 9, "salt")
    assert token.startswith("V-9-") and token == visitor_token(SECRET, 9, "salt")
    assert read_credential("QR:" + token) == VisitorCode(9, _code(token))
    assert visitor_code_ok(SECRET, 9, "salt", _code(token))
    assert not visitor_code_ok(SECRET, 10, "salt", _code(token))
    assert not visitor_code_ok(SECRET, 9, "other", _code(token))


def test_cards_are_fingerprinted_with_the_secret_and_one_spelling() -> None:
    assert normalise_card(" 04a1b2c3 ") == "04A1B2C3"
    assert normalise_card("04-A1") is None and normalise_card("123") is None
    fingerprint = card_fingerprint(SECRET, "04A1B2C3")
    assert len(fingerprint) == 64 and "04A1B2C3" not in fingerprint.upper()
    assert fingerprint != card_fingerprint(b"x" * 32, "04A1B2C3")
