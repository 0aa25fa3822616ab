"""Encryption at rest of national ID numbers: AES-256-GCM with key ids, and a blind index.

Ciphertext format: `<key id>:<base64(nonce || ciphertext+tag)>`. The record it belongs to is
bound in as associated data, so a ciphertext copied onto another resident does not decrypt.
Rotation: add a new key, make it active, run `hub pii rotate`; old keys stay until then.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class PiiError(Exception):
    """A ciphertext could not be opened: unknown key id, or tampered data."""


class PiiVault:
    def __init__(self, keys: Mapping[str, bytes], active_key: str, blind_index_key: bytes) -> None:
        if active_key not in keys:
            raise ValueError("active key must be one of the keys")
        self._keys = {key_id: AESGCM(raw) for key_id, raw in keys.items()}
        self.active_key = active_key
        self._blind_key = blind_index_key

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.active_key].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.active_key}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        key_id, sealed, body = token.partition(":")
        if not sealed:
            # Not our format; it may be a number stored in clear, so it is not echoed.
            raise PiiError("not a sealed value (no key id)")
        aead = self._keys.get(key_id)
        if aead is None:
            raise PiiError(f"no key {key_id!r} to open this value")
        try:
            raw = base64.b64decode(body, validate=True)
            if len(raw) <= NONCE_BYTES:
                raise PiiError("ciphertext is truncated")
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, binascii.Error):
            raise PiiError("ciphertext does not authenticate") from None

    def needs_rotation(self, token: str) -> bool:
        return token.partition(":")[0] != self.active_key

    def blind_index(self, normalised: str) -> str:
        return hmac.new(self._blind_key, normalised.encode(), hashlib.sha256).hexdigest()
