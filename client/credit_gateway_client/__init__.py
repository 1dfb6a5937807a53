"""Client of the credit gateway's department API (no Django)."""

__version__ = "0.1.0"
