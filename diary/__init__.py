"""diary: an encrypted command-line diary and notes tool (SQLCipher 4)."""

__version__ = "0.1.0"
