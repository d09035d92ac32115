"""Typer commands whose options come from one declaration (:mod:`digitkit._internal.declared`).

:func:`apply` gives a command function the signature Typer reads: the command's own
parameters (its arguments, ``--json``...) around the declared options, each as
``Annotated[type, typer.Option(...)]``. The function itself takes ``**options``.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Callable, Literal, Optional

import typer

from digitkit._internal.declared import Declared
from digitkit.cli import options as shared


def typer_option(declared: Declared) -> tuple[Any, typer.models.OptionInfo]:
    """The annotation type and ``typer.Option`` of one declared option."""
    extra: dict[str, Any] = {}
    if declared.metavar:
        extra["metavar"] = declared.metavar
    if declared.min is not None:
        extra["min"] = declared.min
    if declared.max is not None:
        extra["max"] = declared.max
    if declared.complete:
        extra["autocompletion"] = getattr(shared, declared.complete)
    kind: Any = declared.type
    if declared.choices:
        kind = Literal[declared.choices]  # type: ignore[valid-type]
    if declared.default is None and not declared.is_flag:
        kind = Optional[kind]
    return kind, typer.Option(*declared.flags, help=declared.help, show_default=declared.show_default, **extra)


def parameter(declared: Declared) -> inspect.Parameter:
    kind, info = typer_option(declared)
    return inspect.Parameter(declared.name, inspect.Parameter.KEYWORD_ONLY, default=declared.default,
                             annotation=Annotated[kind, info])


def apply(func: Callable[..., Any], declared: list[Declared], *, before: Callable[..., Any] | None = None,
          after: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """Give ``func`` the parameters of ``before``, then ``declared``, then ``after``.

    ``before`` and ``after`` are stubs whose signatures hold the command's own parameters.
    """
    own_before = list(inspect.signature(before, eval_str=True).parameters.values()) if before else []
    own_after = list(inspect.signature(after, eval_str=True).parameters.values()) if after else []
    params = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in own_before]
    params += [parameter(d) for d in declared]
    params += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own_after]
    func.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    func.__annotations__ = {p.name: p.annotation for p in params}
    return func
