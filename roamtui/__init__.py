"""roamtui: a read-only terminal browser for Tencent Cloud IM one-to-one chat history."""

__version__ = "0.1.0"
