"""TLSSigAPIv2 UserSig: signing (for the client) and verification (for the sandbox and tests).

The algorithm is about twenty lines, and the PyPI package ``tls-sig-api-v2`` (1.1, 2019) exposes
other method names than its repository and has no verifier, so we implement it here
(see reference/tim-api.md §5).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from dataclasses import dataclass

#: Short-lived by default: roamtui signs a fresh sig per session and re-signs on 70001/70052.
DEFAULT_EXPIRE = 3600

_TO_URL = str.maketrans({"+": "*", "/": "-", "=": "_"})
_FROM_URL = str.maketrans({"*": "+", "-": "/", "_": "="})


class UserSigError(Exception):
    """A UserSig that does not verify; ``code`` is the service's error code for the case."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UserSigClaims:
    identifier: str
    sdkappid: int
    time: int
    expire: int
    sig: str

    @property
    def expires_at(self) -> int:
        return self.time + self.expire


def _hmac_b64(key: str, identifier: str, sdkappid: int, now: int, expire: int) -> str:
    content = (
        f"TLS.identifier:{identifier}\n"
        f"TLS.sdkappid:{sdkappid}\n"
        f"TLS.time:{now}\n"
        f"TLS.expire:{expire}\n"
    )
    digest = hmac.new(key.encode(), content.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(
    sdkappid: int,
    key: str,
    identifier: str,
    expire: int = DEFAULT_EXPIRE,
    now: int | None = None,
) -> str:
    """Return a TLSSigAPIv2 UserSig for ``identifier`` valid ``expire`` seconds from ``now``."""
    issued = int(time.time()) if now is None else int(now)
    doc = {
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": int(sdkappid),
        "TLS.expire": int(expire),
        "TLS.time": issued,
        "TLS.sig": _hmac_b64(key, identifier, int(sdkappid), issued, int(expire)),
    }
    packed = zlib.compress(json.dumps(doc).encode())
    return base64.b64encode(packed).decode().translate(_TO_URL)


def decode(usersig: str) -> UserSigClaims:
    """Decode a UserSig without checking its signature. Raises UserSigError(70003) if malformed."""
    try:
        raw = zlib.decompress(base64.b64decode(usersig.translate(_FROM_URL), validate=True))
        doc = json.loads(raw)
        return UserSigClaims(
            identifier=str(doc["TLS.identifier"]),
            sdkappid=int(doc["TLS.sdkappid"]),
            time=int(doc["TLS.time"]),
            expire=int(doc["TLS.expire"]),
            sig=str(doc["TLS.sig"]),
        )
    except (ValueError, TypeError, KeyError, zlib.error) as exc:
        raise UserSigError(70003, "UserSig is malformed") from exc


def verify(
    usersig: str,
    sdkappid: int,
    key: str,
    identifier: str,
    now: int | None = None,
) -> UserSigClaims:
    """Check a UserSig as the service does; raise UserSigError with the service's code."""
    if not usersig:
        raise UserSigError(70002, "UserSig is empty")
    claims = decode(usersig)
    if claims.sdkappid != int(sdkappid):
        raise UserSigError(70014, "SDKAppID does not match the one inside the UserSig")
    if claims.identifier != identifier:
        raise UserSigError(70013, "identifier does not match the one inside the UserSig")
    expected = _hmac_b64(key, claims.identifier, claims.sdkappid, claims.time, claims.expire)
    if not hmac.compare_digest(expected, claims.sig):
        raise UserSigError(70009, "UserSig was not made with this app's secret key")
    current = int(time.time()) if now is None else int(now)
    if current > claims.expires_at:
        raise UserSigError(70001, "UserSig has expired")
    return claims
