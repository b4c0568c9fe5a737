"""`pymc-bnn predict` copies DATA's other columns to its output as they are: the text of a CSV's
cells, the values of a Parquet file's. They had been parsed as numbers on the way: an id 00007
came out as 7, a 19-digit id beside an empty cell as a float that rounded it (every row the
same), whole numbers beside a gap as 3.0."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pymc_bnn.cli.app import main
from reliability.helpers import TINY_CLI, run_cli

ROWS = 6
COPIED = ["tag", "id", "bigid", "count", "note"]


def _cells(path, sep=","):
    """Every cell of a text table as written, an empty cell ""."""
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_filter=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A model fitted with --id tag (a tiny fit), and new rows with ids of every awkward kind."""
    folder = tmp_path_factory.mktemp("copies")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "tag": [f"{i:05d}" for i in range(40)],
                  "y": X[:, 0] - X[:, 1]}).to_csv(folder / "train.csv", index=False)
    assert main(["fit", str(folder / "train.csv"), "--target", "y", "--id", "tag",
                 "--out", str(folder / "model.bnn.nc"), *TINY_CLI]) == 0
    for name, sep in (("new.csv", ","), ("new.tsv", "\t")):
        lines = [sep.join(["x0", "x1", *COPIED])]
        for i in range(ROWS):
            lines.append(sep.join([
                f"{X[i, 0]:.17g}", f"{X[i, 1]:.17g}",
                f"{i:05d}",                                      # --id at fit time
                f"{i:05d}",                                      # zero-padded
                "" if i == 2 else str(1234567890123456789 + i),  # 19 digits, one empty cell
                "" if i == 4 else str(i),                        # whole numbers, one empty
                '"a, b"' if sep == "," and i == 1 else f"n{i}",  # text, one quoted comma
            ]))
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("data, sep", [("new.csv", ","), ("new.tsv", "\t")])
def test_a_text_table_s_other_columns_are_copied_cell_for_cell(folder, data, sep, capsys):
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / data, "--out",
                           folder / "pred.csv", "--quiet", "--force")
    assert code == 0, err
    written = _cells(folder / "pred.csv")
    assert list(written.columns[:len(COPIED)]) == COPIED  # the --id column first
    pd.testing.assert_frame_equal(written[COPIED], _cells(folder / data, sep)[COPIED])
    assert written["id"].tolist()[:2] == ["00000", "00001"]
    assert written["bigid"].nunique() == ROWS and written["count"][3] == "3"
    # a Parquet output holds the same text
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / data, "--out",
                           folder / "pred.parquet", "--quiet", "--force")
    assert code == 0, err
    copied = pd.read_parquet(folder / "pred.parquet")[COPIED]
    pd.testing.assert_frame_equal(copied, _cells(folder / data, sep)[COPIED],
                                  check_dtype=False)


def test_a_parquet_table_s_whole_numbers_with_gaps_stay_whole_numbers(folder, capsys):
    rows = pd.read_csv(folder / "new.csv", dtype={"tag": str, "id": str})
    bigid = [None if i == 2 else 1234567890123456789 + i for i in range(ROWS)]
    pq.write_table(pa.table({"x0": rows["x0"], "x1": rows["x1"],
                             "bigid": pa.array(bigid, pa.int64()), "tag": rows["tag"]}),
                   folder / "new.parquet")
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / "new.parquet",
                           "--out", folder / "pq.csv", "--quiet", "--force")
    assert code == 0, err
    written = _cells(folder / "pq.csv")
    assert list(written.columns[:2]) == ["tag", "bigid"]  # the --id column first, as from CSV
    assert written["tag"].tolist() == [f"{i:05d}" for i in range(ROWS)]
    assert written["bigid"].tolist() == ["" if b is None else str(b) for b in bigid]
    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / "new.parquet",
                           "--out", folder / "pq.parquet", "--quiet", "--force")
    assert code == 0, err
    copied = pq.read_table(folder / "pq.parquet")
    assert copied.schema.field("bigid").type == pa.int64()
    assert copied.column("bigid").to_pylist() == bigid
