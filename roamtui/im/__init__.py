"""The IM REST protocol layer: UserSig, errors, HTTP client, message model, roaming pages.

Textual-free and free of config/keyring concerns; everything above builds on it.
"""

import sys

# httpx's __init__ imports its command-line tool (click, rich.progress, rich.syntax, pygments),
# about 35 ms of `roamtui demo`'s start-up spent on code roamtui never runs. A None entry makes
# that import fail, and httpx then defines a stub `httpx.main` instead; the client is unchanged.
if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
