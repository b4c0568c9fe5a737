"""`pymc-bnn fit DATA --target COLUMN --out MODEL`: fit a BNN to a table and save it.

The parser of `fit` and the steps of its handler: the column flags checked against the table and
against each other, the estimator (`pymc_bnn.sklearn`) chosen and fitted in memory, or with
`--stream` on Parquet minibatches (`_fit_streamed`), the model saved (`pymc_bnn.io`) with a
Ctrl-C deferred until the file is whole, then the summary: the training score, the timings and
the one judgement of convergence (`pymc_bnn.posterior.convergence`), whose problems are
warnings even with --quiet. A fit stopped by Ctrl-C still saves what it reached and exits
`EXIT_PARTIAL` (`_ending`).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from pymc_bnn._runtime.outputs import check_output
from pymc_bnn.cli.args import (
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_PARTIAL,
    add_common,
    add_csv_flags,
    add_force,
    draws_precision,
    job_count,
    positive_int,
    widths,
)
from pymc_bnn.cli.command_steps import read_data, status_printer
from pymc_bnn.cli.engine_flags import add_engine_flags, engine_options
from pymc_bnn.cli.table_files import check_csv_flags
from pymc_bnn.cli.tables import (
    check_columns,
    choose_estimator,
    named_columns,
    split_groups,
    split_target,
    split_weights,
)
from pymc_bnn.cli.words import cli_words
from pymc_bnn.errors import ConvergenceWarning, InvalidInputError
from pymc_bnn.table_checks import refuse_missing


def add_fit_command(sub) -> None:
    """Add `fit` to the `pymc-bnn` subparsers `sub`.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What the main parser's `add_subparsers` returned. The command's handler is set as
        `args.handler`, called by `pymc_bnn.cli.app.main`.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="pymc-bnn")
    >>> add_fit_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["fit", "penguins.csv", "--target", "species",
    ...                           "--out", "model.bnn.nc", "--hidden", "16,16", "--tune", "500"])
    >>> args.target, args.hidden, args.method, args.likelihood, args.tune
    ('species', (16, 16), 'auto', 'auto', 500)
    """
    from pymc_bnn.defaults import (
        CLASSIFIER_LIKELIHOODS,
        DEFAULT_DRAWS,
        DRAWS_PRECISION,
        ENGINE_NAMES,
        MAX_CLASS_LABELS,
        MISSING_POLICIES,
        REGRESSOR_LIKELIHOODS,
    )
    from pymc_bnn.model.activations import ACTIVATIONS
    from pymc_bnn.model.groups import POOLINGS
    from pymc_bnn.model.priors import PRIORS

    fit = sub.add_parser(
        "fit", help="fit a BNN to a CSV or Parquet table and save it as a model file",
        description="Fit a Bayesian MLP to DATA (CSV or Parquet): every column but --target, "
                    "--exclude, --id, --groups and --weight is a feature. Numbers are "
                    "standardised; text, true/false and categorical columns one-hot coded; "
                    "missing values imputed "
                    "(see --missing). The coding is stored in the model file (netCDF, no "
                    "pickle), so predict applies it to new raw rows.",
        epilog=EXIT_CODES_HELP,
    )
    fit.add_argument("data", metavar="DATA",
                     help="CSV or Parquet (.parquet) file; with --stream a Parquet file or folder")
    fit.add_argument("--target", required=True, help="name of the column to predict")
    fit.add_argument("--out", required=True, metavar="MODEL",
                     help="model file to write, e.g. model.bnn.nc")
    # COLS: comma-separated, or one column's exact name (with a comma in it); repeats add up
    fit.add_argument("--exclude", action="append", default=[], metavar="COLS",
                     help="comma-separated columns that are not features (the flag may be "
                          "repeated; a column whose name has a comma: its exact name)")
    fit.add_argument("--id", action="append", default=[], metavar="COLS",
                     help="comma-separated identifier columns: not features; predict writes "
                          "them first")
    fit.add_argument("--categorical", action="append", default=[], metavar="COLS",
                     help="numeric columns that are codes, not quantities (e.g. a zip code): "
                          "one-hot coded like text")
    fit.add_argument("--ordinal", action="append", default=[], metavar="COLS",
                     help="columns coded 0, 1, … in their categories' order (an ordered pandas "
                          "Categorical's, else sorted) instead of one-hot")
    fit.add_argument("--missing", default=MISSING_POLICIES[0], choices=MISSING_POLICIES,
                     help="missing feature values: impute (median and a 0/1 indicator column "
                          "for numbers, a 'missing' category for text), drop the rows, or "
                          "error (default: impute)")
    fit.add_argument("--groups", default=None, metavar="COLUMN",
                     help="column of group labels (e.g. a store): a hierarchical network, one "
                          "per group around a shared one; not a feature")
    fit.add_argument("--weight", default=None, metavar="COLUMN",
                     help="column of row weights >= 0 (frequency, survey or class weights): "
                          "each row's log-likelihood is multiplied by its weight (2 counts a row "
                          "twice, 0 leaves it out); not a feature")
    fit.add_argument("--pooling", default="partial", choices=POOLINGS,
                     help="with --groups: partial (groups share strength), complete (one "
                          "network) or none (one network per group) (default: partial)")
    fit.add_argument("--likelihood", default="auto",
                     choices=sorted({*CLASSIFIER_LIKELIHOODS, *REGRESSOR_LIKELIHOODS, "count"}),
                     help="auto: labels (text, booleans, or at most "
                          f"{MAX_CLASS_LABELS} distinct whole numbers) are classified; whole "
                          "numbers ≥ 0 near zero are counts; anything else is gaussian. "
                          "count: the target is counts. Counts get poisson, or "
                          "negative_binomial when overdispersed (default: auto)")
    fit.add_argument("--hidden", type=widths, default=(32, 32),
                     help="hidden layer widths, comma-separated (default: 32,32); none for no "
                          "hidden layer (a Bayesian GLM)")
    fit.add_argument("--activation", default="tanh", choices=ACTIVATIONS,
                     help="hidden-layer activation (default: tanh)")
    fit.add_argument("--skip", action="store_true",
                     help="add a linear path from the inputs straight to the outputs, so the "
                          "hidden layers model what a linear model misses")
    fit.add_argument("--stack-linear", action=argparse.BooleanOptionalAction, default="auto",
                     help="also fit a Bayesian GLM and keep the stacking mixture of the two, "
                          "weighted by 5-fold cross-validation (several times the fit's time; "
                          "the folds run side by side, one per core, or --jobs at a time) "
                          "(default: auto, the estimators' default: stacked for a network "
                          "under laplace with two classes or a gaussian target on 100 to "
                          "2,000 rows in memory, no --groups)")
    fit.add_argument("--stack-heteroscedastic", action="store_true",
                     help="for a gaussian target: also fit the network with a heteroscedastic "
                          "likelihood (its noise sd an output) and keep the stacking mixture, "
                          "weighted as --stack-linear's (with it, three models are stacked)")
    fit.add_argument("--noise", choices=("auto", "follows-mean", "constant"), default="auto",
                     help="a gaussian target's noise sd: follows-mean makes it a function of "
                          "the predicted mean, fitted to the residuals (a variance function); "
                          "constant keeps one sd for every row (default auto: follows-mean for "
                          "a network under laplace fitted to rows in memory; with --stack-linear "
                          "the network's, in its full fit and every fold's)")
    fit.add_argument("--jobs", type=job_count, default=None, metavar="N",
                     help="fits run side by side, N at a time (-1: one per core, -2: all but "
                          "one): the folds of "
                          "--stack-linear (in threads), an advi --ensemble's members, the "
                          "networks of --pooling none (in processes) (default: a stacking's "
                          "folds one per core, other fits one at a time)")
    fit.add_argument("--prior", default="auto",
                     choices=["auto", *sorted(set(PRIORS) - {"informed"})],
                     help="weight prior; auto: the estimators' default (laplace: normal, "
                          "scale 4 for classes and 1 for numbers; advi, nuts: a horseshoe on "
                          "every layer) (normal: scaled by 1/sqrt(fan-in)) (default: auto)")
    fit.add_argument("--method", default="auto", choices=["auto", *sorted(ENGINE_NAMES)],
                     help="inference engine; auto: laplace, or advi with --groups, as the "
                          "estimators' default (default: auto)")
    fit.add_argument("--draws", type=positive_int, default=DEFAULT_DRAWS,
                     help=f"posterior draws kept (default: {DEFAULT_DRAWS})")
    fit.add_argument("--draws-precision", type=draws_precision, default=DRAWS_PRECISION,
                     metavar="BITS",
                     help="how finely the model file keeps the draws: exact (as float32), or "
                          "each draw rounded to within its weight's posterior sd × "
                          "2^-(BITS+1), a much smaller file (default: "
                          f"{DRAWS_PRECISION}, within sd/{2 ** (DRAWS_PRECISION + 1)})")
    fit.add_argument("--stream", action="store_true",
                     help="read DATA (Parquet file or folder) in minibatches instead of into "
                          "memory: any size; advi only, no --groups")
    fit.add_argument("--batch-size", type=positive_int, default=1024,
                     help="rows per step with --stream (default: 1024)")
    add_csv_flags(fit)
    add_force(fit)
    add_common(fit)
    add_engine_flags(fit)
    fit.set_defaults(handler=_cmd_fit)


# --------------------------------------------------------------------------- data


def _refuse_role_clashes(args) -> None:
    """Refuse --weight or --groups naming the target, or a column --exclude or --id drops."""
    for flag, column in (("--weight", args.weight), ("--groups", args.groups)):
        if column is None:
            continue
        if column == args.target:
            raise InvalidInputError(f"{flag} names the target column {column!r}; name a column "
                                    "of its own")
        dropped = next((f for f, cols in (("--exclude", args.exclude), ("--id", args.id))
                        if column in cols), None)
        if dropped is not None:
            raise InvalidInputError(f"{flag} names {column!r}, which {dropped} also names; "
                                    f"leave it out of {dropped}")


def _name_columns(args, columns) -> None:
    """The column flags' texts (`--exclude` …) as the columns of the table they name."""
    for role in ("exclude", "id", "categorical", "ordinal"):
        setattr(args, role, named_columns(getattr(args, role), columns))


# --------------------------------------------------------------------------- commands


def _show_warnings(caught) -> None:
    """Each warning of the fit as one line on stderr (not Python's file:line format)."""
    from rich.console import Console

    errors = Console(stderr=True, soft_wrap=True)
    for warning in caught:
        errors.print(f"[yellow]warning[/]: {cli_words(str(warning.message))}", highlight=False)

def _cmd_fit(args, console) -> int:
    from pymc_bnn._runtime.interrupt import ctrl_c_deferred, import_whole
    from pymc_bnn.io import save

    check_output(args.out, "model", inputs={"DATA": args.data}, force=args.force)
    check_csv_flags(args.data, args.sep, args.encoding, args.decimal)
    # the first heavy import (scikit-learn, pandas, PyMC): a press during a compiled extension's
    # initialisation must wait for its end, or it surfaces as that import's SystemError
    import_whole("pymc_bnn.sklearn")
    from pymc_bnn.sklearn import resolve_method

    method = resolve_method(args.method, grouped=args.groups is not None, streamed=args.stream,
                            prior=args.prior)
    args.engine_options = engine_options(args, method) or None  # checked before any reading
    say = status_printer(args, console)
    started = time.perf_counter()
    if args.stream:
        return _fit_streamed(args, console, say, started)
    table = read_data(args, say)
    _name_columns(args, table.columns)
    X, y = split_target(table, args.target, args.data)
    check_columns(X, args.data, exclude=args.exclude, id=args.id,
                  categorical=args.categorical, ordinal=args.ordinal, target=args.target)
    _refuse_role_clashes(args)
    _refuse_unnamed_columns(X, args.data)
    X = X.drop(columns=[*args.exclude, *args.id])
    X, groups = split_groups(X, args.groups, args.data)
    X, weights = split_weights(X, args.weight, args.data)
    if args.missing == "error":
        refuse_missing(X, str(args.data), args.missing)
    roles = {"categorical": list(args.categorical) or None, "ordinal": list(args.ordinal) or None}
    estimator_class, likelihood, choice = choose_estimator(
        X, y, args.likelihood, categorical=args.categorical, ordinal=args.ordinal,
        source=args.data)
    say(f"Target {args.target}: {choice.reason}")
    if args.stack_heteroscedastic and likelihood != "gaussian":
        raise InvalidInputError(
            "--stack-heteroscedastic stacks a gaussian target's network with its heteroscedastic "
            f"twin, but {args.target} is "
            + ("classified" if choice.classifier else f"fitted with {choice.likelihood}") + ": "
            "leave out --stack-heteroscedastic (or give --likelihood gaussian)")
    # the regressor's own parameters, where asked for
    regressor_only = {"stack_heteroscedastic": True} if args.stack_heteroscedastic else {}
    if args.noise != "auto" and choice.classifier:
        raise InvalidInputError(
            f"--noise {args.noise} is for a numeric target's noise sd, but {args.target} is "
            "classified: leave out --noise")
    if args.noise != "auto":
        regressor_only["noise"] = args.noise.replace("-", "_")
    model = estimator_class(
        hidden_layer_sizes=args.hidden, activation=args.activation, skip=args.skip,
        stack_linear=args.stack_linear, **regressor_only,
        likelihood=likelihood, prior=args.prior, method=args.method, draws=args.draws,
        random_state=args.seed, verbose=not args.quiet, pooling=args.pooling,
        engine_options=args.engine_options, missing=args.missing, n_jobs=args.jobs, **roles,
    )
    what = (f"{len(np.unique(y.astype(str)))} classes" if hasattr(estimator_class, "predict_proba")
            else f"{likelihood} regression")
    say(f"Fitting {estimator_class.__name__} to {X.shape[0]:,} rows × {X.shape[1]} features "
        f"({what}) with {method}{' (auto)' if args.method == 'auto' else ''}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X, y, groups=groups, sample_weight=weights)
    interrupted = bool(model.posterior_.interrupted)  # said once below, not as a warning too
    _show_warnings([w for w in caught if not (interrupted and "interrupted" in str(w.message))
                    and not issubclass(w.category, ConvergenceWarning)])  # see _show_convergence
    say(f"Saving {args.out}")
    with ctrl_c_deferred() as pressed:  # a press while writing waits: the file is never cut
        save(model, args.out, force=args.force, draws_precision=args.draws_precision, notes={
            "target": args.target, "data": str(args.data), "data_path": _absolute(args.data),
            "n_rows": int(X.shape[0]),
            "groups": args.groups, "id": list(args.id), "weight": args.weight,
            "likelihood_choice": choice.to_dict()})
    try:
        if not pressed:
            _fit_summary(args, console, model, X, y, groups, started)
    except KeyboardInterrupt:  # the model is saved: a press now only cuts the summary short
        pass
    return _ending(args, model)


def _ending(args, model) -> int:
    """The exit code of a fit whose model is saved; a fit stopped by Ctrl-C says so on stderr.

    A press now waits: the model is saved, so it must not end in "nothing was kept".
    """
    from pymc_bnn._runtime.interrupt import ctrl_c_deferred

    with ctrl_c_deferred():
        if not model.posterior_.interrupted:
            return EXIT_OK
        from rich.console import Console

        diagnostics = model.posterior_.diagnostics
        step = diagnostics.get("steps_run")  # none for separate fits joined (groups, members)
        what = (f"the stacking was stopped by Ctrl-C during "
                f"{diagnostics['stacking_stopped']}; the network's own fit, whole, is saved"
                if diagnostics.get("stacking_stopped") else
                f"the fit was stopped by Ctrl-C{'' if step is None else f' at step {step}'}; "
                "the state reached so far is saved")
        Console(stderr=True, soft_wrap=True).print(
            f"[yellow]interrupted[/]: {what} in {args.out}, marked interrupted (exit "
            f"{EXIT_PARTIAL})", highlight=False)
        return EXIT_PARTIAL


def _absolute(path) -> str | None:
    """`path` resolved (links followed) where it can be: what `report` compares DATA with."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return None


def _refuse_unnamed_columns(X, source) -> None:
    """Refuse a column without a header (pandas names it 'Unnamed: k').

    It is most often a saved index (`to_csv` without index=False): a row counter that would
    be a feature.
    """
    unnamed = [str(c) for c in X.columns if str(c).startswith("Unnamed: ")]
    if unnamed:
        raise InvalidInputError(
            f"{source} has column(s) without a name ({', '.join(unnamed)}, as pandas reads "
            "them), often a saved row index; name them in the header, or leave them out with "
            f"--exclude '{unnamed[0]}' (pandas: to_csv(..., index=False) writes no index)")

def _fit_streamed(args, console, say, started) -> int:
    """`pymc-bnn fit --stream`: the estimator reads DATA in minibatches (see `pymc_bnn.sklearn`).

    The summary gives rows and time, not a training score (which would take another pass).
    """
    from pymc_bnn.cli.table_files import target_sample
    from pymc_bnn.data import open_parquet, parquet_batches
    from pymc_bnn.data.parquet_files import table_columns
    from pymc_bnn.io import save

    if args.weight is not None:
        raise InvalidInputError("--weight cannot be combined with --stream yet; fit weighted "
                                "rows in memory (leave out --stream)")
    if args.groups is not None:
        raise InvalidInputError("--groups cannot be combined with --stream yet; fit grouped "
                                "data in memory (leave out --stream)")
    for flag, asked in (("--stack-linear", args.stack_linear),
                        ("--stack-heteroscedastic", args.stack_heteroscedastic)):
        if asked is True:  # "auto" does not stack streamed rows
            raise InvalidInputError(f"{flag} cannot be combined with --stream (its "
                                    "cross-validation needs every row at once); leave out "
                                    "--stream")
    if args.noise == "follows-mean":
        raise InvalidInputError("--noise follows-mean cannot be combined with --stream (the "
                                "noise is fitted to every row's residual at once); leave out "
                                "--stream")
    for flag, columns in (("--categorical", args.categorical), ("--ordinal", args.ordinal)):
        if columns:  # a streamed fit reads numbers as they are: no table encoding yet
            raise InvalidInputError(
                f"{flag} cannot be combined with --stream yet (streamed columns are read as "
                "the numbers they hold); code those columns in the file, leave them out with "
                "--exclude, or fit in memory (leave out --stream)")
    if args.missing == "drop":  # a streamed fit refuses a missing value in any batch
        raise InvalidInputError(
            "--missing drop cannot be combined with --stream yet (a streamed fit refuses a "
            "missing value in any batch); drop those rows from the file, or fit in memory "
            "(leave out --stream)")
    _name_columns(args, table_columns(open_parquet(args.data).schema))
    # --id columns are no features, as in memory; predict writes them first (notes["id"])
    source = parquet_batches(args.data, target=args.target, exclude=[*args.exclude, *args.id])
    if source.n_rows is None or source.feature_names is None:  # a Parquet source knows both
        raise InvalidInputError(f"could not count the rows and columns of {args.data}")
    estimator_class, likelihood, choice = choose_estimator(
        None, target_sample(args.data, args.target), args.likelihood)
    if likelihood in ("poisson", "negative_binomial"):  # not streamed yet (encode_target)
        raise InvalidInputError(
            f"--stream cannot fit the {likelihood} likelihood yet ({choice.reason}); pass "
            "--likelihood gaussian to fit the counts as real numbers, --likelihood categorical "
            "if they are classes, or fit in memory (leave out --stream)")
    model = estimator_class(
        hidden_layer_sizes=args.hidden, activation=args.activation, skip=args.skip,
        likelihood=likelihood, prior=args.prior, method=args.method, draws=args.draws,
        random_state=args.seed, verbose=not args.quiet, batch_size=args.batch_size,
        engine_options=args.engine_options, n_jobs=args.jobs)  # which it refuses as in Python
    say(f"Streaming {source.n_rows:,} rows × {len(source.feature_names)} features from "
        f"{args.data} in batches of {args.batch_size:,} ({estimator_class.__name__})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(source)
    interrupted = bool(model.posterior_.interrupted)  # said once by _ending, not as a warning
    _show_warnings([w for w in caught if not (interrupted and "interrupted" in str(w.message))
                    and not issubclass(w.category, ConvergenceWarning)])
    say(f"Saving {args.out}")
    from pymc_bnn._runtime.interrupt import ctrl_c_deferred

    with ctrl_c_deferred() as pressed:  # a press while writing waits: the file is never cut
        save(model, args.out, notes={"target": args.target, "data": str(args.data),
                                     "data_path": _absolute(args.data),
                                     "n_rows": int(source.n_rows), "groups": None,
                                     "id": list(args.id), "streamed": True}, force=args.force,
             draws_precision=args.draws_precision)
    try:
        if not args.quiet and not pressed:
            console.print(f"[bold]fit[/] {model.posterior_.timings.get('total_s', 0):.1f} s   "
                          f"[bold]total[/] {time.perf_counter() - started:.1f} s",
                          highlight=False)
            console.print(f"Model: {Path(args.out).resolve()}", highlight=False)
        if not pressed:
            _show_convergence(model.posterior_, console, quiet=args.quiet)
    except KeyboardInterrupt:  # the model is saved: a press now only cuts the summary short
        pass
    return _ending(args, model)


def _fit_summary(args, console, model, X, y, groups, started) -> None:
    """Training score, timings and convergence after `pymc-bnn fit`.

    Convergence problems are shown even with --quiet.
    """
    if not args.quiet:
        score = model.score(X, y, groups=groups)
        label = "training accuracy" if hasattr(model, "classes_") else "training R²"
        console.print(f"[bold]{label}[/] {score:.3f}   [bold]fit[/] "
                      f"{model.posterior_.timings.get('total_s', 0):.1f} s   [bold]total[/] "
                      f"{time.perf_counter() - started:.1f} s", highlight=False)
        console.print(f"Model: {Path(args.out).resolve()}", highlight=False)
    _show_convergence(model.posterior_, console, quiet=args.quiet)


def _show_convergence(posterior, console, *, quiet: bool = False) -> None:
    """The one judgement of convergence (`pymc_bnn.posterior.convergence`), shown.

    "converged" on stdout, or each problem and its fix as a warning line on stderr (even with
    --quiet).
    """
    from rich.console import Console

    from pymc_bnn.posterior.convergence import judge_convergence

    judgement = judge_convergence(posterior)
    if judgement.converged:
        if not quiet:
            console.print(f"[bold]converged[/] yes (no problem in the checks of "
                          f"{judgement.method})", highlight=False)
        return
    errors = Console(stderr=True, soft_wrap=True)
    for problem in judgement.problems:
        if problem.kind != "interrupted":  # said once, by the command's interrupted line
            errors.print(f"[yellow]warning[/]: {cli_words(str(problem))}", highlight=False)
