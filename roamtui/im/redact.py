"""Redaction of secret keys and UserSigs from every text that may reach a person or a log.

The client registers each secret it holds (the app secret key, a ready UserSig, each UserSig it
signs); :func:`scrub` then masks those, plus anything that looks like a ``usersig=`` value or a
TLSSigAPIv2 token, so that even texts built by other code (httpx messages that embed the request
URL, an ``ErrorInfo`` that echoes the signature) come out clean.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

MASK = "***"

# Shorter "secrets" would mask ordinary words in messages; real keys and sigs are far longer.
_MIN_SECRET_LEN = 6
# One signature per client per hour is registered; the cap only matters for very long sessions.
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

_lock = threading.Lock()
_secrets: dict[str, None] = {}  # insertion-ordered set, so the oldest can be dropped
_pattern: re.Pattern[str] | None = None


def register(*secrets: str | None) -> None:
    """Remember secrets so that :func:`scrub` masks them wherever they turn up."""
    global _pattern
    with _lock:
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET_LEN:
                continue
            # httpx and urllib percent-encode `*`, `+`, `/` and `=` in query strings.
            for form in {secret, quote(secret, safe=""), quote(secret, safe="*-_")}:
                _secrets.pop(form, None)
                _secrets[form] = None
        while len(_secrets) > _MAX_REGISTERED:
            del _secrets[next(iter(_secrets))]
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None


def scrub(text: str, extra: Iterable[str | None] = ()) -> str:
    """Return ``text`` with registered secrets, ``extra`` ones and UserSig-like values masked."""
    for secret in extra:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            text = text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _NAMED_VALUE.sub(lambda m: m.group(1) + MASK, text)
    return _USERSIG_TOKEN.sub(MASK, text)


def one_line(text: str, limit: int = 400) -> str:
    """Make untrusted text safe for a one-line message: no controls, no newlines, bounded."""
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\r\n\t" or category == "Zl" or category == "Zp":
            out.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    flat = " ".join("".join(out).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def safe_text(text: str, extra: Iterable[str | None] = (), limit: int = 400) -> str:
    """:func:`scrub` then :func:`one_line`: the form every error text takes."""
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
