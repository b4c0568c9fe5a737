"""Convergence of sampled posteriors judged where it matters: on the predictions, for any engine.

Hidden units can swap places and flip signs without changing the network, so a BNN posterior has
many equivalent modes and raw weights do not mix across chains even when the predictions do:
R-hat of weights is meaningless. R-hat and bulk ESS (ArviZ) are computed on the predictive mean
at `check_X` (default: the training inputs) instead, which is the same in every mode. `fit` runs
this for every engine whose result says its chains are Markov chains (`EngineResult.mcmc`).
"""

from __future__ import annotations

import numpy as np

# The problems and their thresholds live with the one judgement of convergence that the CLI,
# the report and the estimators show (`pymc_bnn.posterior.convergence`).
from pymc_bnn.posterior.convergence import predictive_problems


def predictive_convergence(posterior, check_X=None, *, training=None) -> dict:
    """R-hat and bulk ESS of the predictive mean over a posterior's chains.

    Parameters
    ----------
    posterior : Posterior
        A fitted posterior with one or more chains.
    check_X : array-like (n_obs, n_features), optional
        Inputs at which to judge the predictions.
    training : BNNModel, optional
        The model the posterior was fitted on: its training inputs (each row through its own
        group in a hierarchical model) are the default `check_X`.

    Returns
    -------
    dict
        `predictive_rhat_max` (None with one chain: R-hat needs two),
        `predictive_ess_bulk_min`, `predictive_ess_bulk_median`, `weight_rhat_max` (the worst
        raw-weight R-hat, for contrast; None with one chain) and `check_points` (rows used).

    Examples
    --------
    `fitted` is one ADVI chain, so there is no R-hat; `fit` runs this for samplers:

    >>> checked = predictive_convergence(fitted, tiny_data.X_test)
    >>> checked["predictive_rhat_max"], checked["check_points"]
    (None, 18)
    >>> checked["predictive_ess_bulk_min"] > 0
    True
    """
    import arviz as az

    from pymc_bnn.model import group_labels
    from pymc_bnn.model import groups as grouping

    groups = None
    if check_X is None:
        check_X = np.asarray(training.model["X"].get_value())
        if group_labels.is_grouped(training.groups):
            labels = group_labels.record_labels(training.groups)
            groups = [labels[c] for c in training.model[grouping.GROUP_INDEX].get_value()]
    chains = posterior.idata["posterior"].sizes["chain"]
    means = posterior.mean_draws(check_X, groups=groups)
    means = means.reshape(chains, -1, *means.shape[1:])
    rhat = np.asarray(az.rhat(means))
    ess = np.asarray(az.ess(means, method="bulk"))
    draws = posterior.idata["posterior"]
    raw = [np.nanmax(np.asarray(az.rhat(np.asarray(draws[name].values))))
           for name in posterior.spec.weight_names if name in draws and chains > 1]
    return {"predictive_rhat_max": float(np.nanmax(rhat)) if chains > 1 else None,
            "predictive_ess_bulk_min": float(np.nanmin(ess)),
            "predictive_ess_bulk_median": float(np.nanmedian(ess)),
            "weight_rhat_max": float(max(raw)) if raw else None,
            "check_points": int(len(check_X))}


def convergence_warnings(diagnostics: dict, method: str) -> list[str]:
    """The messages a user must see about `predictive_convergence`'s numbers, each with its fix.

    The same problems and fixes as `pymc_bnn.posterior.convergence.judge_convergence` shows
    later in `info`, the report and the estimators' `convergence_`, headed by the engine.

    Examples
    --------
    >>> for message in convergence_warnings({"predictive_rhat_max": 1.2,
    ...                                      "predictive_ess_bulk_min": 40}, "nuts"):
    ...     print(message)  # doctest: +ELLIPSIS
    nuts: the chains disagree on the predictions (max predictive R-hat 1.2 > 1.05); fit again ...
    nuts: few effective draws of the predictions (min bulk ESS 40 < 100); fit again ...
    >>> convergence_warnings({"predictive_rhat_max": None, "predictive_ess_bulk_min": 900},
    ...                      "nuts")
    []
    """
    return [f"{method}: {problem}" for problem in predictive_problems(diagnostics)]
