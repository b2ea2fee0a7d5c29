"""parita: a linked open data publisher for Italy's equal-opportunity public sector."""

__version__ = "0.1.0"
