"""Command-line tools of parita: validate, build and the `parita` entry point."""
