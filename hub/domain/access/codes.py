"""What a door reader sends (`CARD:<number>`, `QR:<token>`, `QR:V-<token>`) and how the hub
checks it, with keys derived from one hub secret (HMAC-SHA256 throughout).

- A resident's app QR code rotates like TOTP (RFC 6238): the code of time step
  `floor(t / step_s)` under the credential's key, so a screenshot goes stale within a step
  (plus a few seconds' grace for a code scanned just as it turned). The key is
  HMAC(secret, "qr:<credential id>:<salt>"): the database holds the salt only, so a copy of
  the database alone cannot produce a valid code, and rotating the secret or revoking the
  credential (a new salt) ends every code at once.
- A visitor's code is fixed for the pass (the visitor has no app; the resident shares it):
  HMAC(secret, "visitor:<pass id>:<salt>"), so the issuing household can be shown it again
  while the hub still stores no code.
- A card's number is kept only as HMAC(secret, "card:<number>"): card numbers are short
  enough to guess, so a plain hash of them would be reversible by trying them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CODE_CHARS = 16  # base32: 80 bits of the MAC
QR_GRACE = timedelta(seconds=10)
_CARD = re.compile(r"^[A-Z0-9]{4,32}$")
_RESIDENT = re.compile(r"^(\d{1,10})-([A-Z2-7]{16})$")
_VISITOR = re.compile(r"^V-(\d{1,10})-([A-Z2-7]{16})$")


@dataclass(frozen=True)
class CardRead:
    number: str


@dataclass(frozen=True)
class ResidentCode:
    credential_id: int
    code: str = ""


@dataclass(frozen=True)
class VisitorCode:
    pass_id: int
    code: str = ""


@dataclass(frozen=True)
class Unreadable:
    reason: str


Read = CardRead | ResidentCode | VisitorCode | Unreadable


def read_credential(text: str) -> Read:
    """What a reader sent, taken apart; never raises (a reader sends what it sends)."""
    if text.startswith("CARD:"):
        number = text[5:].strip().upper()
        return CardRead(number) if _CARD.match(number) else Unreadable("card number unreadable")
    if text.startswith("QR:"):
        token = text[3:].strip()
        if match := _VISITOR.match(token):
            return VisitorCode(int(match[1]), match[2])
        if match := _RESIDENT.match(token):
            return ResidentCode(int(match[1]), match[2])
        return Unreadable("QR code not one of this hub's")
    return Unreadable("credential is neither CARD: nor QR:")


def normalise_card(number: str) -> str | None:
    """The card number as fingerprinted: upper case, 4 to 32 letters and digits."""
    value = number.strip().upper()
    return value if _CARD.match(value) else None


def _mac(key: bytes, message: str | bytes) -> bytes:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(key, data, hashlib.sha256).digest()


def _b32(digest: bytes) -> str:
    return base64.b32encode(digest).decode()[:CODE_CHARS]


def card_fingerprint(secret: bytes, number: str) -> str:
    return _mac(secret, f"card:{number}").hex()


def qr_key(secret: bytes, credential_id: int, salt: str) -> bytes:
    return _mac(secret, f"qr:{credential_id}:{salt}")


def step_of(at: datetime, step_s: int) -> int:
    return int(at.timestamp()) // step_s


def step_code(key: bytes, step: int) -> str:
    return _b32(_mac(key, step.to_bytes(8, "big", signed=True)))


def resident_token(credential_id: int, key: bytes, at: datetime, step_s: int
                   ) -> tuple[str, datetime]:
    """The credential as the app shows it at `at` (without the `QR:` prefix), and when the
    step it belongs to ends."""
    step = step_of(at, step_s)
    ends = datetime.fromtimestamp((step + 1) * step_s, UTC)
    return f"{credential_id}-{step_code(key, step)}", ends


def resident_code_ok(key: bytes, code: str, at: datetime, step_s: int,
                     grace: timedelta = QR_GRACE) -> bool:
    """The code of the step of `at`, or of the step that ended less than `grace` ago."""
    steps = {step_of(at, step_s), step_of(at - grace, step_s)}
    return any(hmac.compare_digest(step_code(key, s), code) for s in steps)


def visitor_token(secret: bytes, pass_id: int, salt: str) -> str:
    """The visitor's code without the `QR:` prefix: `V-<pass id>-<code>`."""
    return f"V-{pass_id}-{_b32(_mac(secret, f'visitor:{pass_id}:{salt}'))}"


def visitor_code_ok(secret: bytes, pass_id: int, salt: str, code: str) -> bool:
    return hmac.compare_digest(visitor_token(secret, pass_id, salt), f"V-{pass_id}-{code}")
