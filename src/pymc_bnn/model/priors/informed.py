"""Informed priors: Normal priors centred on pretrained weights, with a knob for how far they move.

Sources: plain arrays, a fitted scikit-learn MLPClassifier/MLPRegressor, or an earlier pymc-bnn
`Posterior` (its posterior means and sds). Transfer learning, the Bayesian way: what was learned
before becomes the prior for the new data, which then only has to correct it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, overload

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model.network import SKIP_WEIGHT
from pymc_bnn.model.priors.base import check_positive, non_centred, plain_bias

# scikit-learn's activation names -> ours (sklearn's "logistic" is our "sigmoid").
SKLEARN_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh",
                       "relu": "relu"}


@overload
def _arrays(values: None, what: str, ndim: int) -> None: ...
@overload
def _arrays(values: Iterable, what: str, ndim: int) -> tuple[np.ndarray, ...]: ...
def _arrays(values: Iterable | None, what: str, ndim: int) -> tuple[np.ndarray, ...] | None:
    if values is None:
        return None
    out = tuple(np.asarray(v, dtype=np.float64) for v in values)
    for i, a in enumerate(out):
        if a.ndim not in (0, ndim) or not np.all(np.isfinite(a)):
            raise InvalidSettingError(
                f"{what}[{i}] must be a finite {ndim}-D array (or a scalar for sds), got shape "
                f"{a.shape}"
            )
    return out


@dataclass(frozen=True, eq=False)
class InformedPrior:
    """w_i ~ Normal(weights[i], spread · sd_i), non-centred (w_i = weights[i] + spread·sd_i·z).

    Use `build_model(X, y, prior=p, **p.architecture)` to get the matching network. The
    constructors `from_arrays`, `from_sklearn` and `from_posterior` are the usual way in.

    Parameters
    ----------
    weights : sequence of array
        Centres per layer, `(fan_in, fan_out)` each.
    biases : sequence of array, optional
        Centres per layer `(fan_out,)`; None: biases, if the network has them, get
        Normal(0, 1).
    weight_sds, bias_sds : sequence of array or float, optional
        The base sds per layer (arrays of the same shape, or scalars); None means the default
        prior's scale, 1/sqrt(fan_in) for weights and 1 for biases.
    spread : float, default 1.0
        The knob: 1 keeps the source's own uncertainty (or the default prior width around the
        pretrained point), smaller holds the new weights closer to the old ones, larger lets
        them move further.
    activation : str, optional
        The network's activation the weights were trained with (checked against the spec when
        known).
    source : str, default "arrays"
        Where the centres came from, for records.
    skip_weight, skip_weight_sd : array, optional
        Centre `(n_inputs, n_outputs)` and base sd (same shape or a scalar; None:
        1/sqrt(n_inputs)) of a skip path's weights, for a network built with skip=True.

    Examples
    --------
    Continue from an earlier fit: the new model starts where `fitted` ended.

    >>> from pymc_bnn import build_model
    >>> prior = InformedPrior.from_posterior(fitted, spread=0.5)
    >>> prior.source
    'pymc-bnn posterior (advi)'
    >>> prior.architecture
    {'hidden': (3,), 'bias': False, 'skip': False, 'activation': 'tanh'}
    >>> bnn = build_model(tiny_data.X_test, tiny_data.y_test, prior=prior, **prior.architecture)
    >>> bnn.spec.hidden
    (3,)
    """

    weights: tuple
    biases: tuple | None = None
    weight_sds: tuple | None = None
    bias_sds: tuple | None = None
    spread: float = 1.0
    activation: str | None = None
    source: str = "arrays"
    skip_weight: np.ndarray | None = None
    skip_weight_sd: np.ndarray | None = None
    name: ClassVar[str] = "informed"

    def __post_init__(self) -> None:
        weights = _arrays(self.weights, "weights", 2)
        if not weights:
            raise InvalidSettingError("an informed prior needs at least one weight matrix")
        for i in range(len(weights) - 1):
            if weights[i].ndim != 2 or weights[i].shape[1] != weights[i + 1].shape[0]:
                raise InvalidSettingError(
                    f"weights[{i}] has shape {weights[i].shape} but weights[{i + 1}] has "
                    f"{weights[i + 1].shape}; layer i must output what layer i+1 takes in"
                )
        object.__setattr__(self, "weights", weights)
        for field_name, ndim in (("biases", 1), ("weight_sds", 2), ("bias_sds", 1)):
            value = _arrays(getattr(self, field_name), field_name, ndim)
            if value is not None and len(value) != len(weights):
                raise InvalidSettingError(
                    f"{field_name} has {len(value)} entries but there are {len(weights)} layers"
                )
            object.__setattr__(self, field_name, value)
        self._set_skip(weights)
        skip_sd = () if self.skip_weight_sd is None else (self.skip_weight_sd,)
        for sds in (self.weight_sds or ()) + (self.bias_sds or ()) + skip_sd:
            if np.any(sds <= 0):
                raise InvalidSettingError("prior sds must be positive; floor them (e.g. 1e-3)")
        check_positive(self.spread, "spread")

    def _set_skip(self, weights) -> None:
        if self.skip_weight is None:
            if self.skip_weight_sd is not None:
                raise InvalidSettingError(
                    "skip_weight_sd needs skip_weight, the centres it spreads")
            return
        expected = (weights[0].shape[0], weights[-1].shape[1])
        (centre,) = _arrays([self.skip_weight], "skip_weight", 2)
        if centre.shape != expected:
            raise InvalidSettingError(
                f"skip_weight has shape {centre.shape} but a skip path of these layers is "
                f"(n_inputs, n_outputs) = {expected}"
            )
        object.__setattr__(self, "skip_weight", centre)
        if self.skip_weight_sd is not None:
            (sd,) = _arrays([self.skip_weight_sd], "skip_weight_sd", 2)
            object.__setattr__(self, "skip_weight_sd", sd)

    # ---------------------------------------------------------------- the Prior protocol
    def weight(self, var_name, *, shape, dims, layer):
        """Normal(trained weight, its sd) for every weight; see `Prior.weight`."""
        if var_name == SKIP_WEIGHT:
            mean, sds = self.skip_weight, self.skip_weight_sd
        else:
            mean = self.weights[layer]
            sds = None if self.weight_sds is None else self.weight_sds[layer]
        base = sds if sds is not None else np.full(mean.shape, 1.0 / np.sqrt(shape[0]))
        return non_centred(var_name, self.spread * base, dims, loc=mean)

    def bias(self, var_name, *, shape, dims, layer):
        """Normal(trained bias, its sd), or the plain bias prior without trained biases."""
        if self.biases is None:
            return plain_bias(var_name, dims)
        base = self.bias_sds[layer] if self.bias_sds is not None else 1.0
        return non_centred(var_name, self.spread * base, dims, loc=self.biases[layer])

    def check_spec(self, spec) -> None:
        """Refuse a network these weights do not fit, and say how to build the one they do."""
        fix = "build it with build_model(X, y, prior=prior, **prior.architecture)"
        if spec.skip and self.skip_weight is None:
            raise InvalidSettingError(
                "the informed prior has no centres for a skip path; build the network without "
                "skip (skip=False), or give the prior skip_weight"
            )
        if self.skip_weight is not None and not spec.skip:
            raise InvalidSettingError(
                f"the informed prior has a skip path but the network has none; {fix}")
        shapes = [w.shape for w in self.weights]
        if shapes != spec.weight_shapes():
            raise InvalidSettingError(
                f"the informed prior's weights have shapes {shapes} but the network's are "
                f"{spec.weight_shapes()}; {fix} (and the same features and target encoding)"
            )
        if self.biases is not None and not spec.bias:
            raise InvalidSettingError(
                f"the informed prior has biases but the network has none; {fix}")
        if self.activation is not None and self.activation != spec.activation:
            raise InvalidSettingError(
                f"the informed prior's weights were trained with {self.activation} activations "
                f"but the network uses {spec.activation}; {fix}"
            )

    @property
    def architecture(self) -> dict:
        """build_model keywords for the network these weights belong to."""
        arch = {"hidden": tuple(w.shape[1] for w in self.weights[:-1]),
                "bias": self.biases is not None, "skip": self.skip_weight is not None}
        if self.activation is not None:
            arch["activation"] = self.activation
        return arch

    def to_dict(self) -> dict:
        """The prior with its arrays as nested lists, JSON-able."""
        def lists(values):
            return None if values is None else [np.asarray(v).tolist() for v in values]

        return {"name": self.name, "weights": lists(self.weights), "biases": lists(self.biases),
                "weight_sds": lists(self.weight_sds), "bias_sds": lists(self.bias_sds),
                "spread": float(self.spread), "activation": self.activation, "source": self.source,
                "skip_weight": None if self.skip_weight is None else self.skip_weight.tolist(),
                "skip_weight_sd": (None if self.skip_weight_sd is None
                                   else self.skip_weight_sd.tolist())}

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_arrays(cls, weights, biases=None, *, sds=None, bias_sds=None, spread: float = 1.0,
                    activation: str | None = None, skip_weight=None,
                    skip_sd=None) -> InformedPrior:
        """A prior centred on given arrays, e.g. weights trained elsewhere.

        `weights`: a list of (fan_in, fan_out); `biases`: a list of (fan_out,); for a network
        with a skip path, `skip_weight` (n_inputs, n_outputs).
        """
        return cls(weights=weights, biases=biases, weight_sds=sds, bias_sds=bias_sds,
                   spread=spread, activation=activation, source="arrays",
                   skip_weight=skip_weight, skip_weight_sd=skip_sd)

    @classmethod
    def from_sklearn(cls, mlp, *, y=None, spread: float = 1.0) -> InformedPrior:
        """Centred on a fitted scikit-learn MLPClassifier or MLPRegressor.

        sklearn's network has biases and its own activation ("logistic" becomes our "sigmoid"),
        both carried over (see `architecture`). Its output layer maps to ours: one logistic
        output = the bernoulli likelihood, a softmax = categorical (classes in `mlp.classes_`
        order, which is sorted, as ours). A regressor predicts y in user units, while pymc-bnn
        models the standardised target, so pass the regressor's training target `y` and the
        output layer is rescaled to match. Fit the MLP on the same features (same scaling,
        same column order) you give pymc-bnn.
        """
        if not hasattr(mlp, "coefs_") or not hasattr(mlp, "out_activation_"):
            raise InvalidSettingError(
                f"{type(mlp).__name__} is not a fitted scikit-learn MLPClassifier/MLPRegressor; "
                "call its fit() first"
            )
        weights = [np.array(w, dtype=np.float64) for w in mlp.coefs_]
        biases = [np.array(b, dtype=np.float64) for b in mlp.intercepts_]
        out = mlp.out_activation_
        if out == "identity":
            if weights[-1].shape[1] != 1:
                raise InvalidSettingError(
                    "the MLPRegressor has several outputs; pymc-bnn regresses one target"
                )
            if y is None:
                raise InvalidSettingError(
                    "pass the MLPRegressor's training target y (informed prior from_sklearn(mlp, "
                    "y=y_train)) so its output layer can be put on pymc-bnn's standardised scale"
                )
            from pymc_bnn.label_checks import check_real_target
            from pymc_bnn.model.regression_likelihoods import standardise_target

            _, record = standardise_target(check_real_target(y, likelihood="gaussian"))
            weights[-1] = weights[-1] / record["y_scale"]
            biases[-1] = (biases[-1] - record["y_mean"]) / record["y_scale"]
        elif out == "logistic" and weights[-1].shape[1] != 1:
            raise InvalidSettingError(
                "the MLPClassifier is multi-label (several logistic outputs); pymc-bnn fits one "
                "label per row: fit one classifier per label"
            )
        elif out not in ("logistic", "softmax"):
            raise InvalidSettingError(f"unsupported MLP output activation {out!r}")
        if mlp.activation not in SKLEARN_ACTIVATIONS:
            raise InvalidSettingError(f"unsupported MLP activation {mlp.activation!r}")
        return cls(weights=tuple(weights), biases=tuple(biases), spread=spread,
                   activation=SKLEARN_ACTIVATIONS[mlp.activation],
                   source=f"scikit-learn {type(mlp).__name__}")

    @classmethod
    def from_posterior(cls, posterior, *, spread: float = 1.0,
                       min_sd: float = 1e-3) -> InformedPrior:
        """A prior centred on an earlier pymc-bnn `Posterior`: the new data continue from it.

        Centred on its posterior means, with its posterior sds (floored at `min_sd`) as the
        base sds, taken over every draw of every chain after their hidden units are aligned to
        one labelling (`pymc_bnn.model.symmetry.align_draws`): chains, ensemble members and
        even draws of one NUTS chain can list the same units in another order or with flipped
        signs, and the mean of unaligned draws mixes different units (four NUTS chains of two
        moons: a network at the pooled means scored 0.44 accuracy, against 0.83 for the
        posterior).

        Regression weights live on the old target's standardised scale: fit both on targets of
        similar location and spread, or the output layer starts off.
        """
        from pymc_bnn.model.network import bias_name, weight_name
        from pymc_bnn.model.symmetry import align_draws

        draws = posterior.idata["posterior"]
        spec = posterior.spec

        def pooled(name):  # every chain's draws, (chains · draws, ...)
            values = np.asarray(draws[name].values, dtype=np.float64)
            return values.reshape(-1, *values.shape[2:])

        def moments(values):
            return values.mean(axis=0), np.maximum(values.std(axis=0), min_sd)

        names = [weight_name(i) for i in range(spec.n_layers)]
        aligned = align_draws(spec, [pooled(n) for n in names + ([SKIP_WEIGHT] if spec.skip
                                                                  else [])],
                              [pooled(bias_name(i)) for i in range(spec.n_layers)]
                              if spec.bias else None)
        w = [moments(aligned.weights[i]) for i in range(spec.n_layers)]
        b = None if aligned.biases is None else [moments(v) for v in aligned.biases]
        skip = moments(aligned.weights[-1]) if spec.skip else (None, None)
        return cls(weights=tuple(m for m, _ in w), weight_sds=tuple(s for _, s in w),
                   biases=None if b is None else tuple(m for m, _ in b),
                   bias_sds=None if b is None else tuple(s for _, s in b),
                   spread=spread, activation=spec.activation,
                   source=f"pymc-bnn posterior ({posterior.method})",
                   skip_weight=skip[0], skip_weight_sd=skip[1])
