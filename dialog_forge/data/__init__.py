"""Data files shipped with dialog_forge."""
