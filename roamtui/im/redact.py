"""Redaction of secret keys and UserSigs from every text that may reach a person or a log.

The client registers each secret it holds (the app secret key, a ready UserSig, each UserSig it
signs); :func:`scrub` then masks those, plus anything that looks like a ``usersig=`` value or a
TLSSigAPIv2 token, so that even texts built by other code (httpx messages that embed the request
URL, an ``ErrorInfo`` that echoes the signature) come out clean.

Not only whole secrets: ANY piece of ``MIN_PIECE`` (16) characters or more of a registered
secret, in any of its URL encodings, is masked wherever it appears — a service or proxy that
echoes the UserSig back cut into 40-character pieces, or only its first half, gets nothing
printed. Why 16: it is 96 bits of a base64 UserSig and 64 of a hex key, far more than any
ordinary word or number shares with a random secret by chance, so message text is not masked by
accident; shorter pieces leak too little to matter.

How, in linear time: every 8-character gram of every registered form is kept in a dict (with a
count, so forms can be dropped again). A piece of 16 or more characters contains a gram that
starts at a multiple of 9 in the text, so :func:`scrub` looks up only every 9th position; at a
hit it extends left and right while the grams still belong to a secret, and masks the region
when it is 16 characters or longer. 300 KB of secret-like text take a few milliseconds.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote

# The one flattener of untrusted text lives with the other sanitisers; the client calls it here.
from roamtui.text import one_line as one_line

MASK = "***"

#: The shortest piece of a registered secret that is masked wherever it appears.
MIN_PIECE = 16
_GRAM = 8
_STRIDE = MIN_PIECE - _GRAM + 1  # every piece of MIN_PIECE holds a gram starting at a multiple

# Shorter "secrets" would mask ordinary words in messages; real keys and sigs are far longer.
# Those shorter than MIN_PIECE are only masked whole.
_MIN_SECRET_LEN = 6
# One signature per client per hour is registered (a few encodings each); the cap only matters
# for very long sessions.
_MAX_REGISTERED = 1024

# `usersig=...` in a URL or a log line, and `"usersig": "..."` / `secret_key: ...` in dumps.
_NAMED_VALUE = re.compile(
    r"""(?ix)
    (\b(?:usersig|user_sig|secret[_-]?key|secretkey|tls\.sig)["']?\s*[=:]\s*["']?)
    [^&\s"',;)}\]]+
    """
)
# A TLSSigAPIv2 UserSig is base64 of a zlib stream: 0x78 0x01/0x5e/0x9c/0xda -> "eA", "eF",
# "eJ", "eN". Masking such long tokens catches signatures nobody registered.
_USERSIG_TOKEN = re.compile(r"(?<![A-Za-z0-9*_+/=-])e[AFJN][A-Za-z0-9*_+/=-]{100,}")
_PERCENT = re.compile(r"%[0-9A-F]{2}")

_lock = threading.Lock()
_secrets: dict[str, None] = {}  # insertion-ordered set of forms, so the oldest can be dropped
_grams: dict[str, int] = {}  # gram -> how many registered forms hold it (read without the lock)
_short: re.Pattern[str] | None = None  # forms shorter than MIN_PIECE, masked whole


def _forms(secret: str) -> set[str]:
    """The secret as it may appear: verbatim and as httpx/urllib/proxies percent-encode it."""
    forms = {secret, quote(secret, safe=""), quote(secret, safe="*-_")}
    forms |= {_PERCENT.sub(lambda m: m.group().lower(), f) for f in forms}
    return forms


def _grams_of(form: str) -> Iterable[str]:
    return (form[i : i + _GRAM] for i in range(len(form) - _GRAM + 1))


def register(*secrets: str | None) -> None:
    """Remember secrets so that :func:`scrub` masks them, and any long piece of them, anywhere."""
    global _short
    with _lock:
        added: list[str] = []
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET_LEN:
                continue
            for form in _forms(secret):
                if form in _secrets:
                    del _secrets[form]  # refreshed: now the newest
                else:
                    added.append(form)
                _secrets[form] = None
        dropped: list[str] = []
        while len(_secrets) > _MAX_REGISTERED:
            oldest = next(iter(_secrets))
            del _secrets[oldest]
            dropped.append(oldest)
        if not added and not dropped:
            return
        for form in added:
            if len(form) >= MIN_PIECE:
                for gram in _grams_of(form):
                    _grams[gram] = _grams.get(gram, 0) + 1
        for form in dropped:
            if len(form) >= MIN_PIECE:
                for gram in _grams_of(form):
                    if (left := _grams[gram] - 1) > 0:
                        _grams[gram] = left
                    else:
                        del _grams[gram]
        short = sorted((f for f in _secrets if len(f) < MIN_PIECE), key=len, reverse=True)
        _short = re.compile("|".join(map(re.escape, short))) if short else None


@functools.lru_cache(maxsize=32)
def _extra_grams(secrets: tuple[str, ...]) -> Mapping[str, int]:
    grams: dict[str, int] = {}
    for secret in secrets:
        for form in _forms(secret):
            if len(form) >= MIN_PIECE:
                grams.update(dict.fromkeys(_grams_of(form), 1))
    return grams


def _pieces(text: str, grams: Mapping[str, int]) -> list[tuple[int, int]]:
    """Spans of ``text`` (in order, disjoint) of MIN_PIECE+ characters made of secret grams."""
    spans: list[tuple[int, int]] = []
    last = len(text) - _GRAM
    if not grams or last < 0:
        return spans
    i = 0
    while i <= last:
        if text[i : i + _GRAM] not in grams:
            i += _STRIDE
            continue
        lo = hi = i
        while lo > 0 and text[lo - 1 : lo - 1 + _GRAM] in grams:
            lo -= 1
        while hi < last and text[hi + 1 : hi + 1 + _GRAM] in grams:
            hi += 1
        if hi + _GRAM - lo >= MIN_PIECE:
            spans.append((lo, hi + _GRAM))
        i = (hi // _STRIDE + 1) * _STRIDE
    return spans


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each run of overlapping or touching spans replaced by one MASK."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    out: list[str] = []
    at = 0
    for lo, hi in merged:
        out += (text[at:lo], MASK)
        at = hi
    out.append(text[at:])
    return "".join(out)


def scrub(text: str, extra: Iterable[str | None] = ()) -> str:
    """Return ``text`` with registered secrets (and long pieces of them), ``extra`` ones and
    UserSig-like values masked."""
    extras = tuple(s for s in extra if s and len(s) >= _MIN_SECRET_LEN)
    # Whole-token patterns first: masking a piece could cut a token short of their length.
    text = _NAMED_VALUE.sub(lambda m: m.group(1) + MASK, text)
    text = _USERSIG_TOKEN.sub(MASK, text)
    spans = _pieces(text, _grams)
    if extras:
        spans += _pieces(text, _extra_grams(extras))
    if spans:
        text = _mask(text, spans)
    for secret in extras:
        text = text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
    pattern = _short
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return text


def safe_text(text: str, extra: Iterable[str | None] = (), limit: int = 400) -> str:
    """:func:`scrub` then :func:`roamtui.text.one_line`: the form every error text takes."""
    return one_line(scrub(text, extra), limit)


class RedactingFilter(logging.Filter):
    """Scrubs a record's final message in place (httpx logs the full URL at INFO level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not hide the log call that made it
            message = str(record.msg)
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


_filtered: set[str] = set()


def install_log_filter(*logger_names: str) -> None:
    """Attach one :class:`RedactingFilter` to each named logger (idempotent)."""
    with _lock:
        for name in logger_names:
            if name in _filtered:
                continue
            logging.getLogger(name).addFilter(RedactingFilter())
            _filtered.add(name)
