"""CSV files as spreadsheets and other tools write them: semicolons (Excel where the decimal
mark is a comma), tabs under gzip, cp1252 (Excel on Windows), a UTF-8 byte-order mark. The CLI
reads them as they are, or with --sep / --encoding / --decimal; what it cannot read it refuses in
one line naming the flag. A semicolon file was refused with "save it as comma-separated", a
cp1252 file with "save it as UTF-8", and a .tsv.gz was read with commas."""

import gzip
import zipfile

import numpy as np
import pandas as pd
import pytest

from pymc_bnn import load
from pymc_bnn.cli.app import main
from pymc_bnn.cli.csv_format import csv_format, sniff_separator
from pymc_bnn.cli.table_files import read_table
from pymc_bnn.errors import InvalidInputError
from reliability.helpers import (
    TINY_CLI,
    assert_one_line_error,
    run_cli,
    without_unfinished_fit_note,
)

ROWS = 30


def _rows(seed: int = 0) -> pd.DataFrame:
    """Two numbers, a town with accents, free text with a comma in it, a zero-padded id, a
    remark with accents (not a feature: `predict` copies it) and a label that follows the
    numbers."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(ROWS, 2))
    return pd.DataFrame({
        "id": [f"{i:04d}" for i in range(ROWS)],
        "x0": X[:, 0].round(3), "x1": X[:, 1].round(3),
        "town": np.where(X[:, 1] > 0, "Orléans", "Zürich"),
        "note": ["late, wet" if i % 2 else "fine" for i in range(ROWS)],
        "remark": ["café" if i % 3 else "thé, noir" for i in range(ROWS)],
        "y": np.where(X[:, 0] + X[:, 1] > 0, "yes", "no"),
    })


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A model fitted on a semicolon-separated CSV (no flag), and the same rows in other forms."""
    folder = tmp_path_factory.mktemp("csv_formats")
    rows = _rows()
    rows.to_csv(folder / "train.csv", sep=";", index=False)
    assert main(["fit", str(folder / "train.csv"), "--target", "y", "--id", "id", "--exclude",
                 "remark", "--out", str(folder / "model.bnn.nc"), *TINY_CLI]) == 0
    rows.to_csv(folder / "plain.csv", index=False)
    return folder


def _predict(capsys, folder, data, *flags, out="pred.csv"):
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", data, "--out",
                           folder / out, "--quiet", "--force", *flags)
    assert code == 0, err
    return pd.read_csv(folder / out, dtype={"id": str})


def test_a_semicolon_csv_fits_and_predicts_without_a_flag(folder, capsys):
    model = load(folder / "model.bnn.nc")
    assert list(model.feature_names_in_) == ["x0", "x1", "town", "note"]
    assert sorted(model.table_encoding_["categories"][0]) == ["Orléans", "Zürich"]
    predicted = _predict(capsys, folder, folder / "train.csv")
    assert len(predicted) == ROWS
    assert predicted["id"].tolist()[:2] == ["0000", "0001"]  # copied as written
    # the same rows written with commas predict the same
    plain = _predict(capsys, folder, folder / "plain.csv", out="plain_pred.csv")
    pd.testing.assert_frame_equal(predicted, plain)
    assert predicted["remark"].tolist() == _rows()["remark"].tolist()
    # predictions are written as comma-separated UTF-8 whatever DATA's separator
    written = (folder / "pred.csv").read_text(encoding="utf-8").splitlines()
    assert written[0] == "id,remark,y,prediction,p_no,p_yes"
    assert written[1].startswith('0000,"thé, noir",')


def test_the_status_line_says_how_the_file_was_read(folder, capsys):
    code, out, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / "train.csv",
                             "--out", folder / "said.csv", "--force")
    assert code == 0, err
    out = " ".join(out.split())  # rich wraps the line at the terminal's width (80 without one)
    assert "Reading " in out and "separated by semicolons (found in its header line)" in out


def test_a_tsv_gz_is_read_with_tabs(folder, capsys):
    """The free text has commas: read with commas (the last suffix is .gz), the rows split."""
    rows = _rows()
    with gzip.open(folder / "rows.tsv.gz", "wt", encoding="utf-8") as file:
        rows.drop(columns="y").to_csv(file, sep="\t", index=False)
    read = read_table(folder / "rows.tsv.gz")
    assert list(read.columns) == ["id", "x0", "x1", "town", "note", "remark"]
    assert read["note"].tolist()[:2] == ["fine", "late, wet"]
    predicted = _predict(capsys, folder, folder / "rows.tsv.gz", out="tsv_pred.csv")
    assert len(predicted) == ROWS and predicted["remark"].tolist()[0] == "thé, noir"
    np.testing.assert_allclose(predicted["p_yes"],
                               _predict(capsys, folder, folder / "plain.csv")["p_yes"])


def test_a_compressed_csv_is_sniffed_after_decompression(tmp_path):
    with gzip.open(tmp_path / "rows.csv.gz", "wt", encoding="utf-8") as file:
        file.write("a|b|c\n1|2|x, y\n")
    assert read_table(tmp_path / "rows.csv.gz").to_dict("list") == {
        "a": [1], "b": [2], "c": ["x, y"]}


def _compressed(path, suffix: str, data: bytes):
    """`data` written to path/rows.csv<suffix> the way that suffix's tools write it."""
    import bz2
    import io
    import lzma
    import tarfile

    target = path / f"rows.csv{suffix}" if suffix != ".tar.gz" else path / "rows.tar.gz"
    if suffix in (".gz", ".bz2", ".xz"):
        opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[suffix]
        with opener(target, "wb") as file:
            file.write(data)
    elif suffix == ".zip":
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("rows.csv", data)
    else:
        with tarfile.open(target, "w:gz") as archive:
            member = tarfile.TarInfo("rows.csv")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return target


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip", ".tar.gz"])
def test_every_compression_pandas_reads_is_sniffed_as_pandas_reads_it(tmp_path, suffix):
    """The header is sniffed from the decompressed bytes (the standard library's readers, not
    pandas' private ones), and the table read is pandas' own of the same file."""
    from pymc_bnn.cli.csv_format import read_head

    data = b"a;b;c\n1;2;x, y\n"
    target = _compressed(tmp_path, suffix, data)
    assert read_head(target, 6) == data[:6]
    assert csv_format(target).sep == ";"
    assert read_table(target).to_dict("list") == pd.read_csv(target, sep=";").to_dict("list")
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        archive.writestr("a.csv", data)
        archive.writestr("b.csv", data)
    assert read_head(tmp_path / "two.zip") is None  # pandas refuses it too, with its reason


def test_a_cp1252_file_is_refused_naming_encoding_and_read_with_it(folder, capsys, tmp_path):
    rows = _rows(seed=1)
    rows.to_csv(tmp_path / "excel.csv", sep=";", index=False, encoding="cp1252")
    out = ["--out", tmp_path / "m.bnn.nc", "--target", "y", "--exclude", "remark", *TINY_CLI]
    code, _, err = run_cli(capsys, "fit", tmp_path / "excel.csv", *out)
    assert_one_line_error(code, err, "cannot read", "excel.csv as CSV (UnicodeDecodeError",
                          "it is not UTF-8: pass its encoding, e.g. --encoding cp1252 (Excel on "
                          "Windows) or --encoding latin-1, or save it as UTF-8")
    code, _, err = run_cli(capsys, "fit", tmp_path / "excel.csv", "--encoding", "cp1252", *out)
    assert code == 0, err
    encoding = load(tmp_path / "m.bnn.nc").table_encoding_
    assert sorted(encoding["categories"][0]) == ["Orléans", "Zürich"]  # not 'OrlÃ©ans'
    # predict reads it (and copies its text) with the same encoding; the output is UTF-8
    code, _, err = run_cli(capsys, "predict", tmp_path / "m.bnn.nc", tmp_path / "excel.csv",
                           "--encoding", "cp1252", "--out", tmp_path / "p.csv", "--quiet")
    assert code == 0, err
    predicted = pd.read_csv(tmp_path / "p.csv", encoding="utf-8")
    assert len(predicted) == ROWS
    assert predicted["remark"].tolist() == rows["remark"].tolist()
    assert predicted["y"].tolist() == rows["y"].tolist()
    # no note of towns not seen in training (as mojibake would be)
    assert without_unfinished_fit_note(err) == ""


def test_a_cp1252_file_is_refused_by_predict_too(folder, capsys):
    _rows().drop(columns="y").to_csv(folder / "new_cp.csv", index=False, encoding="cp1252")
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / "new_cp.csv",
                           "--out", folder / "cp_pred.csv")
    assert_one_line_error(code, err, "UnicodeDecodeError", "--encoding cp1252")
    predicted = _predict(capsys, folder, folder / "new_cp.csv", "--encoding", "cp1252",
                         out="cp_pred.csv")
    assert predicted["remark"].tolist() == _rows()["remark"].tolist()
    np.testing.assert_allclose(predicted["p_yes"],
                               _predict(capsys, folder, folder / "plain.csv")["p_yes"])


def test_sep_reads_a_header_with_a_comma_and_quoted_commas_in_the_rows(folder, capsys):
    """The header's comma ("remark, free") makes the found separator a comma; --sep ';' reads
    it, and the quoted commas and semicolons in the rows stay inside their cells. `predict`
    copies the column with the same separator (its second read)."""
    rows = _rows().drop(columns="y").rename(columns={"remark": "remark, free"})
    rows["remark, free"] = ["a; b, c" if i % 3 == 0 else "fine" for i in range(ROWS)]
    rows.to_csv(folder / "commas.csv", sep=";", index=False)
    written = (folder / "commas.csv").read_text()
    assert written.startswith("id;x0;x1;town;note;remark, free\n") and '"a; b, c"' in written
    with pytest.raises(InvalidInputError, match=r"\(ParserError: .*\); it was read as separated "
                                                r"by commas \(the default\): pass the file's "
                                                "separator with --sep"):
        read_table(folder / "commas.csv")
    read = read_table(folder / "commas.csv", sep=";")
    assert list(read.columns) == ["id", "x0", "x1", "town", "note", "remark, free"]
    assert read["remark, free"].tolist()[:2] == ["a; b, c", "fine"]
    assert read["note"].tolist()[:2] == ["fine", "late, wet"]
    predicted = _predict(capsys, folder, folder / "commas.csv", "--sep", ";",
                         out="commas_pred.csv")
    assert len(predicted) == ROWS
    assert predicted["remark, free"].tolist() == rows["remark, free"].tolist()


def test_a_header_with_a_comma_and_semicolons_is_named_with_the_sep_fix(tmp_path, capsys):
    """A comma in the header makes commas the separator; the rows then hold one field each."""
    (tmp_path / "h.csv").write_text("height, cm;width;y\n1;2;yes\n3;4;no\n")
    code, _, err = run_cli(capsys, "fit", tmp_path / "h.csv", "--target", "y", "--out",
                           tmp_path / "m.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "has no column 'y'; its columns are: height,  cm;width;y",
                          "(the header looks separated by semicolons, not commas: pass --sep "
                          "';')")


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_name(folder, capsys, tmp_path):
    rows = _rows()
    for sep in (",", ";"):
        rows.to_csv(tmp_path / "bom.csv", sep=sep, index=False, encoding="utf-8-sig")
        assert (tmp_path / "bom.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
        assert read_table(tmp_path / "bom.csv").columns[0] == "id"
        assert read_table(tmp_path / "bom.csv", encoding="utf-8").columns[0] == "id"
        predicted = _predict(capsys, folder, tmp_path / "bom.csv", out="bom_pred.csv")
        assert predicted.columns[0] == "id" and predicted["id"][3] == "0003"
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", tmp_path / "bom.csv",
                           "--encoding", "cp1252", "--out", tmp_path / "p.csv")
    assert_one_line_error(code, err, "begins with UTF-8's byte-order mark, so it is UTF-8, not "
                                     "cp1252; leave out --encoding")


@pytest.mark.parametrize("flags, phrase", [
    (["--encoding", "nope"], "argument --encoding: unknown text encoding 'nope'; name a Python "
                             "codec such as utf-8, cp1252 or latin-1"),
    (["--encoding", "base64"], "argument --encoding: unknown text encoding 'base64'"),
    (["--sep", ";;"], "argument --sep: expected one character, such as ';', '|', ',' or tab"),
    (["--sep", '"'], "argument --sep: expected one character"),
    (["--decimal", ";"], "argument --decimal: expected '.' or ','"),
])
def test_a_bad_flag_value_is_one_usage_line(folder, capsys, flags, phrase):
    code, out, err = run_cli(capsys, "fit", folder / "plain.csv", "--target", "y", "--out",
                             folder / "never.bnn.nc", *flags)
    assert_one_line_error(code, err, phrase)
    assert not (folder / "never.bnn.nc").exists()


def test_csv_flags_with_parquet_data_are_refused(folder, capsys, tmp_path):
    _rows().to_parquet(tmp_path / "rows.parquet")
    (tmp_path / "parts").mkdir()
    _rows().to_parquet(tmp_path / "parts" / "a.parquet")
    model = folder / "model.bnn.nc"
    cases = [
        (["fit", tmp_path / "rows.parquet", "--target", "y", "--out", tmp_path / "m.bnn.nc",
          "--sep", ";"], "--sep applies to CSV files; ", "rows.parquet is Parquet, which stores "
         "its own column types and text: leave out --sep"),
        (["fit", tmp_path / "rows.parquet", "--target", "y", "--out", tmp_path / "m.bnn.nc",
          "--stream", "--encoding", "cp1252"], "--encoding applies to CSV files", "leave out "
         "--encoding"),
        (["predict", model, tmp_path / "parts", "--out", tmp_path / "p.csv", "--sep", ";",
          "--decimal", ","], "--sep and --decimal apply to CSV files",
         "parts is a folder of Parquet files"),
        (["report", model, tmp_path / "rows.parquet", "--out", tmp_path / "r.html",
          "--encoding", "latin-1"], "--encoding applies to CSV files", "leave out --encoding"),
        (["report", model, "--out", tmp_path / "r.html", "--sep", ";"],
         "--sep says how to read DATA, but no DATA was given; pass DATA, or leave out --sep"),
        (["stability", model, tmp_path / "rows.parquet", "--out", tmp_path / "stability",
          "--sep", "tab"], "--sep applies to CSV files"),
    ]
    for args, *phrases in cases:
        code, _, err = run_cli(capsys, *args)
        assert_one_line_error(code, err, *phrases)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts", "rows.parquet"]


def test_every_command_that_reads_a_table_takes_the_csv_flags():
    from pymc_bnn.cli.app import build_parser

    parser = build_parser()
    flags = ["--sep", "tab", "--encoding", "latin-1", "--decimal", ","]
    for command in (["fit", "d.csv", "--target", "y", "--out", "m.bnn.nc"],
                    ["predict", "m.bnn.nc", "d.csv", "--out", "p.csv"],
                    ["report", "m.bnn.nc", "d.csv"], ["stability", "m.bnn.nc", "d.csv"]):
        args = parser.parse_args([*command, *flags])
        assert (args.sep, args.encoding, args.decimal) == ("\t", "latin-1", ","), command


def test_decimal_commas_are_refused_naming_the_flag_and_read_with_it(folder, capsys):
    rows = _rows().drop(columns="y")
    rows.to_csv(folder / "decimal.csv", sep=";", decimal=",", index=False)
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / "decimal.csv",
                           "--out", folder / "decimal_pred.csv")
    assert_one_line_error(code, err, "column 'x0' of", "holds numbers written with decimal "
                          "commas ('", "which read as text; pass --decimal ',' to read them as "
                          "numbers (or --decimal . to keep the column as text)")
    predicted = _predict(capsys, folder, folder / "decimal.csv", "--decimal", ",",
                         out="decimal_pred.csv")
    np.testing.assert_allclose(predicted["p_yes"],
                               _predict(capsys, folder, folder / "plain.csv")["p_yes"])
    # the other way round: decimal points read with --decimal ','
    with pytest.raises(InvalidInputError, match="column 'x0' of .* holds numbers written with "
                                                "decimal points .* leave out --decimal"):
        read_table(folder / "train.csv", decimal=",")
    with pytest.raises(InvalidInputError, match="commas as both its separator and its decimal"):
        read_table(folder / "plain.csv", decimal=",")


def test_a_name_repeated_in_a_semicolon_header_is_refused(tmp_path):
    """The header is read again, as written, with the separator found (pandas renames a
    repeat: size, size.1)."""
    (tmp_path / "twice.csv").write_text("size;size;y\n1;2;a\n3;4;b\n")
    with pytest.raises(InvalidInputError, match="twice.csv repeats column name.s. size; give "
                                                "every column its own name"):
        read_table(tmp_path / "twice.csv")


def test_rows_that_do_not_split_like_the_header_name_the_separator(tmp_path):
    (tmp_path / "ragged.csv").write_text("a;b\n1;2\n3;4;5;6\n")
    with pytest.raises(InvalidInputError, match=r"cannot read .*ragged.csv as CSV \(ParserError: "
                                                r".*\); it was read as separated by semicolons "
                                                r"\(as its header line is\): pass the file's "
                                                r"separator with --sep"):
        read_table(tmp_path / "ragged.csv")


@pytest.mark.parametrize("head, sep", [
    ("a;b;c\n1,5;2;3\n", ";"),           # decimal commas in the rows do not count
    ("a\tb\n1\t2\n", "\t"),
    ("a|b\n", "|"),
    ('"a,1";"b"\n', ";"),                 # a comma inside quotes does not count
    ('"a\nb";c\n', ";"),                  # a quoted line break is inside the header
    ("a,b;c\n", ","),                     # a comma outside quotes: commas
    ("a;b\tc\n", ","),                    # two candidates: commas
    ("price\n1\n", ","),                  # one column
    ("", ","),
])
def test_the_separator_is_found_in_the_header_line_only(head, sep):
    assert sniff_separator(head) == sep


def test_the_tsv_suffix_wins_under_any_compression(tmp_path):
    for name in ("r.tsv", "r.TSV.gz", "r.tsv.bz2", "r.tsv.xz", "r.tsv.zip"):
        frame = pd.DataFrame({"a;b": [1], "c": ["x, y"]})
        frame.to_csv(tmp_path / name, sep="\t", index=False)
        assert csv_format(tmp_path / name).sep == "\t", name
        assert read_table(tmp_path / name).to_dict("list") == {"a;b": [1], "c": ["x, y"]}, name


def test_the_table_readers_still_import_from_their_old_module_with_a_warning():
    from pymc_bnn.cli import table_files, tables

    with pytest.warns(DeprecationWarning, match="moved to pymc_bnn.cli.table_files.read_table"):
        assert tables.read_table is table_files.read_table
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        tables.nothing  # noqa: B018
