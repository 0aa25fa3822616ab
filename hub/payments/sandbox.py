"""The sandbox provider: checkouts that pay when a test (or a developer) says so.

Callbacks are JSON bodies signed with HMAC-SHA256 over the raw bytes, hex in the
`X-Sandbox-Signature` header, like the real gateways' notification signatures. `callback`
builds the body and signature a real provider would send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from decimal import Decimal, InvalidOperation

from hub.domain.errors import Invalid
from hub.payments.provider import CallbackEvent, Checkout, PaymentProvider

SIGNATURE_HEADER = "X-Sandbox-Signature"


class SandboxProvider:
    name = "sandbox"

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the sandbox secret needs at least 16 bytes")
        self._secret = secret

    def checkout(self, payment_id: int, amount: Decimal) -> Checkout:
        ref = f"sbx-{payment_id}-{uuid.uuid4().hex[:12]}"
        return Checkout(self.name, ref, amount, f"sandbox://pay/{ref}")

    def sign(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def callback(self, provider_ref: str, amount: Decimal, *, event_id: str | None = None,
                 succeeded: bool = True) -> tuple[bytes, str]:
        """The body and signature of the callback the sandbox sends for a checkout."""
        body = json.dumps({"event_id": event_id or f"evt-{uuid.uuid4().hex}",
                           "provider_ref": provider_ref, "amount": str(amount),
                           "status": "succeeded" if succeeded else "failed"},
                          sort_keys=True).encode()
        return body, self.sign(body)

    def verify(self, body: bytes, signature: str | None) -> CallbackEvent:
        where = f"header.{SIGNATURE_HEADER}"
        if not signature or not hmac.compare_digest(self.sign(body), signature.strip()):
            raise Invalid("the callback's signature does not verify", field=where)
        try:
            data = json.loads(body)
            event = CallbackEvent(str(data["event_id"]), str(data["provider_ref"]),
                                  Decimal(str(data["amount"])), data["status"] == "succeeded")
        except (ValueError, KeyError, TypeError, InvalidOperation) as err:
            raise Invalid("the callback's body is not a sandbox event", field="body") from err
        if not event.amount.is_finite() or len(event.event_id) > 100 \
                or len(event.provider_ref) > 64:
            raise Invalid("the callback's body is not a sandbox event", field="body")
        return event


def sandbox_secret(hub_secret: bytes) -> bytes:
    """The sandbox's key, derived from the hub's signing secret (no key of its own to set)."""
    return hmac.new(hub_secret, b"estate-hub sandbox payments", hashlib.sha256).digest()


def shipped_providers(hub_secret: bytes) -> dict[str, PaymentProvider]:
    """The providers the hub knows by name; the sandbox only, until a real one is added."""
    return {SandboxProvider.name: SandboxProvider(sandbox_secret(hub_secret))}
