"""The embedded stand-in of Tencent Cloud IM's `admin_getroammsg`, and its demo dataset.

Textual-free; imports only the stdlib and `roamtui.im` (httpx only inside `mock_transport`).

    from roamtui.sandbox import Dataset, SandboxServer, demo_connection
    with SandboxServer(Dataset(seed=0, messages=5_000)) as server:
        conn = demo_connection(server.endpoint)   # sign with the demo secret key

The demo credentials are not secrets: `roamtui sandbox` prints them on purpose.
"""

from roamtui.sandbox.dataset import Dataset, MessageRecord
from roamtui.sandbox.elements import Kind
from roamtui.sandbox.faults import Fault
from roamtui.sandbox.server import SandboxServer, demo_connection
from roamtui.sandbox.service import (
    DEFAULT_PAGE_CAP,
    DEMO_ADMIN,
    DEMO_SDKAPPID,
    DEMO_SECRET_KEY,
    ROAM_PATH,
    Reply,
    SandboxService,
    ServiceStats,
)
from roamtui.sandbox.store import Conversation, ListStore, MessageStore

__all__ = [
    "DEFAULT_PAGE_CAP",
    "DEMO_ADMIN",
    "DEMO_SDKAPPID",
    "DEMO_SECRET_KEY",
    "ROAM_PATH",
    "Conversation",
    "Dataset",
    "Fault",
    "Kind",
    "ListStore",
    "MessageRecord",
    "MessageStore",
    "Reply",
    "SandboxServer",
    "SandboxService",
    "ServiceStats",
    "demo_connection",
]
