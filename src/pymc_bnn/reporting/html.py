"""Self-contained HTML reports: sections of text, tables and figures, images embedded as base64.

A report is a list of `Section`s; `render_html` turns it into one page that opens anywhere with
no other files.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

from pymc_bnn._runtime.file_kinds import PAGE_MARK, PNG_SOFTWARE

# What a table cell holds: text, a count, or a number (floats are shown to 4 significant
# digits); `Table.rows` is a list of rows of these.
type Cell = str | int | float


@dataclass(frozen=True)
class Figure:
    r"""A PNG image and the caption that tells the reader what to see in it.

    Parameters
    ----------
    png : bytes
        The image (e.g. from `figure_png`).
    caption : str
        What to see in it.
    title : str, default ""
        A heading above it.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> figure = Figure(figure_png(fig), "An empty plot.", "Nothing")
    >>> figure.png[:4]
    b'\x89PNG'
    """

    png: bytes
    caption: str
    title: str = ""


@dataclass(frozen=True)
class Table:
    """Rows of cells; the first row is the header.

    Parameters
    ----------
    rows : list of list
        Cells: floats are shown to 4 significant digits, anything else as text.
    caption : str, default ""
        Shown under the table.

    Examples
    --------
    >>> table = Table([["metric", "value"], ["accuracy", 0.97234]], caption="Held out.")
    >>> "<td>0.9723</td>" in render_html("Scores", [Section("Scores", tables=[table])])
    True
    """

    rows: list[list]
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """One `<h2>` section of a report: paragraphs, then tables, then figures.

    Parameters
    ----------
    title : str
        The heading.
    paragraphs : list of str, optional
        Plain text (escaped when rendered).
    tables : list of Table, optional
    figures : list of Figure, optional

    Examples
    --------
    >>> section = Section("Data", ["42 rows, 2 features."])
    >>> "<h2>Data</h2>" in render_html("Report", [section])
    True
    """

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def figure_png(ax_or_fig, dpi: int = 110) -> bytes:
    r"""PNG bytes of a matplotlib figure (or the figure of an Axes); closes the figure.

    Parameters
    ----------
    ax_or_fig : matplotlib Figure or Axes
    dpi : int, default 110
        Resolution.

    Returns
    -------
    bytes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(2, 2))
    >>> png = figure_png(ax, dpi=50)
    >>> png[:8] == b"\x89PNG\r\n\x1a\n", plt.fignum_exists(fig.number)
    (True, False)
    """
    import matplotlib.pyplot as plt

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": PNG_SOFTWARE})
    plt.close(fig)
    return buffer.getvalue()


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _render_table(table: Table) -> str:
    head, *body = table.rows
    out = ["<table>"]
    if table.caption:
        out.append(f"<caption>{html.escape(table.caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{_cell(c)}</th>" for c in head) + "</tr>")
    for row in body:
        out.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _render_figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    title = f"<h3>{html.escape(figure.title)}</h3>" if figure.title else ""
    alt = html.escape(figure.title or figure.caption)
    return (
        f'<figure>{title}<img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>"
    )


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:980px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.7em;margin-bottom:.2em}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{font-size:1em;margin:.3em 0}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}caption{caption-side:bottom;
font-size:.9em;color:#555;padding-top:.3em;text-align:left}
.figures{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0;flex:1 1 420px;max-width:100%}
figure img{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}
.meta{color:#666;font-size:.9em}
"""


def render_html(title: str, sections: list[Section], subtitle: str = "") -> str:
    """One self-contained HTML page: every image is embedded, nothing else is needed to open it.

    Parameters
    ----------
    title : str
        The page's title and `<h1>`.
    sections : list of Section
    subtitle : str, default ""
        A line under the title (method, seed, version …).

    Returns
    -------
    str

    Examples
    --------
    >>> page = render_html("pymc-bnn report", [Section("Fit", ["Converged <quickly>."])],
    ...                    subtitle="seed 0")
    >>> page.startswith("<!DOCTYPE html>"), "Converged &lt;quickly&gt;." in page
    (True, True)
    """
    parts = [
        "<!DOCTYPE html>",
        # the generator tag tells the CLI's output checks that a page is ours to replace
        f'<html lang="en"><head><meta charset="utf-8">{PAGE_MARK.decode()}',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="meta">{html.escape(subtitle)}</p>')
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
        parts.extend(_render_table(t) for t in section.tables)
        if section.figures:
            parts.append('<div class="figures">')
            parts.extend(_render_figure(f) for f in section.figures)
            parts.append("</div>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
