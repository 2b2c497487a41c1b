"""Redaction of any long piece of a live UserSig or secret key (issue 12, point 10).

A service (or a proxy) that echoes the UserSig back in 40-character pieces, or only its first
half, must not get it printed. Every substring of MIN_PIECE characters or more of a registered
secret, in any of its URL encodings, is masked wherever it appears; ordinary text is not.
"""

from __future__ import annotations

import random
import string
import time
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roamtui.im import redact, usersig

SIG = usersig.sign(1400000123, "f" * 64, "administrator", 3600, now=1_700_000_000)
KEY = "9c5e1b7a" * 8  # a 64-hex-digit secret key
MIN = redact.MIN_PIECE


@pytest.fixture(autouse=True, scope="module")
def registered() -> None:
    redact.register(SIG, KEY)


def pieces(secret: str, size: int) -> list[str]:
    return [secret[i : i + size] for i in range(0, len(secret), size)]


def test_the_minimum_piece_is_sixteen_characters() -> None:
    assert MIN == 16


def test_a_usersig_echoed_in_40_character_pieces_is_masked() -> None:
    text = "ErrorInfo: sig parts " + " | ".join(pieces(SIG, 40)) + " end"
    out = redact.scrub(text)
    for piece in pieces(SIG, 40):
        if len(piece) >= MIN:
            assert piece not in out
    assert out.startswith("ErrorInfo: sig parts ***") and out.endswith(" end")


@pytest.mark.parametrize("cut", ["first-half", "second-half", "middle"])
def test_part_of_a_usersig_is_masked(cut: str) -> None:
    half = len(SIG) // 2
    part = {"first-half": SIG[:half], "second-half": SIG[half:], "middle": SIG[50:90]}[cut]
    assert redact.scrub(f"bad sig [{part}] rejected") == "bad sig [***] rejected"


def test_pieces_of_the_secret_key_are_masked_and_the_key_whole_too() -> None:
    assert redact.scrub(f"key={KEY[:20]}!") == "key=***!"
    assert redact.scrub(f"({KEY[5:21]})") == "(***)"  # exactly the minimum
    assert redact.scrub(f"the key {KEY} leaked") == "the key *** leaked"


def test_a_piece_shorter_than_the_minimum_is_left() -> None:
    short = KEY[3 : 3 + MIN - 1]
    assert redact.scrub(f"<{short}>") == f"<{short}>"


@pytest.mark.parametrize("safe", ["", "*-_"])
def test_pieces_of_the_url_encoded_forms_are_masked(safe: str) -> None:
    secret = "Kz9*unique/secret+value=" * 3
    redact.register(secret)
    encoded = quote(secret, safe=safe)
    assert redact.scrub(f"url ...{encoded[7:40]}... end") == "url ...***... end"
    lower = encoded.replace("%2B", "%2b").replace("%2F", "%2f").replace("%3D", "%3d")
    assert redact.scrub(f"[{lower[3:30]}]") == "[***]"


def test_two_pieces_side_by_side_are_masked_as_one() -> None:
    assert redact.scrub(f"{SIG[10:40]}{SIG[100:130]}") == "***"


def test_extra_secrets_are_masked_by_piece_too() -> None:
    local = "LOCAL-only-secret-" + "q7" * 20
    assert redact.scrub(f"x {local[4:30]} y", extra=[local]) == "x *** y"


def test_ordinary_text_is_not_masked() -> None:
    text = (
        "您好，关于订单 #20240101-8812 的退款已经处理，请查收。Hello, the refund for order "
        "ABCDEF0123456789 was processed on 2024-01-01T10:00:00Z; tracking 1Z999AA10123456784. "
        "administrator identifier sdkappid random contenttype json"
    )
    assert redact.scrub(text) == text


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, len(SIG) - MIN),
    length=st.integers(MIN, len(SIG)),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_any_piece_of_the_usersig_is_masked(
    start: int, length: int, before: str, after: str
) -> None:
    piece = SIG[start : start + length]
    out = redact.scrub(before + piece + after)
    assert piece not in out
    # No run of MIN or more characters of the signature survives anywhere.
    for i in range(len(out) - MIN + 1):
        assert out[i : i + MIN] not in SIG


def test_a_long_text_is_scrubbed_quickly() -> None:
    rng = random.Random(12)
    alphabet = string.ascii_letters + string.digits + "*-_"
    noise = "".join(rng.choice(alphabet) for _ in range(300_000))  # worst case: all sig-like
    text = noise[:150_000] + SIG[20:80] + noise[150_000:]
    started = time.perf_counter()
    out = redact.scrub(text)
    seconds = time.perf_counter() - started
    assert SIG[20:80] not in out and len(out) == len(text) - 60 + 3
    print(f"scrub of {len(text):,} sig-like characters: {seconds * 1000:.0f} ms")
    assert seconds < 5  # generous: a regression to quadratic would take minutes
