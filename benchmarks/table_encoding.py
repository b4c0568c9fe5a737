"""The table encoding's cost in every estimator fit and prediction, by the number of columns.

An estimator codes X with the `ColumnTransformer` that `pymc_bnn.row_encoding.build_transformer`
rebuilds from the learned `TableEncoding` (medians, categories): once when it fits (learning
the encoding, building the transformer, coding the rows) and once per prediction. Compared here,
in one process and one run, on float tables of 300 rows with a few gaps:

- `one imputer` (the package's): one median imputer for every numeric column;
- `imputer per column` (before 2026-12-06): a constant imputer per column, each with its
  median, built the same way (the alternative, written here).

Both code the rows to the same numbers (checked here, and in `tests/test_encoding.py` against
the NumPy coding). Times are the median of `--repeats` calls of the fit's coding
(`pymc_bnn.sklearn.checks.validated_Xy`) and the prediction's (`_encoded_X`).
Writes `results/table_encoding.{json,md}`.

    uv run python benchmarks/table_encoding.py --note "idle"
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _run_facts import machine_facts  # noqa: E402

COLUMNS = (2, 10, 30, 100)
ROWS = 300


def per_column_transformer(encoding):
    """The alternative: a constant imputer per numeric column (numeric tables only)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer

    parts = [(f"numeric_{i}", SimpleImputer(strategy="constant", fill_value=median), [column])
             for i, (column, median) in enumerate(zip(encoding.numeric, encoding.medians,
                                                      strict=True))]
    if encoding.indicators:
        parts.append(("indicators", MissingIndicator(features="all"), list(encoding.indicators)))
    prototype = pd.DataFrame({c: [m] for c, m in zip(encoding.numeric, encoding.medians,
                                                      strict=True)})
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0, n_jobs=1).fit(prototype)


def _median_seconds(call, repeats: int) -> float:
    call()  # first call: imports and caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def measure(n_columns: int, repeats: int) -> dict:
    import pymc_bnn.sklearn.checks as checks
    from pymc_bnn.sklearn import BayesianMLPClassifier

    rng = np.random.default_rng(n_columns)
    X = rng.normal(size=(ROWS, n_columns))
    X[rng.random(X.shape) < 0.01] = np.nan  # a few gaps: indicator columns too
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int)
    row = {"columns": n_columns, "rows": ROWS}
    coded = {}
    package = checks.build_transformer
    for name, build in (("one imputer", package), ("imputer per column", per_column_transformer)):
        checks.build_transformer = build  # what validated_Xy and _encoded_X call
        try:
            estimator = BayesianMLPClassifier()
            row[f"{name} fit s"] = _median_seconds(lambda e=estimator: checks.validated_Xy(e, X, y),
                                                   repeats)
            row[f"{name} predict s"] = _median_seconds(lambda e=estimator: checks._encoded_X(e, X),
                                                       repeats)
            coded[name] = checks._encoded_X(estimator, X)
        finally:
            checks.build_transformer = package
    row["same numbers"] = bool(np.array_equal(coded["one imputer"], coded["imputer per column"]))
    for part in ("fit", "predict"):
        row[f"{part} speed-up"] = row[f"imputer per column {part} s"] / row[f"one imputer {part} s"]
    return row


def markdown(result: dict) -> str:
    run = result["run"]
    lines = [f"Run {run['date']} at {run['commit'][:7]}{' (dirty)' if run['dirty'] else ''}, "
             f"{run['machine']}; {run['note']}. Median of {run['repeats']} calls, seconds.", "",
             "| columns | fit: one imputer | fit: imputer per column | speed-up | predict: one "
             "imputer | predict: imputer per column | speed-up | same numbers |",
             "|---|---|---|---|---|---|---|---|"]
    for row in result["rows"]:
        lines.append(f"| {row['columns']} | {row['one imputer fit s']:.4f} | "
                     f"{row['imputer per column fit s']:.4f} | ×{row['fit speed-up']:.1f} | "
                     f"{row['one imputer predict s']:.4f} | "
                     f"{row['imputer per column predict s']:.4f} | "
                     f"×{row['predict speed-up']:.1f} | {row['same numbers']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--note", default="", help="the machine's state, e.g. 'idle'")
    parser.add_argument("--out", default=str(HERE / "results" / "table_encoding.json"))
    args = parser.parse_args(argv)
    run = {**machine_facts(), "note": args.note, "repeats": args.repeats}
    result = {"run": run, "rows": [measure(n, args.repeats) for n in COLUMNS]}
    import os

    run["load_average_end"] = list(os.getloadavg())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
