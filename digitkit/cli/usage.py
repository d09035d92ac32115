"""How the command line reads: global options anywhere, one metavar style in every usage line.

Typer builds click commands on each run; :func:`tidy_params` walks the finished tree once
instead of repeating ``metavar=`` on every option of every command.
"""

from __future__ import annotations

from typing import Any

GLOBAL_FLAGS = ("--debug",)
GLOBAL_VALUES = ("--home",)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move ``--debug`` and ``--home DIR`` to the front, so they work after the subcommand too.

    ``digitkit runs --home /tmp/h`` then means ``digitkit --home /tmp/h runs``. Nothing after
    ``--`` is touched.

    Args:
        args: the command line, without the program name.

    Returns:
        The same tokens, global options first.
    """
    hoisted: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            rest.extend(args[index:])
            break
        if token in GLOBAL_FLAGS or token.split("=", 1)[0] in GLOBAL_VALUES and "=" in token:
            hoisted.append(token)
        elif token in GLOBAL_VALUES and index + 1 < len(args):
            hoisted.extend(args[index:index + 2])
            index += 1
        else:
            rest.append(token)
        index += 1
    return hoisted + rest


def tidy_params(command: Any) -> None:
    """Give every parameter of ``command`` and its subcommands one metavar style.

    Values are upper-case words (``MODEL``, ``--dataset DATASET``), numbers ``N`` (counts) or ``X``,
    choices are ``[a|b|c]``, flags have none; usage lines read ``digitkit predict [OPTIONS] PATHS...`` with optional arguments in
    brackets, as in click and most command-line tools.
    """
    for param in getattr(command, "params", []):
        if param.param_type_name == "argument":
            _tidy_argument(param)
        elif not getattr(param, "is_flag", False) and not getattr(param, "count", False):
            _tidy_option(param)
    for sub in getattr(command, "commands", {}).values():
        tidy_params(sub)


def _choices(param: Any) -> list[str] | None:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and descriptor.is_choice and descriptor.choices:
        return [str(getattr(c, "value", c)) for c in descriptor.choices]
    return None


# Numbers read as N (a count) or X (a fraction or rate); other values by what they name.
TYPE_METAVARS = {int: "N", float: "X"}


def _tidy_option(param: Any) -> None:
    if param.metavar is None:
        choices = _choices(param)
        descriptor = getattr(param, "type_descriptor", None)
        annotation = getattr(descriptor, "annotation", None)
        if choices:
            param.metavar = f"[{'|'.join(choices)}]"
        else:
            param.metavar = TYPE_METAVARS.get(annotation, param.name.upper())


def _tidy_argument(param: Any) -> None:
    if param.metavar is None:
        param.metavar = param.name.upper()
    shown = param.metavar + ("..." if param.nargs != 1 else "")
    if not param.required:
        shown = f"[{shown}]"
    # Instance attributes win over the class's methods: the usage line shows `shown`, and the
    # help line the name alone (a `<str>` type says nothing a user can act on).
    param.get_usage_pieces = lambda ctx, shown=shown: [shown]
    param.display_type_rich = lambda ctx: None
