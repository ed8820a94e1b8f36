"""The ``omnistock`` command (``service.cli.main``); one module per family of subcommands, and
``common`` for what they share."""

from service.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
