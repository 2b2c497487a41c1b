"""The IM REST protocol layer: UserSig, errors, HTTP client, message model, roaming pages.

Textual-free and free of config/keyring concerns; everything above builds on it.
"""
