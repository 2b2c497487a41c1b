"""The error table: every documented code is there, classified as tim-api.md §3.4 says."""

from __future__ import annotations

import pytest

from roamtui.im.errors import (
    ERRORS,
    Action,
    ProtocolError,
    RoamError,
    ServiceError,
    TransportError,
    spec_for,
)

# Copied from reference/tim-api.md so that a code dropped from the table fails here.
DOC_3_1 = [60002, 60003, 60004, 60005, 60006, 60007, 60008, 60009, 60010, 60011, 60012, 60013,
           60014, 60015, 60016, 60017, 60018, 60019, 60020, 60021, 80001, 80002]  # fmt: skip
DOC_3_2 = [70001, 70002, 70003, 70005, 70009, 70013, 70014, 70016, 70020, 70050, 70051, 70052,
           70107, 70114, 70169, 70206, 70398, 70402, 70403, 70500]  # fmt: skip
DOC_3_3 = [90992, 90994, 90995, 20003, 20004, 20005, 10002]
DOC_1_8 = [90001, 90003, 90008, 90009, 91000]
# portrait_get and recentcontact/get_list, as docs/profile-and-contacts.md copies them.
DOC_PROFILE = [40001, 40002, 40003, 40004, 40006, 40007, 40009]
DOC_CONTACTS = [50001, 50002, 50003, 50004, 50005]
ALL_DOCUMENTED = sorted(set(DOC_3_1 + DOC_3_2 + DOC_3_3 + DOC_1_8 + DOC_PROFILE + DOC_CONTACTS))

RETRY = {60007, 60008, 60011, 60013, 60014, 60018, 60019, 70169, 70500, 90992, 90994, 90995,
         91000, 20004, 20005, 10002, 40006, 50004, 50005}  # fmt: skip
RESIGN = {70001, 70052, 60004, 60005, 70003, 70005}


def test_every_documented_code_is_in_the_table() -> None:
    documented = set(ALL_DOCUMENTED)
    assert documented <= set(ERRORS)
    assert set(ERRORS) == documented  # and nothing made up


@pytest.mark.parametrize("code", ALL_DOCUMENTED)
def test_classification_follows_the_reference(code: int) -> None:
    spec = ERRORS[code]
    expected = Action.RETRY if code in RETRY else Action.RESIGN if code in RESIGN else Action.STOP
    assert spec.action is expected
    assert spec.code == code
    assert spec.meaning.strip() and spec.advice.strip()
    assert "\n" not in spec.meaning + spec.advice


def test_advice_points_at_the_likely_fix() -> None:
    assert "region" in ERRORS[70020].advice
    assert "minute" in ERRORS[70050].advice
    assert "admin" in ERRORS[90009].advice.lower()
    assert "--max-rps" in ERRORS[60007].advice
    assert "whitelist" in ERRORS[60021].advice


def test_unknown_code_is_reported_not_retried() -> None:
    spec = spec_for(123456)
    assert spec.code == 123456
    assert spec.action is Action.STOP
    assert spec.advice


def test_service_error_is_one_line_with_code_meaning_and_advice() -> None:
    err = ServiceError(70020, "sdkappid not found")
    text = str(err)
    assert text.startswith("70020 SDKAppID not found — ")
    assert "region/endpoint" in text
    assert "\n" not in text
    assert err.code == 70020 and err.action is Action.STOP and err.spec is ERRORS[70020]
    assert isinstance(err, RoamError)


def test_service_error_keeps_hostile_error_info_inert() -> None:
    info = "bad\nthing\x1b[31m red \x07" + "x" * 5000
    err = ServiceError(90008, info)
    text = str(err)
    assert "\n" not in text and "\x1b" not in text and "\x07" not in text
    assert "\\u001b" in text  # made visible, not executed
    assert len(text) < 700
    assert err.info.startswith("bad thing")


def test_unknown_code_shows_what_the_service_said() -> None:
    text = str(ServiceError(99999, "quota of widgets exhausted"))
    assert text.startswith("99999 undocumented error — ")
    assert "quota of widgets exhausted" in text


def test_attempts_are_reported_when_the_client_gave_up() -> None:
    assert "gave up after 5 attempts" in str(ServiceError(91000, attempts=5))
    assert "gave up" not in str(ServiceError(91000))
    assert "gave up after 3 attempts" in str(TransportError("HTTP 502", attempts=3))


def test_advice_can_be_overridden() -> None:
    text = str(ServiceError(70001, advice="get a new UserSig"))
    assert text == "70001 UserSig expired — get a new UserSig"


def test_exception_texts_are_redacted() -> None:
    url = "https://console.tim.qq.com/v4/x?sdkappid=1&usersig=eJwAbC*123-_&random=5"
    for err in (TransportError(f"failed {url}"), ProtocolError(f"at {url}"), RoamError(url)):
        assert "eJwAbC" not in str(err)
        assert "eJwAbC" not in repr(err)
        assert "usersig=***" in str(err)


def test_only_the_codes_that_say_an_account_does_not_exist_count_as_a_missing_account() -> None:
    from roamtui.im.errors import ERRORS, ServiceError

    missing = {code for code in ERRORS if ServiceError(code).missing_account}
    assert missing == {70107, 90008}
    assert all("does not exist" in ERRORS[code].meaning for code in missing)
