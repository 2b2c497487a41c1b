"""Settings: where to connect and how, from flags, environment, profiles and the keyring.

Textual-free (an import-linter contract keeps it so). ``defaults`` holds what a setting is when
nobody set it; ``config`` the profiles file; ``credentials`` the OS keyring and the secret
variables; ``connection`` the one connection type (``Resolved``) and ``resolve_connection``;
``recent`` the query screen's recent queries; ``marks`` the marks and notes on messages.
"""
