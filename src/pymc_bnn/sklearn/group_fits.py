"""The groups of a `pooling="none"` network as separate fits, run through joblib (`n_jobs`).

With `pooling="none"` every group has its own network under the ordinary prior, and a
classifier's groups share nothing else: the joint model's log density is the sum of one
ungrouped model per group, so fitting each group's rows alone is the same model. By default
the groups are one joint PyMC model fitted once; with `n_jobs` on the estimators each group is
a fit of its own (its rows, the joint network's spec and likelihood, a seed spawned from the
fit's), dispatched by `joblib.Parallel`, so `with joblib.parallel_backend("dask"):` (or Ray's
backend) spreads the groups over a cluster. Workers rebuild their model from plain data, in
their own PyTensor compile folder (as an ensemble's members do, `pymc_bnn.sklearn.members`).
The fits then join into one posterior shaped as the joint fit's (`w_i_group`, `b_i_group`:
chain, draw, group, ...), so prediction, `uncertainty`, saving and loading are unchanged.

A regressor's groups share the noise sd and the target's standardisation (a count model its
log-rate offset), so they are not separable: there `n_jobs` is refused. Each group being an
ungrouped network, the groups may be fitted by any engine, `laplace` (last layer) included,
which cannot fit the joint grouped model.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.model.data_groups import with_data_groups
from pymc_bnn.model.group_labels import encode_groups, split_group_column
from pymc_bnn.model.groups import group_bias_name, group_weight_name
from pymc_bnn.model.likelihoods import Categorical
from pymc_bnn.sklearn.members import (
    fit_separately,
    member_seeds,
    summed_timings,
    warn_here,
    worker_warnings,
)


def fit_groups(build: dict, method: str, options: dict, *, draws: int, random_seed: int,
               n_jobs: int, progress: bool = False):
    """Fit each group of a `pooling="none"` classifier separately through joblib and join them.

    Parameters
    ----------
    build : dict
        Keyword arguments of `pymc_bnn.build_model` with `groups` and `pooling="none"` (plain
        data: arrays, strings, numbers).
    method : str
        The engine; every group is fitted with it and `options`.
    options : dict
        The engine options, checked.
    draws : int
        Draws of each group's network (as in the joint fit).
    random_seed : int
        Spawns each group's seed (`pymc_bnn.sklearn.members.member_seeds`, in the order of
        the model's group labels).
    n_jobs : int
        `joblib.Parallel`'s n_jobs; the active joblib backend (loky, dask, ray) runs them.
        Where that is one at a time in this process (1, or None), one Ctrl-C ends the fit as
        it ends a joint fit: the group it lands in keeps its state so far, and every later
        group stops at its engine's first check of the press (the network needs each group's
        weights); the posterior is flagged interrupted.
    progress : bool
        Show each group's progress bar (in its own process).

    Returns
    -------
    Posterior
        The joint model's record with every group's draws (`w_i_group`, `b_i_group`) and
        every row's data (`observed_data`, `constant_data`, as a joint fit has them);
        `diagnostics["groups_fitted"]` is "separately" and `diagnostics["group_diagnostics"]`
        holds each group's convergence, steps and best restart; timings are summed, but
        total_s is the seconds the fits took together (side by side, less than their sum).

    Raises
    ------
    InvalidSettingError
        Groups that share parameters (a likelihood with its own, such as a Gaussian's noise
        sd, or a target encoded with statistics of every group's rows).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2))
    >>> build = {"X": X, "y": (X[:, 0] > 0).astype(int), "hidden": (2,),
    ...          "groups": np.repeat(["a", "b"], 20), "pooling": "none"}
    >>> posterior = fit_groups(build, "advi", {"steps": 50, "tol": 0, "restarts": 1},
    ...                        draws=10, random_seed=0, n_jobs=1)
    >>> posterior.idata["posterior"]["w_0_group"].sizes["group"], posterior.n_draws
    (2, 10)
    """
    from pymc_bnn import build_model

    joint_model = build_model(**build)  # its record reads every group's draws; its data
    joint = joint_model.record  # are the training data of the joined posterior
    if build.get("pooling") != "none" or joint.groups is None:
        raise InvalidSettingError("fit_groups fits the groups of a pooling='none' network; "
                                  "pass groups and pooling='none'")
    if joint.likelihood_params or not getattr(joint.likelihood, "is_classifier", False):
        raise InvalidSettingError(
            f"separate fits of each pooling='none' group (n_jobs=) need groups that share "
            f"nothing, but the groups of a "
            f"{joint.likelihood.name} model share its parameters "
            f"({', '.join(joint.likelihood_params) or 'the target encoding'}), so they are "
            "one fit; leave out n_jobs= (one joint fit), or fit one estimator per group")
    if method == "laplace" and options.get("hessian", "last_layer") != "last_layer":
        raise InvalidSettingError(
            f"hessian={options['hessian']!r} can give a whole-network Laplace fit, which "
            "predicts through its network linearised at each fit's MAP; a grouped posterior "
            "does not predict that way yet: use hessian='last_layer' (the default) with groups")
    X, groups = split_group_column(build["X"], build["groups"])  # groups may name a column
    codes, labels = encode_groups(groups, n_obs=len(X))  # as build_model codes them
    rows = [np.flatnonzero(codes == code) for code in range(len(labels))]
    each = {key: value for key, value in build.items()
            if key not in ("X", "groups", "pooling", "group_spread", "hidden", "activation",
                           "bias", "skip", "likelihood", "feature_names", "sample_weight")}
    likelihood = joint.likelihood
    if isinstance(likelihood, Categorical) and likelihood.classes is None:
        # every group's labels coded as the joint model's, whichever classes its rows hold
        likelihood = Categorical(classes=tuple(joint.preprocessing["classes"]))
    # target_record: encoded with the joint model's classes (a group may hold one class)
    each |= {"spec": joint.spec, "likelihood": likelihood,
             "target_record": dict(joint.preprocessing),
             "feature_names": list(joint.feature_names)}
    X, y = np.asarray(X, dtype=np.float64), np.asarray(build["y"])
    weight = build.get("sample_weight")
    empty = [str(label) for label, index in zip(labels, rows, strict=True)
             if weight is not None and not np.any(np.asarray(weight)[index] > 0)]
    if empty:
        raise InvalidInputError(
            f"sample_weight is 0 for every row of group(s) {', '.join(empty[:5])}, which "
            "leaves their separate fits no data; leave out n_jobs= (one joint fit, where "
            "such a group keeps its prior), or give those rows a positive weight")
    jobs = [(each | {"X": X[index], "y": y[index]}
             | ({} if weight is None else {"sample_weight": np.asarray(weight)[index]}),
             method, options, draws, seed, progress)
            for index, seed in zip(rows, member_seeds(random_seed, len(labels)), strict=True)]
    started = time.perf_counter()
    fits, _ = fit_separately(jobs, n_jobs, whole=True)  # every group's weights are needed
    joined = join_groups(joint, labels, fits)
    joined.timings["total_s"] = time.perf_counter() - started  # side by side: not their sum
    # every row, as a joint fit's idata holds them (each group's fit held its own rows)
    joined = dataclasses.replace(joined, idata=with_data_groups(joined.idata, joint_model))
    warn_here(joined.diagnostics["warnings"])  # said in the workers, where none see them
    return joined


def join_groups(record, labels: list, posteriors: list):
    """Ungrouped fits, one per group in `labels` order, as the grouped posterior of `record`.

    Each fit's `w_i`, `b_i` become `w_i_group`, `b_i_group` with a `group` dim after the
    sample dims, as a joint `pooling="none"` fit stores them; a `variational` group (the
    mean-field q a warm start continues from) joins the same way, group-major as the joint
    model flattens it.

    Parameters
    ----------
    record : ModelRecord
        The joint model's record (its groups' labels are `labels`).
    labels : list
        The group labels, in the record's order.
    posteriors : list of Posterior
        One fit per label, of the record's network, with equal chains and draws.

    Returns
    -------
    Posterior

    Examples
    --------
    >>> from pymc_bnn import build_model
    >>> X = np.random.default_rng(0).normal(size=(8, 2))
    >>> record = build_model(X, [0, 1] * 4, hidden=(3,), groups=[0, 1] * 4,
    ...                      pooling="none").record
    >>> joined = join_groups(record, [0, 1], [fitted, fitted])
    >>> joined.idata["posterior"]["w_0_group"].dims
    ('chain', 'draw', 'group', 'feature', 'hidden_0')
    """
    import xarray as xr

    from pymc_bnn.posterior.posterior import Posterior

    if any(p.linearised for p in posteriors):
        raise InvalidSettingError("a whole-network Laplace fit predicts through its linearised "
                                  "network, which a grouped posterior cannot hold yet; fit the "
                                  "groups with hessian='last_layer'")
    names = {**{f"w_{i}": group_weight_name(f"w_{i}") for i in range(record.spec.n_layers)},
             **{f"b_{i}": group_bias_name(i) for i in range(record.spec.n_layers)},
             "w_skip": group_weight_name("w_skip")}
    parts = [p.idata["posterior"].to_dataset() for p in posteriors]
    draws = xr.concat(parts, dim="group", coords="minimal", compat="override")
    draws = draws.rename({old: new for old, new in names.items() if old in draws.data_vars})
    draws = draws.assign_coords(group=np.asarray(record.groups["coords"]))
    order = ("chain", "draw", "group")
    draws = draws.transpose(*order, ...)
    idata = xr.DataTree.from_dict({"posterior": draws})
    if all("variational" in p.idata.children for p in posteriors):
        idata["variational"] = _joined_variational(
            [p.idata["variational"].to_dataset() for p in posteriors], names)
    first = posteriors[0]
    per_group = {str(label): {key: p.diagnostics.get(key) for key in
                              ("converged", "steps_run", "best_restart")}
                 for label, p in zip(labels, posteriors, strict=True)}
    diagnostics = {"converged": all(p.diagnostics.get("converged", True) for p in posteriors),
                   "groups_fitted": "separately", "group_diagnostics": per_group,
                   "warnings": worker_warnings(posteriors)}
    return Posterior(record, idata, method=first.method, settings=dict(first.settings),
                     timings=summed_timings(posteriors), diagnostics=diagnostics,
                     interrupted=any(p.interrupted for p in posteriors))


def _joined_variational(parts: list, names: dict):
    """Each group's flat q parameters, concatenated group after group under the joint names."""
    import xarray as xr

    out = {}
    for var in parts[0].data_vars:
        base, _, kind = str(var).rpartition("__")
        joint = names.get(base, base)
        values = np.concatenate([np.asarray(part[var]).ravel() for part in parts])
        out[f"{joint}__{kind}"] = xr.DataArray(values, dims=(f"{joint}__flat",))
    return xr.Dataset(out)
