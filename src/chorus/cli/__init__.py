"""The ``chorus`` command. It only parses arguments, calls the library and prints results;
each area's commands live in their own module and register on the one group."""

from __future__ import annotations

from chorus.cli import changes, corpus, outputs, stages, watch
from chorus.cli.base import cli, make_settings, setting_option

__all__ = ["cli", "main", "make_settings", "setting_option"]
# Imported for their commands, which register on ``cli``.
_COMMANDS = (changes, corpus, outputs, stages, watch)


def main() -> None:
    cli(prog_name="chorus")
