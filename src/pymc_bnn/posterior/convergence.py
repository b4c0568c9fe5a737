"""One judgement of whether a fit converged, from what it recorded, with the fix for each problem.

`judge_convergence` reads a `Posterior`'s `method`, `diagnostics`, `elbo` and `interrupted` and
says, in words, converged or not and why: an optimiser that stopped at its step limit, an ELBO
still rising over the last tenth of the run (even when the engine's own stopping rule was met),
NUTS divergences, chains that disagree on the predictions (R-hat), too few effective draws (bulk
ESS), an interrupted fit. Each problem names the `pymc-bnn fit` flag (and the Python option)
that fixes it. `pymc-bnn fit`, `pymc-bnn info`, the HTML report and the estimators'
`convergence_` all show this one judgement. The ELBO's rise, window means and trend are read
by `pymc_bnn.posterior.elbo_trace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pymc_bnn.posterior.elbo_trace import elbo_still_rising, trend_words, window_means_words
from pymc_bnn.posterior.stacked_members import MEMBER_WORDS, MEMBERS

# Warn when the largest predictive R-hat is above this (Vehtari et al. 2021 recommend 1.01 for
# final results; 1.05 flags chains that visibly disagree on the predictions).
RHAT_WARNING = 1.05
# Warn when the worst predictive bulk ESS is below this: 100 effective draws put the Monte Carlo
# sd of a predictive mean at a tenth of its posterior sd (Vehtari et al. 2021 suggest 100 per
# quantity as a minimum for reliable R-hat and ESS).
ESS_WARNING = 100
# Warn when more than this fraction of post-tuning NUTS transitions diverged.
DIVERGENCE_WARNING_RATE = 0.01
# The ELBO counts as still rising when the mean of its last tenth of steps exceeds the tenth
# before by more than this many nats (a factor e on the bound of the evidence: more steps would
# still buy a visible improvement) and by more than twice the noise of that difference.
ELBO_STILL_RISING_NATS = 1.0
_METHOD_NAMES = {"advi": "mean-field ADVI", "fullrank_advi": "full-rank ADVI",
                 "pymc_advi": "ADVI (pm.fit)", "laplace": "Laplace at the MAP",
                 "nuts": "NUTS (NumPyro)"}


@dataclass(frozen=True)
class Problem:
    """One reason a fit cannot be trusted yet, and what to do about it.

    Attributes
    ----------
    kind : str
        Which check found it: "interrupted", "step_limit", "interpolates", "elbo_rising",
        "divergences", "rhat" or "ess".
    what : str
        The problem in words, with its number (e.g. "max predictive R-hat 1.62 > 1.05").
    fix : str
        What to do, naming the `pymc-bnn fit` flag and the Python option.
    flag : str or None
        The `pymc-bnn fit` flag that fixes it (e.g. "--steps"); None when no flag does.

    Examples
    --------
    >>> problem = Problem("rhat", "max predictive R-hat 1.62 > 1.05",
    ...                   "sample longer with --tune and --draws", "--tune")
    >>> str(problem)
    'max predictive R-hat 1.62 > 1.05; sample longer with --tune and --draws'
    """

    kind: str
    what: str
    fix: str
    flag: str | None = None

    def __str__(self) -> str:
        return f"{self.what}; {self.fix}"


@dataclass(frozen=True)
class Convergence:
    """The judgement of one fit: converged or not, the checks made and the problems found.

    Attributes
    ----------
    method : str
        The engine's name, e.g. "advi" or "nuts".
    problems : tuple of Problem
        Empty when the fit converged.
    checks : tuple of (str, str)
        (what was checked, its value in words), the rows of the report's "How the fit went".

    Examples
    --------
    `fitted` ran a fixed 500 steps (`tol=0` turns the engine's stopping rule off), and its
    ELBO no longer rose over the last tenth of them:

    >>> judgement = judge_convergence(fitted)
    >>> judgement.converged, dict(judgement.checks)["ELBO settled (the engine's rule)"]
    (True, 'not checked: tol=0 ran the fixed 500 steps asked for')
    >>> Convergence("nuts").summary()
    'converged'
    >>> limit = Problem("step_limit", "advi stopped at the maximum of 500 steps",
    ...                 "fit again with a larger --steps", "--steps")
    >>> print(Convergence("advi", (limit,)).summary())
    not converged: advi stopped at the maximum of 500 steps; fit again with a larger --steps
    """

    method: str
    problems: tuple[Problem, ...] = ()
    checks: tuple[tuple[str, str], ...] = field(default=())

    @property
    def converged(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """One line: "converged" or "not converged: problem; fix | problem; fix"."""
        if self.converged:
            return "converged"
        return "not converged: " + " | ".join(map(str, self.problems))

    def to_dict(self) -> dict:
        """A JSON-able record: converged, method, problems (what, fix, flag) and checks."""
        return {"converged": self.converged, "method": self.method,
                "problems": [{"kind": p.kind, "what": p.what, "fix": p.fix, "flag": p.flag}
                             for p in self.problems],
                "checks": [list(c) for c in self.checks]}


def judge_convergence(posterior) -> Convergence:
    """Whether a fit converged, judged from what it recorded, with the fix for every problem.

    Parameters
    ----------
    posterior : Posterior
        Any engine's result (its `method`, `settings`, `diagnostics`, `elbo`, `interrupted`).

    Returns
    -------
    Convergence
        `converged`, `problems` (each with the `pymc-bnn fit` flag that fixes it) and the
        `checks` made, in words.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> nuts = SimpleNamespace(method="nuts", settings={"chains": 2, "draws_per_chain": 40,
    ...                        "tune": 30}, elbo=None, interrupted=False,
    ...                        diagnostics={"divergences": 0, "divergence_rate": 0.0,
    ...                                     "predictive_rhat_max": 1.62,
    ...                                     "predictive_ess_bulk_min": 7.0})
    >>> judgement = judge_convergence(nuts)
    >>> judgement.converged, [p.flag for p in judgement.problems]
    (False, ['--draws', '--draws'])
    >>> print(judgement.problems[0].what)
    the chains disagree on the predictions (max predictive R-hat 1.62 > 1.05)
    """
    diagnostics = posterior.diagnostics or {}
    settings = posterior.settings or {}
    method = posterior.method or "?"
    checks: list[tuple[str, str]] = [("engine", f"{method} ({_METHOD_NAMES.get(method, method)})")]
    problems: list[Problem] = []
    if method == "nuts":
        _judge_sampler(settings, diagnostics, checks, problems)
    else:
        _judge_optimiser(posterior, settings, diagnostics, checks, problems)
    if "stacking" in settings:  # the checks above are the network's; the other models' follow
        problems[:] = [replace(p, what=f"the network's fit: {p.what}")
                       for p in problems]
        for name in MEMBERS[1:]:
            _judge_stacked_model(posterior, diagnostics.get(f"{name}_model"),
                                 MEMBER_WORDS[name].noun, checks, problems)
    stacking = diagnostics.get("stacking_stopped")
    if posterior.interrupted and stacking:  # the network's own fit is whole
        checks.append(("interrupted", f"yes: the stacking, by Ctrl-C during {stacking}"))
        problems.insert(0, Problem(
            "interrupted", f"the stacking was interrupted (Ctrl-C) during {stacking}: this is "
            "the network's own fit, whole, without the models stacked with it",
            "run the same `pymc-bnn fit` again and let it finish"))
    elif posterior.interrupted:
        checks.append(("interrupted", "yes: stopped early by Ctrl-C"))
        problems.insert(0, Problem(
            "interrupted", "the fit was interrupted (Ctrl-C) and holds the state reached so far",
            "run `pymc-bnn fit` again and let it finish"))
    return Convergence(method=method, problems=tuple(problems), checks=tuple(checks))


def _fixed_steps_words(run: int | None) -> str:
    """The check's words for a fit whose stopping rule was off (tol=0): not a failure to settle."""
    return "not checked: tol=0 ran the fixed " + (f"{run:,} " if run else "") + "steps asked for"


def _judge_stacked_model(posterior, record, title, checks, problems) -> None:
    """The stopping rule of a stacked fit's other model `title` (recorded by the stacking)."""
    if not record or record.get("converged") is None:
        return
    steps, run = record.get("steps"), record.get("steps_run")
    # tol=0: a fixed number of steps asked for, as for the network (files before the record kept
    # its own tol share the network's options)
    tol = record.get("tol", (posterior.settings or {}).get("tol"))
    fixed = tol == 0 and not record["converged"]
    checks.append((f"{title}'s fit settled", "yes" if record["converged"] else
                   _fixed_steps_words(run) if fixed else
                   "no: stopped at the step limit" + (f" ({run:,} steps)" if run else "")))
    if not record["converged"] and not fixed and not posterior.interrupted:
        problems.append(Problem(
            "step_limit", f"the {title}'s fit: {posterior.method} stopped at the maximum of "
            f"{'?' if steps is None else format(steps, ',')} steps before converging",
            "fit again with a larger --steps (Python: steps=)", "--steps"))


def _judge_optimiser(posterior, settings, diagnostics, checks, problems) -> None:
    """Steps, the engine's stopping rule, the ELBO trace and restarts of VI and Laplace fits."""
    steps, run = settings.get("steps"), diagnostics.get("steps_run")
    if run is not None:
        checks.append(("steps run", f"{run:,} of at most {steps:,}" if steps else f"{run:,}"))
    objective = "MAP loss" if posterior.method == "laplace" else "ELBO"
    stopped = diagnostics.get("converged")
    change = diagnostics.get("relative_change")
    # tol=0 asks for a fixed number of steps with the stopping rule off: reaching the last step
    # is what was asked, not a failure to settle (the ELBO's own trend below still judges it)
    fixed = settings.get("tol") == 0 and not stopped
    if stopped is not None:
        if fixed:
            rule = _fixed_steps_words(run)
        else:
            rule = ("yes" if stopped else "no: stopped at the step limit") + (
                f" (relative {objective} change {change:.2g} between the last two windows of "
                f"{settings['window']:,} steps" + _window_means_part(diagnostics)
                + f", tolerance {settings['tol']:g}" + _trend_part(diagnostics) + ")"
                if change is not None and {"tol", "window"} <= settings.keys() else "")
        checks.append((f"{objective} settled (the engine's rule)", rule))
        interpolates = diagnostics.get("interpolates")
        if interpolates and not posterior.interrupted:  # more steps would fit the noise more
            problems.append(Problem(
                "interpolates", f"the network interpolates its {interpolates['rows']:,} "
                f"training rows ({interpolates['parameters']:,} parameters; training RMSE "
                f"{interpolates['rmse_share']:.2%} of the target's sd), so its noise sd and "
                "intervals are too small" + ("" if stopped or fixed else " (and its MAP loss "
                                             "was still falling at the step limit)"),
                "fit with fewer hidden units (--hidden), with --method advi, or on more rows",
                "--hidden"))
        elif not stopped and not fixed and not posterior.interrupted:
            problems.append(Problem(
                "step_limit", f"{posterior.method} stopped at the maximum of "
                f"{'?' if steps is None else format(steps, ',')} steps before converging (its "
                f"{objective} had not settled)", "fit again with a larger --steps (Python: steps=)",
                "--steps"))
    elbo = posterior.elbo
    rising = None if elbo is None else elbo_still_rising(elbo)
    if rising is not None:
        rise, noise = rising
        checks.append(("ELBO change over the last tenth of the steps",
                       f"{rise:+.3g} nats (noise ±{noise:.2g})"))
        if (rise > ELBO_STILL_RISING_NATS and rise > 2 * noise
                and (stopped is not False or fixed) and not posterior.interrupted):
            problems.append(Problem(
                "elbo_rising", f"the ELBO was still rising at the end ({rise:+.3g} nats over "
                f"the last tenth of the steps, more than {ELBO_STILL_RISING_NATS:g} nat and "
                "twice its noise)",
                "fit again with a larger --steps (Python: steps=)", "--steps"))
    restart_elbos = diagnostics.get("restart_elbos")
    if restart_elbos:
        best = diagnostics.get("best_restart")
        checks.append(("restarts", f"{len(restart_elbos)}; final ELBO of each: "
                       + ", ".join(f"{float(e):.1f}" for e in restart_elbos)
                       + ("" if best is None else f" (kept: restart {best})")))
    losses = diagnostics.get("map_loss")
    if losses:
        checks.append(("restarts", f"{len(losses)}; final MAP loss of each: "
                       + ", ".join(f"{float(e):.1f}" for e in losses)
                       + f" (kept: restart {diagnostics.get('best_restart', 0)})"))
    members = diagnostics.get("members")
    if members and len(members) > 1:
        checks.append(("ensemble", f"{len(members)} restarts kept as chains"))


def _window_means_part(diagnostics: dict) -> str:
    """' (mean ELBO a → b nats)' when the fit recorded its last two window means, else ''."""
    means = diagnostics.get("window_means")
    if not means:
        return ""
    return f" ({window_means_words(means[0], means[1], size=diagnostics.get('elbo_size'))})"


def _trend_part(diagnostics: dict) -> str:
    """'; ELBO trend …' and the rule that stopped the fit, when it recorded a trend, else ''."""
    trend, windows = diagnostics.get("elbo_trend"), diagnostics.get("trend_windows")
    if not (trend and windows):
        return ""
    words = f"; {trend_words(trend[0], trend[1], windows)}"
    stopped_by = diagnostics.get("stopped_by")
    if stopped_by == "noise":
        words += ": within its noise, which stopped the fit"
    elif stopped_by == "trend_tol":
        words += ": under the tolerance × the last mean, which stopped the fit"
    return words


def _judge_sampler(settings, diagnostics, checks, problems) -> None:
    """Divergences, predictive R-hat and bulk ESS of a NUTS fit."""
    chains, draws = settings.get("chains"), settings.get("draws_per_chain")
    if chains is not None and draws is not None:
        checks.append(("chains × draws", f"{chains} × {draws:,} after {settings.get('tune', '?')} "
                                         "tuning steps each"))
    divergences, rate = diagnostics.get("divergences"), diagnostics.get("divergence_rate")
    if divergences is not None and rate is not None:
        checks.append(("divergent transitions", f"{divergences:,} ({rate:.1%})"))
        problems.extend(divergence_problems(diagnostics))
    rhat = diagnostics.get("predictive_rhat_max")
    if "predictive_rhat_max" in diagnostics:
        checks.append(("max predictive R-hat", "— (one chain)" if rhat is None
                       else f"{rhat:.3f} (should be ≤ {RHAT_WARNING})"))
    ess = diagnostics.get("predictive_ess_bulk_min")
    if ess is not None:
        checks.append(("min predictive bulk ESS", f"{ess:,.0f} (should be ≥ {ESS_WARNING})"))
    problems.extend(predictive_problems(diagnostics))
    weight_rhat = diagnostics.get("weight_rhat_max")
    if weight_rhat is not None:
        checks.append(("max raw-weight R-hat", f"{weight_rhat:.3g} (not a problem by itself: "
                       "hidden units swap places between chains)"))


def divergence_problems(diagnostics: dict) -> list[Problem]:
    """The problem in a NUTS fit's divergent transitions, with its fix (empty when there is none).

    `judge_convergence` shows it for a NUTS fit, and the NUTS engine warns with the same words
    as soon as it has sampled.

    Parameters
    ----------
    diagnostics : dict
        With `divergences` (a count) and `divergence_rate` (divergent / post-tuning
        transitions, all chains); missing keys are not judged.

    Returns
    -------
    list of Problem
        One of kind "divergences" when the rate is above `DIVERGENCE_WARNING_RATE`, else empty.

    Examples
    --------
    >>> print(divergence_problems({"divergences": 40, "divergence_rate": 0.02})[0].what)
    40 transitions diverged (2.0% > 1%): the sampler missed parts of the posterior
    >>> divergence_problems({"divergences": 1, "divergence_rate": 0.0005})
    []
    """
    divergences, rate = diagnostics.get("divergences"), diagnostics.get("divergence_rate")
    if divergences is None or rate is None or rate <= DIVERGENCE_WARNING_RATE:
        return []
    return [Problem(
        "divergences", f"{divergences:,} transitions diverged ({rate:.1%} > "
        f"{DIVERGENCE_WARNING_RATE:.0%}): the sampler missed parts of the posterior",
        "use a prior with lighter tails (--prior normal), or raise --target-accept "
        "towards 0.99 (Python: prior='normal', engine_options={'target_accept': 0.99})",
        "--prior")]


def predictive_problems(diagnostics: dict) -> list[Problem]:
    """The problems in a sampler's predictive R-hat and bulk ESS, each with its fix.

    `judge_convergence` shows them for a NUTS fit, and `fit` warns with the same words as soon
    as the sampler has run.

    Parameters
    ----------
    diagnostics : dict
        With `predictive_rhat_max` (None with one chain) and `predictive_ess_bulk_min`, as
        `pymc_bnn.inference.diagnostics.predictive_convergence` gives; missing keys are not
        judged.

    Returns
    -------
    list of Problem
        Of kind "rhat" and "ess", in that order; empty when both are fine.

    Examples
    --------
    >>> for problem in predictive_problems({"predictive_rhat_max": 1.3,
    ...                                     "predictive_ess_bulk_min": 12.0}):
    ...     print(problem.what)
    the chains disagree on the predictions (max predictive R-hat 1.3 > 1.05)
    few effective draws of the predictions (min bulk ESS 12 < 100)
    >>> predictive_problems({"predictive_rhat_max": None, "predictive_ess_bulk_min": 900})
    []
    """
    problems = []
    rhat = diagnostics.get("predictive_rhat_max")
    if rhat is not None and rhat > RHAT_WARNING:
        problems.append(Problem(
            "rhat", f"the chains disagree on the predictions (max predictive R-hat {rhat:.3g} > "
            f"{RHAT_WARNING})",
            "fit again with a larger --draws, more tuning (--tune) or more chains (--chains) "
            "(Python: draws=, engine_options={'tune': …, 'chains': …})", "--draws"))
    ess = diagnostics.get("predictive_ess_bulk_min")
    if ess is not None and ess < ESS_WARNING:
        problems.append(Problem(
            "ess", f"few effective draws of the predictions (min bulk ESS {ess:.0f} < "
            f"{ESS_WARNING})", "fit again with a larger --draws and more tuning (--tune) "
            "(Python: draws=, engine_options={'tune': …})", "--draws"))
    return problems


__all__ = ["DIVERGENCE_WARNING_RATE", "ELBO_STILL_RISING_NATS", "ESS_WARNING", "RHAT_WARNING",
           "Convergence", "Problem", "divergence_problems", "elbo_still_rising",
           "judge_convergence", "predictive_problems", "trend_words",
           "window_means_words"]
