"""`digitkit info`."""

from __future__ import annotations

from digitkit.cli.options import JsonFlag


def command(json_output: JsonFlag = False) -> None:
    """Show versions, the devices TensorFlow sees, and where digitkit keeps its files."""
    from rich.markup import escape
    from rich.table import Table

    from digitkit._internal.environment import describe_environment
    from digitkit.render.console import out, print_json, working

    with working("asking TensorFlow which devices it sees ..."):  # importing it takes seconds
        info = describe_environment(with_devices=True)
    if json_output:
        print_json(info)
        return
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    for key, value in info.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value)) or "-"
        table.add_row(key, escape(str(value)))
    out().print(table)
