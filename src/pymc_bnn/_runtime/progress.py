"""The one rich progress bar that long work shows: title, bar, done/total, a status, time.

ADVI (steps), NUTS (draws per chain), active learning (labels) and the CLI's demos (fits) all
draw it through `progress_bar`, so they look alike and a disabled bar costs nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def progress_bar(enabled: bool, title: str, total: int | None, status: str = "", *, console=None,
                 transient: bool = False) -> Iterator[Callable[..., None]]:
    """A rich progress bar, as a context that yields its `update` function.

    `update(completed=, advance=, total=, title=, status=)` takes each argument optionally
    (None leaves it as it is); `status` is free text after the count. A `total` of None is
    not known yet (the count reads "done/?"). Disabled: update does nothing and rich is not
    imported.
    """
    if not enabled:
        yield lambda **changes: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(bar_width=16), MofNCompleteColumn(),
               TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=transient) as progress:
        task = progress.add_task(title, total=total, status=status)

        def update(*, completed=None, advance=None, total=None, title=None, status=None):
            changes = {"completed": completed, "advance": advance, "total": total,
                       "description": title, "status": status}
            progress.update(task, **{k: v for k, v in changes.items() if v is not None})

        yield update


def progress_note(enabled: bool, text: str, *, console=None) -> None:
    """One line above the next progress bars, saying what they are about (rich markup).

    Nothing when disabled (rich is not imported).

    Examples
    --------
    >>> progress_note(False, "[bold]Stacking[/] · the network, on every row")  # prints nothing
    """
    if not enabled:
        return
    from rich import get_console

    (console or get_console()).print(text)
