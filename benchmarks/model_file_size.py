"""Model file sizes (issue 20): what each `draws_precision` and each float codec would give.

Takes model files written by `pymc-bnn fit --draws-precision exact` (e.g. the (32, 32) advi and
grouped models `cli_speed.py` fits; `--fit` makes them here with the same commands, 300 steps:
the draws' spread, not the fit's quality, sets the sizes) and reports, per file:

- the file re-saved with `pymc_bnn.save(..., draws_precision=bits)` for exact and several bits,
  and the time to `load` it (one call: times here are indicative, not a benchmark);
- the posterior draws as float32, byte-shuffled, under gzip (what the file uses), zstd, brotli
  and xz (pyarrow's codecs and the standard library): lossless compression's floor.

Writes `results/model_file_size.{json,md}`.
"""

from __future__ import annotations

import argparse
import json
import lzma
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _run_facts import machine_facts  # noqa: E402

PRECISIONS = (None, 12, 10, 8, 6, 4)


def draws(path: Path) -> dict[str, np.ndarray]:
    """The file's floating posterior draws, as float32."""
    import h5py

    with h5py.File(path, "r") as file:
        group = file["idata/posterior"]
        return {name: np.asarray(group[name][()], dtype=np.float32) for name in group
                if group[name].dtype.kind == "f" and group[name].ndim >= 2}


def codec_sizes(arrays: dict[str, np.ndarray]) -> dict[str, float]:
    """MB of the draws, byte-shuffled (one stream per byte of a float32), under each codec."""
    import pyarrow as pa

    codecs = {"gzip 4 (the file's)": lambda b: zlib.compress(b, 4),
              "zstd 3": lambda b: pa.Codec("zstd", 3).compress(b, asbytes=True),
              "zstd 19": lambda b: pa.Codec("zstd", 19).compress(b, asbytes=True),
              "brotli 11": lambda b: pa.Codec("brotli", 11).compress(b, asbytes=True),
              "xz": lzma.compress}
    shuffled = [a.view(np.uint8).reshape(-1, 4).T.tobytes() for a in arrays.values()]
    sizes = {"raw float32": sum(a.nbytes for a in arrays.values()) / 1e6}
    for name, compress in codecs.items():
        sizes[name] = sum(len(compress(b)) for b in shuffled) / 1e6
    return sizes


def precision_sizes(path: Path, folder: Path) -> dict[str, dict]:
    """draws_precision -> {"mb", "load_s"} of the model at `path` re-saved into `folder`."""
    from pymc_bnn import load, save

    model = load(path)
    out = {}
    for bits in PRECISIONS:
        target = save(model, folder / f"{path.stem}_{bits}.bnn.nc", draws_precision=bits,
                      force=True)
        start = time.perf_counter()
        load(target)
        out["exact" if bits is None else str(bits)] = {
            "mb": target.stat().st_size / 1e6, "load_s": time.perf_counter() - start}
    return out


def fit_files(folder: Path) -> list[Path]:
    """The advi and grouped models of `cli_speed.py`, 300 steps, draws stored exactly."""
    import cli_speed

    cli_speed.make_tables(folder)
    paths = []
    for name, argv in cli_speed.fit_commands(folder, quick=True).items():
        if name == "model":
            continue
        argv = [*argv, "--draws-precision", "exact"]
        done = subprocess.run([cli_speed.pymc_bnn_command(), *argv], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pymc-bnn {' '.join(argv)} failed: {done.stderr[-2000:]}")
        paths.append(Path(argv[argv.index("--out") + 1]))
    return paths


def markdown(result: dict) -> str:
    """The results as the Markdown page `results/model_file_size.md`."""
    facts = result["run"]
    lines = ["# Model file sizes", "",
             f"{facts['date']}, commit {facts['commit'][:7]}{' (dirty)' if facts['dirty'] else ''}"
             f", {facts['machine']}; load average at the start {facts['load_average_start']}; "
             f"{result['note']}", ""]
    for name, entry in result["files"].items():
        lines += [f"## {name}", "", "| draws_precision | file MB | load s |", "|---|---|---|"]
        lines += [f"| {bits} | {row['mb']:.2f} | {row['load_s']:.2f} |"
                  for bits, row in entry["precision"].items()]
        lines += ["", "Posterior draws alone, float32, byte-shuffled:", "",
                  "| codec | MB |", "|---|---|"]
        lines += [f"| {codec} | {mb:.2f} |" for codec, mb in entry["codecs"].items()]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    """Measure the named (or fitted) files and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help="model files written with --draws-precision exact")
    parser.add_argument("--fit", action="store_true",
                        help="fit cli_speed.py's advi and grouped models first (minutes)")
    parser.add_argument("--note", default="", help="free text on the machine's load")
    parser.add_argument("--out-dir", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    facts = machine_facts()
    with tempfile.TemporaryDirectory(prefix="pymc-bnn-file-size-") as tmp:
        folder = Path(tmp)
        files = [*args.files, *(fit_files(folder) if args.fit else [])]
        if not files:
            parser.error("name model files or pass --fit")
        result = {"run": facts, "note": args.note, "files": {
            path.name: {"precision": precision_sizes(path, folder),
                        "codecs": codec_sizes(draws(path))} for path in files}}
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model_file_size.json").write_text(json.dumps(result, indent=1) + "\n")
    report = markdown(result)
    (out_dir / "model_file_size.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
