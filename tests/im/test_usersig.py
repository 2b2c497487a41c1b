"""TLSSigAPIv2 UserSig: fixed vector of tim-api.md §5.3, round trips, expiry, every error code."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roamtui.im import usersig
from roamtui.im.usersig import UserSigError

# tim-api.md §5.3: made with the official PyPI tls-sig-api-v2 1.1 code, time frozen.
VECTOR_APPID = 1400000000
VECTOR_KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
VECTOR_ID = "administrator"
VECTOR_TIME = 1700000000
VECTOR_EXPIRE = 86400
VECTOR_HMAC = "yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60="
VECTOR_DOC = {
    "TLS.ver": "2.0",
    "TLS.identifier": "administrator",
    "TLS.sdkappid": 1400000000,
    "TLS.expire": 86400,
    "TLS.time": 1700000000,
    "TLS.sig": VECTOR_HMAC,
}
VECTOR_SIG = (
    "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkElNyM-Myi0uKEkvyi2BKilOyEwsKMlOACgxNDKAAKpdaUZBZ"
    "lAqUsTAzgQuWZOaChAzN0RQXZ6aDLKn0cUzVLjcPD00NLS1MCrPM0A*JMLcoNTLMD3HP1M60jCowLDUOKMiLNDOwVaoF"
    "AD4PNPI_"
)


def _doc(sig: str) -> object:
    raw = base64.b64decode(sig.replace("*", "+").replace("-", "/").replace("_", "="))
    return json.loads(zlib.decompress(raw))


def test_fixed_vector_decodes_to_the_reference_json() -> None:
    sig = usersig.sign(VECTOR_APPID, VECTOR_KEY, VECTOR_ID, VECTOR_EXPIRE, now=VECTOR_TIME)
    # Compressed bytes differ between zlib builds, so compare what is inside.
    assert _doc(sig) == VECTOR_DOC
    assert _doc(VECTOR_SIG) == VECTOR_DOC


def test_reference_sig_verifies_and_decodes() -> None:
    claims = usersig.verify(VECTOR_SIG, VECTOR_APPID, VECTOR_KEY, VECTOR_ID, now=VECTOR_TIME + 60)
    assert (claims.identifier, claims.sdkappid) == (VECTOR_ID, VECTOR_APPID)
    assert (claims.time, claims.expire, claims.sig) == (VECTOR_TIME, VECTOR_EXPIRE, VECTOR_HMAC)
    assert claims.expires_at == VECTOR_TIME + VECTOR_EXPIRE


def test_sig_uses_the_url_alphabet_only() -> None:
    for n in range(30):
        sig = usersig.sign(VECTOR_APPID, VECTOR_KEY, f"admin{n}", 3600, now=VECTOR_TIME + n)
        assert not set(sig) & set("+/= "), sig


@given(
    sdkappid=st.integers(min_value=1, max_value=2**32 - 1),
    identifier=st.text(min_size=1, max_size=40),
    key=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    expire=st.integers(min_value=1, max_value=10 * 365 * 86400),
    now=st.integers(min_value=1_500_000_000, max_value=2_500_000_000),
)
def test_round_trip(sdkappid: int, identifier: str, key: str, expire: int, now: int) -> None:
    sig = usersig.sign(sdkappid, key, identifier, expire, now=now)
    claims = usersig.verify(sig, sdkappid, key, identifier, now=now + expire)
    assert (claims.identifier, claims.sdkappid, claims.time, claims.expire) == (
        identifier,
        sdkappid,
        now,
        expire,
    )
    assert usersig.decode(sig) == claims


def test_expiry_is_inclusive_of_the_last_second() -> None:
    sig = usersig.sign(VECTOR_APPID, VECTOR_KEY, VECTOR_ID, 3600, now=VECTOR_TIME)
    usersig.verify(sig, VECTOR_APPID, VECTOR_KEY, VECTOR_ID, now=VECTOR_TIME + 3600)
    with pytest.raises(UserSigError) as info:
        usersig.verify(sig, VECTOR_APPID, VECTOR_KEY, VECTOR_ID, now=VECTOR_TIME + 3601)
    assert info.value.code == 70001


def test_default_expiry_is_short_lived() -> None:
    sig = usersig.sign(VECTOR_APPID, VECTOR_KEY, VECTOR_ID, now=VECTOR_TIME)
    assert usersig.decode(sig).expire == 3600


_GOOD = usersig.sign(VECTOR_APPID, VECTOR_KEY, VECTOR_ID, 3600, now=VECTOR_TIME)


@pytest.mark.parametrize(
    ("sig", "appid", "key", "identifier", "code"),
    [
        ("", VECTOR_APPID, VECTOR_KEY, VECTOR_ID, 70002),
        ("not a usersig at all", VECTOR_APPID, VECTOR_KEY, VECTOR_ID, 70003),
        (_GOOD[: len(_GOOD) // 2], VECTOR_APPID, VECTOR_KEY, VECTOR_ID, 70003),
        (
            base64.b64encode(zlib.compress(b'{"TLS.ver": "2.0"}')).decode(),
            VECTOR_APPID,
            VECTOR_KEY,
            VECTOR_ID,
            70003,
        ),
        (_GOOD, VECTOR_APPID, "f" * 64, VECTOR_ID, 70009),
        (_GOOD, VECTOR_APPID, VECTOR_KEY, "someone-else", 70013),
        (_GOOD, VECTOR_APPID + 1, VECTOR_KEY, VECTOR_ID, 70014),
    ],
    ids=["empty", "garbage", "truncated", "missing-claims", "wrong-key", "identifier", "appid"],
)
def test_each_verification_failure_has_the_service_code(
    sig: str, appid: int, key: str, identifier: str, code: int
) -> None:
    with pytest.raises(UserSigError) as info:
        usersig.verify(sig, appid, key, identifier, now=VECTOR_TIME + 1)
    assert info.value.code == code
    assert str(info.value).startswith(f"{code}:")


def test_tampered_signature_does_not_verify() -> None:
    doc = dict(VECTOR_DOC, **{"TLS.expire": 10 * 365 * 86400})  # a longer life, same HMAC
    forged = base64.b64encode(zlib.compress(json.dumps(doc).encode())).decode()
    forged = forged.replace("+", "*").replace("/", "-").replace("=", "_")
    with pytest.raises(UserSigError) as info:
        usersig.verify(forged, VECTOR_APPID, VECTOR_KEY, VECTOR_ID, now=VECTOR_TIME)
    assert info.value.code == 70009
