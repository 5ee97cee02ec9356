"""The ``peruwire`` group loads a command's module only when that command is asked for, so
``base.COMMANDS`` must name every command's module: a command missing there would vanish."""

from __future__ import annotations

import importlib
import pkgutil

from freshpython import fresh_python

import peruwire_crawl.cli as cli_package
from peruwire_crawl.cli.base import COMMANDS, cli


def test_every_command_is_named_with_the_module_that_registers_it():
    for module in pkgutil.iter_modules(cli_package.__path__):
        if module.name != "__main__":  # that one runs the command
            importlib.import_module(f"peruwire_crawl.cli.{module.name}")
    registered = {name: command.callback.__module__ for name, command in cli.commands.items()}
    assert registered == COMMANDS


def test_one_command_loads_neither_the_database_layer_nor_scrapy():
    probe = ("import sys\nfrom peruwire_crawl.cli import main\ntry:\n    main(['extract', '--help'])\n"
             "except SystemExit:\n    pass\nprint(sorted(m for m in ('sqlalchemy', 'alembic', 'scrapy') if m in sys.modules))")
    out = fresh_python(probe)
    assert out.strip().endswith("[]"), out
