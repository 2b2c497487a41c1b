"""The Textual user interface: app, screens, widgets. The only layer that imports Textual."""
