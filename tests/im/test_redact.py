"""Redaction helpers: registered secrets, usersig= values and UserSig-shaped tokens are masked."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from roamtui.im import redact, usersig


def test_registered_secret_is_masked_in_every_encoding() -> None:
    secret = "Kz9*unique/secret+value="
    redact.register(secret)
    for form in (secret, quote(secret, safe=""), quote(secret, safe="*-_")):
        assert redact.scrub(f"before {form} after") == "before *** after"


def test_short_strings_are_not_treated_as_secrets() -> None:
    redact.register("abc")
    assert redact.scrub("abc abc") == "abc abc"


def test_usersig_query_value_is_masked_even_when_unregistered() -> None:
    text = "POST https://h/v4/a?sdkappid=1&identifier=admin&usersig=whatever.Value&random=7"
    assert redact.scrub(text) == (
        "POST https://h/v4/a?sdkappid=1&identifier=admin&usersig=***&random=7"
    )
    assert redact.scrub('{"UserSig": "zzz", "secret_key": "kkk"}') == (
        '{"UserSig": "***", "secret_key": "***"}'
    )


def test_a_real_usersig_is_masked_without_registration() -> None:
    sig = usersig.sign(1400000000, "k" * 64, "admin", 3600, now=1700000000)
    assert redact.scrub(f"sig is {sig}.") == "sig is ***."


def test_extra_secrets_are_masked() -> None:
    assert redact.scrub("a LOCAL-ONLY-SECRET b", extra=["LOCAL-ONLY-SECRET", None]) == "a *** b"


def test_one_line_flattens_and_bounds_untrusted_text() -> None:
    text = redact.one_line("line1\nline2\r\n\tend\x1b[2J\u202e", limit=50)
    assert text == "line1 line2 end\\u001b[2J\\u202e"
    assert len(redact.one_line("x" * 1000, limit=50)) == 50


def test_log_filter_scrubs_formatted_records(caplog: pytest.LogCaptureFixture) -> None:
    redact.install_log_filter("roamtui.test.redact")
    redact.install_log_filter("roamtui.test.redact")  # idempotent
    logger = logging.getLogger("roamtui.test.redact")
    assert sum(isinstance(f, redact.RedactingFilter) for f in logger.filters) == 1
    with caplog.at_level(logging.DEBUG, logger="roamtui.test.redact"):
        logger.info("GET %s", "https://h/p?usersig=topsecretsig&x=1")
    assert caplog.records[-1].getMessage() == "GET https://h/p?usersig=***&x=1"
    assert "topsecretsig" not in caplog.text
