"""How the CLI reads a CSV file: its separator, its encoding and its compression.

A CSV comes as its tool wrote it: Excel writes semicolons where the decimal mark is a comma
(much of Europe) and cp1252 on Windows, a `.tsv.gz` is tab-separated under gzip. The separator
is `--sep`, else a tab for `.tsv` (under a compression suffix too: `.tsv.gz`), else found in
the header line: semicolons, tabs or bars (|) when the header has one of these and no comma
outside quotes; commas otherwise. The encoding is `--encoding`, else UTF-8 (with or without a
byte-order mark); it is never guessed. Compression follows the suffix, as pandas reads it
(.gz, .bz2, .xz, .zip, .zst, .tar).

Numbers are read with a decimal point unless `--decimal ,` says commas (Excel's where the
separator is a semicolon); a column of numbers with decimal commas read as text is refused with
that fix (`pymc_bnn.cli.table_files.read_table`), never coded as categories.

`csv_format` resolves the separator and encoding of one file; every read of the file
(`pymc_bnn.cli.table_files.read_table`, its header re-read, `read_text_columns`) uses it, so each
read splits the rows the same way. Nothing here changes how predictions are written: a CSV of
comma-separated UTF-8.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Separators found in a header line without commas, and what messages call them.
SNIFFED = {";": "semicolons", "\t": "tabs", "|": "bars (|)"}
# Suffixes pandas decompresses (pandas.io.common.extension_to_compression), longest first.
COMPRESSION_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar", ".gz", ".bz2", ".zip",
                        ".xz", ".zst")
_HEAD_BYTES = 65536  # enough for any header line worth sniffing


@dataclass(frozen=True)
class CsvFormat:
    """The separator and encoding a CSV file is read with, and where the separator came from.

    Parameters
    ----------
    sep : str
        One character.
    encoding : str
        A Python codec name, as pandas' `read_csv` takes it.
    source : str
        How `sep` was chosen: "--sep", ".tsv", "header" (found in the header line) or
        "default" (commas).
    decimal : str, default "."
        The decimal mark of numbers (`--decimal`).

    Examples
    --------
    >>> CsvFormat(";", "utf-8", "header").described
    'separated by semicolons (found in its header line)'
    >>> CsvFormat(";", "cp1252", "--sep", decimal=",").described
    'separated by semicolons (--sep), decimal commas, in cp1252'
    >>> CsvFormat(",", "utf-8", "default").described
    ''
    """

    sep: str
    encoding: str
    source: str
    decimal: str = "."

    @property
    def described(self) -> str:
        """The format in words, "" for plain CSV (commas, UTF-8, nothing given)."""
        why = {"--sep": "--sep", ".tsv": "a .tsv file", "header": "found in its header line",
               "default": "the default"}[self.source]
        parts = [] if self.source == "default" else [f"separated by {separator_name(self.sep)} "
                                                     f"({why})"]
        if self.decimal != ".":
            parts.append("decimal commas" if self.decimal == "," else
                         f"decimal mark {self.decimal!r}")
        if codecs.lookup(self.encoding).name != "utf-8":
            parts.append(f"in {self.encoding}")
        return ", ".join(parts)


def separator_name(sep: str) -> str:
    r"""What messages call separator `sep`: "commas", "semicolons", "tabs" … or "';'".

    Examples
    --------
    >>> separator_name(","), separator_name("\t"), separator_name(":")
    ('commas', 'tabs', "':'")
    """
    return {",": "commas", **SNIFFED}.get(sep, repr(sep))


def data_suffix(path) -> str:
    """The suffix that says what a file holds, under a compression suffix (lower case).

    Examples
    --------
    >>> data_suffix("rows.TSV.gz"), data_suffix("book.xlsx.zip"), data_suffix("rows.csv")
    ('.tsv', '.xlsx', '.csv')
    >>> data_suffix("rows.gz")
    ''
    """
    name = Path(path).name.lower()
    for suffix in COMPRESSION_SUFFIXES:
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    return Path(name).suffix


def is_tsv(path) -> bool:
    """Whether `path` ends in .tsv, also under a compression suffix (.tsv.gz, .tsv.zip …).

    Examples
    --------
    >>> is_tsv("rows.tsv"), is_tsv("rows.TSV.gz"), is_tsv("rows.tsv.tar.xz"), is_tsv("rows.csv")
    (True, True, True, False)
    """
    return data_suffix(path) == ".tsv"


def sniff_separator(text: str) -> str:
    r"""The separator of a CSV whose text begins with `text` (its header line at least).

    Only the first line (record) counts, and only its characters outside double quotes: a
    comma there means commas; else exactly one of ';', tab and '|' is that one; anything else
    (none of them, or several) means commas.

    Parameters
    ----------
    text : str
        The start of the file, decoded.

    Returns
    -------
    str
        One character.

    Examples
    --------
    >>> sniff_separator("bill_mm;mass_g;species\n39,1;3750;Adelie\n")
    ';'
    >>> sniff_separator('"length, cm"\t"mass; g"\tspecies\n')  # quoted text does not count
    '\t'
    >>> sniff_separator("id,name;alias\n"), sniff_separator("a;b|c\n"), sniff_separator("y\n")
    (',', ',', ',')
    """
    kept: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "\r\n":
            break
        else:
            kept.append(char)
    header = "".join(kept)
    found = [sep for sep in SNIFFED if sep in header]
    return found[0] if "," not in header and len(found) == 1 else ","


def csv_format(path, sep: str | None = None, encoding: str | None = None,
               decimal: str | None = None) -> CsvFormat:
    r"""How to read the CSV file at `path`: `--sep`, `--encoding`, `--decimal` as given, or found.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV file, compressed or not.
    sep : str, optional
        `--sep`; None: a tab for .tsv, else `sniff_separator` on the file's first line.
    encoding : str, optional
        `--encoding`; None: UTF-8 (pandas skips a UTF-8 byte-order mark).
    decimal : str, optional
        `--decimal`; None: a point.

    Returns
    -------
    CsvFormat

    Examples
    --------
    >>> _ = open("eu.csv", "w", encoding="utf-8").write("length;mass\n3,5;4100\n")
    >>> csv_format("eu.csv")
    CsvFormat(sep=';', encoding='utf-8', source='header', decimal='.')
    >>> csv_format("eu.csv", encoding="cp1252", decimal=",")
    CsvFormat(sep=';', encoding='cp1252', source='header', decimal=',')
    >>> import gzip
    >>> with gzip.open("rows.tsv.gz", "wt") as file:
    ...     _ = file.write("a,b\tc\n1\t2\n")
    >>> csv_format("rows.tsv.gz")
    CsvFormat(sep='\t', encoding='utf-8', source='.tsv', decimal='.')
    """
    encoding, decimal = encoding or "utf-8", decimal or "."
    if sep is not None:
        return CsvFormat(sep, encoding, "--sep", decimal)
    if is_tsv(path):
        return CsvFormat("\t", encoding, ".tsv", decimal)
    head = read_head(path)
    text = "" if head is None else codecs.getincrementaldecoder(encoding)(
        errors="replace").decode(head)
    found = sniff_separator(text)
    return CsvFormat(found, encoding, "default" if found == "," else "header", decimal)


def read_head(path, size: int = _HEAD_BYTES) -> bytes | None:
    r"""The first `size` bytes of a file as pandas reads it (decompressed); None if unreadable.

    A file pandas cannot open either (a zip of several files, a broken gzip) gives None: its
    read then fails with pandas' own reason.

    Examples
    --------
    >>> import gzip
    >>> with gzip.open("rows.csv.gz", "wb") as file:
    ...     _ = file.write(b"a;b\n1;2\n")
    >>> read_head("rows.csv.gz", 4)
    b'a;b\n'
    """
    try:
        return _read_decompressed(Path(path), size)
    except Exception:  # noqa: BLE001 - any failure to open is reported by the read itself
        return None


def _read_decompressed(path: Path, size: int) -> bytes:
    """The first `size` bytes of `path`'s contents, decompressed by its suffix as pandas does.

    The standard library's readers for the suffixes pandas infers (`.gz`, `.bz2`, `.xz`,
    `.zip` and `.tar` holding one file, `.tar.gz` …; `.zst` where `zstandard` is installed);
    anything else is read as it is. Raises where the file cannot be read that way.
    """
    import bz2
    import gzip
    import lzma
    import tarfile
    import zipfile

    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if ".tar" in suffixes:
        with tarfile.open(path) as archive:
            members = [m for m in archive.getmembers() if m.isfile()]
            member = archive.extractfile(members[0]) if len(members) == 1 else None
            if member is None:
                raise ValueError("only a tar archive of one file is read")
            return member.read(size)
    suffix = suffixes[-1] if suffixes else ""
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise ValueError("only a zip of one file is read")
            with archive.open(names[0]) as file:
                return file.read(size)
    if suffix == ".zst":
        import zstandard  # type: ignore[import-not-found]  # pandas needs it for these too

        with zstandard.open(path, "rb") as file:
            return file.read(size)
    openers: dict[str, Callable[..., Any]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
    with openers.get(suffix, open)(path, "rb") as file:
        return file.read(size)


def reads_as_text(path) -> bool:
    r"""Whether a file's first 4 KB (decompressed) are text in some 8-bit encoding.

    No control bytes but tab, newline and carriage return: a CSV in Latin-1 or cp1252, not a
    binary file (nor UTF-16, whose ASCII letters come with zero bytes).

    Examples
    --------
    >>> _ = open("latin1.csv", "wb").write("café,label\n1,0\n".encode("latin-1"))
    >>> _ = open("binary.csv", "wb").write(b"PK\x03\x04\x00\x01")
    >>> reads_as_text("latin1.csv"), reads_as_text("binary.csv")
    (True, False)
    """
    head = read_head(path, 4096)
    return head is not None and not any(b < 32 and b not in (9, 10, 13) for b in head)


def decode_fix(path, encoding: str | None) -> str:
    r"""The fix for a CSV that did not decode as `encoding` (None: UTF-8, the default).

    For a file of 8-bit text: name its encoding with `--encoding` (Excel on Windows writes
    cp1252), or save it as UTF-8. The encoding is not guessed: cp1252 and Latin-1 read the same
    bytes as different letters, and only the user knows which is right.

    Examples
    --------
    >>> _ = open("latin1.csv", "wb").write("café,label\n1,0\n".encode("latin-1"))
    >>> print(decode_fix("latin1.csv", None))  # doctest: +NORMALIZE_WHITESPACE
    it is not UTF-8: pass its encoding, e.g. --encoding cp1252 (Excel on Windows) or
    --encoding latin-1, or save it as UTF-8
    >>> print(decode_fix("latin1.csv", "ascii"))  # doctest: +NORMALIZE_WHITESPACE
    it is not ascii: pass its encoding with --encoding (e.g. utf-8, cp1252, latin-1), or save
    it as UTF-8
    """
    if not reads_as_text(path):
        return "pass a CSV with a header row or a .parquet file"
    if encoding is None:
        return ("it is not UTF-8: pass its encoding, e.g. --encoding cp1252 (Excel on "
                "Windows) or --encoding latin-1, or save it as UTF-8")
    return (f"it is not {encoding}: pass its encoding with --encoding (e.g. utf-8, cp1252, "
            "latin-1), or save it as UTF-8")
