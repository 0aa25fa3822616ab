"""Sealing national ID numbers: AES-GCM bound to a context, key ids, rotation, blind index."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.security.pii import PiiError, PiiVault

OLD_KEY = b"o" * 32
NEW_KEY = b"n" * 32
BLIND = b"lakeside-blind-index-key"
NUMBER = "11010519491231002X"
CONTEXT = "resident:12:national_id"


def vault(keys: dict[str, bytes] | None = None, active: str = "k2025",
          blind: bytes = BLIND) -> PiiVault:
    return PiiVault(keys or {"k2025": OLD_KEY}, active, blind)


def test_round_trip() -> None:
    sealed = vault().encrypt(NUMBER, CONTEXT)
    assert vault().decrypt(sealed, CONTEXT) == NUMBER


def test_ciphertext_names_the_active_key_and_hides_the_plaintext() -> None:
    sealed = vault().encrypt(NUMBER, CONTEXT)
    assert sealed.startswith("k2025:")
    assert NUMBER not in sealed
    assert NUMBER[-8:] not in sealed
    assert NUMBER.encode() not in base64.b64decode(sealed.partition(":")[2])


def test_the_same_number_seals_differently_each_time() -> None:
    assert vault().encrypt(NUMBER, CONTEXT) != vault().encrypt(NUMBER, CONTEXT)


def test_ciphertext_is_bound_to_its_context() -> None:
    sealed = vault().encrypt(NUMBER, CONTEXT)
    with pytest.raises(PiiError):
        vault().decrypt(sealed, "resident:13:national_id")


def flip(sealed: str, position: int) -> str:
    key_id, _, body = sealed.partition(":")
    raw = bytearray(base64.b64decode(body))
    raw[position] ^= 0x01
    return f"{key_id}:{base64.b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1], ids=["nonce", "nonce-end", "body",
                                                                "body-middle", "tag"])
def test_tampered_ciphertext_does_not_authenticate(position: int) -> None:
    sealed = vault().encrypt(NUMBER, CONTEXT)
    with pytest.raises(PiiError, match="does not authenticate"):
        vault().decrypt(flip(sealed, position), CONTEXT)


@pytest.mark.parametrize("broken", [
    "k2025:",
    "k2025:AAAA",
    "k2025:not*base64*at*all",
    "k2025:QUJD",
    "k2025:" + base64.b64encode(b"x" * 20).decode(),
    "k2025:" + base64.b64encode(b"x" * 40).decode()[:-3],
])
def test_mangled_ciphertext_is_a_pii_error(broken: str) -> None:
    with pytest.raises(PiiError):
        vault().decrypt(broken, CONTEXT)


def test_unknown_key_id_is_a_pii_error() -> None:
    sealed = vault({"k2030": NEW_KEY}, "k2030").encrypt(NUMBER, CONTEXT)
    with pytest.raises(PiiError, match="no key"):
        vault().decrypt(sealed, CONTEXT)


def test_a_value_that_was_never_sealed_is_refused_without_echoing_it() -> None:
    with pytest.raises(PiiError) as caught:
        vault().decrypt(NUMBER, CONTEXT)
    assert NUMBER not in str(caught.value)


def test_rotation_reads_old_ciphertexts_and_writes_with_the_new_key() -> None:
    old_sealed = vault().encrypt(NUMBER, CONTEXT)
    rotated = vault({"k2025": OLD_KEY, "k2026": NEW_KEY}, "k2026")
    assert rotated.needs_rotation(old_sealed)
    assert rotated.decrypt(old_sealed, CONTEXT) == NUMBER
    resealed = rotated.encrypt(rotated.decrypt(old_sealed, CONTEXT), CONTEXT)
    assert resealed.startswith("k2026:")
    assert not rotated.needs_rotation(resealed)
    assert vault({"k2026": NEW_KEY}, "k2026").decrypt(resealed, CONTEXT) == NUMBER


def test_a_key_id_is_not_trusted_for_its_key() -> None:
    # The same id with other key bytes (a misconfigured rotation) must fail, not return garbage.
    sealed = vault().encrypt(NUMBER, CONTEXT)
    with pytest.raises(PiiError, match="does not authenticate"):
        vault({"k2025": NEW_KEY}).decrypt(sealed, CONTEXT)


def test_active_key_must_be_one_of_the_keys() -> None:
    with pytest.raises(ValueError, match="active key"):
        PiiVault({"k2025": OLD_KEY}, "k2026", BLIND)


def test_blind_index_is_deterministic() -> None:
    assert vault().blind_index(NUMBER) == vault().blind_index(NUMBER)
    assert vault({"k2026": NEW_KEY}, "k2026").blind_index(NUMBER) == vault().blind_index(NUMBER)


def test_blind_index_depends_on_its_key_and_the_number() -> None:
    assert vault(blind=b"another-key").blind_index(NUMBER) != vault().blind_index(NUMBER)
    assert vault().blind_index("440524188001010014") != vault().blind_index(NUMBER)


def test_blind_index_does_not_contain_the_number() -> None:
    index = vault().blind_index(NUMBER)
    assert NUMBER not in index and NUMBER[-4:].lower() not in index[:4]
    assert len(index) == 64


@given(st.text(max_size=200), st.text(max_size=40))
def test_any_text_round_trips_in_its_context(plaintext: str, context: str) -> None:
    sealed = vault().encrypt(plaintext, context)
    assert vault().decrypt(sealed, context) == plaintext
