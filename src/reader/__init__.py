"""reader: a terminal reader for local corpora of Chinese financial news."""

__version__ = "0.1.0"
