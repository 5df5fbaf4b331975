"""Encryption of secrets at rest, with a key derived from the host's secret key.

A value is sealed into an *envelope*, ``{"$enc": "fernet:v1", "v": "<Fernet token>"}``: the
token is the value's JSON, encrypted and authenticated with Fernet (AES-128-CBC + HMAC-SHA256).
The Fernet key is derived from ``CATALYST_SECRET_KEY`` with HKDF-SHA256, so the host needs no
second secret. :class:`SecretBox` opens envelopes sealed with the current key or with any previous
key it was given (``CATALYST_SECRET_KEY_PREVIOUS``), and always seals with the current one;
:meth:`SecretBox.reseal` moves an envelope to the current key (``catalyst secrets rotate``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from catalyst.errors import CatalystError

ENVELOPE: Final = "$enc"
SCHEME: Final = "fernet:v1"
_SALT: Final = b"catalyst/secrets-at-rest"


class SecretKeyError(CatalystError):
    """An envelope that none of the configured keys opens (the secret key changed)."""


def derive_fernet(secret_key: str) -> Fernet:
    """The Fernet key for ``secret_key``: HKDF-SHA256, 32 bytes, bound to this purpose."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=SCHEME.encode()).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(raw))


def is_sealed(value: object) -> bool:
    """True for an envelope made by :meth:`SecretBox.seal`."""
    return (
        isinstance(value, dict)
        and len(value) == 2
        and value.get(ENVELOPE) == SCHEME
        and isinstance(value.get("v"), str)
    )


class SecretBox:
    """Seals with the current key; opens with the current or any previous key."""

    def __init__(self, current: str, previous: Iterable[str | None] = ()) -> None:
        if not current:
            raise ValueError("a secret key is required to encrypt secrets")
        self._current = derive_fernet(current)
        older = [derive_fernet(k) for k in dict.fromkeys(previous) if k and k != current]
        self._any = MultiFernet([self._current, *older])

    def seal(self, value: Any) -> dict[str, str]:
        token = self._current.encrypt(json.dumps(value, separators=(",", ":")).encode())
        return {ENVELOPE: SCHEME, "v": token.decode()}

    def open(self, envelope: dict[str, Any]) -> Any:
        """The value inside ``envelope``; SecretKeyError when no configured key opens it."""
        try:
            plain = self._any.decrypt(str(envelope["v"]).encode())
        except (InvalidToken, KeyError) as exc:
            raise SecretKeyError(
                "an encrypted secret cannot be decrypted with the current secret key "
                "(CATALYST_SECRET_KEY changed? set CATALYST_SECRET_KEY_PREVIOUS to the old key "
                "and run `catalyst secrets rotate`, or save the value again)"
            ) from exc
        return json.loads(plain)

    def is_current(self, envelope: dict[str, Any]) -> bool:
        """True when ``envelope`` is sealed with the current key."""
        try:
            self._current.decrypt(str(envelope["v"]).encode())
        except (InvalidToken, KeyError):
            return False
        return True

    def reseal(self, envelope: dict[str, Any]) -> dict[str, str]:
        """``envelope`` sealed with the current key; SecretKeyError when no key opens it."""
        return self.seal(self.open(envelope))
