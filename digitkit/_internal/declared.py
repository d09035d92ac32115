"""Command options declared once, as data: the library's option types and the CLI read the same table.

A :class:`Declared` says everything a command line needs about one option (flags, value
type, range, help) without importing Typer, so the library can own the declaration
(``FitOptions``' fields carry theirs) and both the Typer command
(:func:`digitkit.cli.declared.apply`) and the Typer-free fast entry of ``predict``
(:mod:`digitkit.cli.entry`) are made from it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

METADATA_KEY = "digitkit.option"


@dataclass(frozen=True)
class Declared:
    """One command-line option.

    Attributes:
        flags: the option's spellings, long first (``("--epochs", "-e")``).
        help: the ``--help`` line.
        type: the value's type (``bool`` for a flag that takes no value).
        name: the keyword argument it fills (set from the field name by :func:`of_dataclass`).
        default: the value when the option is not given.
        metavar: the value's placeholder in ``--help``.
        min, max: inclusive bounds of a numeric value.
        choices: the accepted values of a text option.
        complete: name of a shell-completion function in :mod:`digitkit.cli.options`.
        show_default: whether ``--help`` shows the default.
    """

    flags: tuple[str, ...]
    help: str
    type: type = str
    name: str = ""
    default: Any = None
    metavar: str | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    complete: str | None = None
    show_default: bool = True

    @property
    def is_flag(self) -> bool:
        return self.type is bool

    def parse(self, text: str) -> Any:
        """The value of ``text`` for this option.

        Raises:
            ValueError: not of the type, out of range, NaN or not among the choices.
        """
        value = self.type(text)
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("NaN")
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            raise ValueError(f"out of range: {value}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"not one of {self.choices}: {value}")
        return value


def option(default: Any, *flags: str, help: str, type: type = str, **extra: Any) -> Any:
    """A dataclass field carrying its command-line declaration (see :func:`of_dataclass`)."""
    declared = Declared(tuple(flags), help, type, default=default, **extra)
    return dataclasses.field(default=default, metadata={METADATA_KEY: declared})


def of_dataclass(cls: Any) -> list[Declared]:
    """The declared options of a dataclass' fields, in field order, named after the fields."""
    found = []
    for item in dataclasses.fields(cls):
        declared = item.metadata.get(METADATA_KEY)
        if declared is not None:
            found.append(dataclasses.replace(declared, name=item.name, default=item.default))
    return found


def fast_table(options: list[Declared]) -> tuple[dict[str, Declared], dict[str, Declared]]:
    """``(value options, flags)`` by spelling, for a parser that needs no Typer."""
    values: dict[str, Declared] = {}
    flags: dict[str, Declared] = {}
    for declared in options:
        for flag in declared.flags:
            (flags if declared.is_flag else values)[flag] = declared
    return values, flags


Converter = Callable[[str], Any]
