"""Where every figure of `pymc_bnn.reporting` is drawn and where it goes: its Axes and `save`.

Each plotting function draws on an Axes (made if not given, `axes_for`) and returns it
(`uncertainty_maps` and `group_surfaces`, which draw several maps, return the Figure). Works
headless: matplotlib falls back to its Agg backend when there is no display, and `save` closes
what it writes so long runs do not pile up figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from pymc_bnn.errors import InvalidSettingError


def axes_for(ax, figsize=(5.5, 4.5)):
    """The Axes to draw on: `ax` itself, or a new figure's when `ax` is None.

    Parameters
    ----------
    ax : matplotlib Axes or None
    figsize : (float, float), default (5.5, 4.5)
        The new figure's width and height (inches).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = axes_for(None, figsize=(3.0, 2.0))
    >>> ax.figure.get_size_inches().tolist(), axes_for(ax) is ax
    ([3.0, 2.0], True)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def save(ax_or_fig, path, dpi: int = 130) -> None:
    r"""Write the figure to `path` (format from the suffix) atomically and close it.

    Parameters
    ----------
    ax_or_fig : matplotlib Axes or Figure
    path : str or os.PathLike
        .png, .pdf, .svg, ... (a format matplotlib writes; no suffix writes PNG)
    dpi : int, default 130

    Raises
    ------
    InvalidSettingError
        When matplotlib cannot write the suffix's format; the figure is left open, to save
        under another name.

    Examples
    --------
    >>> from pymc_bnn.reporting.calibration_plots import coverage_curve
    >>> save(coverage_curve([0.5, 0.9], [0.5, 0.88]), "figures/coverage.png", dpi=50)
    >>> open("figures/coverage.png", "rb").read(4)
    b'\x89PNG'
    >>> save(coverage_curve([0.5, 0.9], [0.5, 0.88]), "figures/coverage.txt")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: cannot save figures/coverage.txt: ...
    """
    import io
    from pathlib import Path

    from pymc_bnn._runtime.atomic_writes import write_bytes_atomic
    from pymc_bnn._runtime.file_kinds import PNG_SOFTWARE

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    buffer = io.BytesIO()
    kind = Path(path).suffix.lstrip(".").lower() or "png"
    formats = fig.canvas.get_supported_filetypes()
    if kind not in formats:
        raise InvalidSettingError(
            f"cannot save {path}: matplotlib writes no {kind!r} figures; use one of the "
            f"suffixes {', '.join(sorted(formats))}, e.g. {Path(path).with_suffix('.png')}")
    # a PNG says it is pymc-bnn's, so a later run may replace it (`_runtime.file_kinds`)
    marked = {"metadata": {"Software": PNG_SOFTWARE}} if kind == "png" else {}
    fig.savefig(buffer, format=kind, dpi=dpi, **marked)
    plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue())

