"""The app's screens: query (the form), browse (a transcript), help and the secret prompt."""
