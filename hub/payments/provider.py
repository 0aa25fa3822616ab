"""What the hub needs from an online payment provider (WeChat Pay, Alipay, a bank gateway).

A provider opens a checkout for a pending payment and later calls back, signed, with what
became of it. The hub verifies the signature, then applies the callback once: its event id is
stored with a unique key, so a replayed callback finds it and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Checkout:
    provider: str
    provider_ref: str
    amount: Decimal
    pay_url: str


@dataclass(frozen=True)
class CallbackEvent:
    """A verified callback: `event_id` is unique per event at the provider."""

    event_id: str
    provider_ref: str
    amount: Decimal
    succeeded: bool


class PaymentProvider(Protocol):
    name: str

    def checkout(self, payment_id: int, amount: Decimal) -> Checkout: ...

    def verify(self, body: bytes, signature: str | None) -> CallbackEvent:
        """The callback's event, or Invalid when the signature or the body is wrong."""
        ...
