"""Build the PyMC model of a Bayesian neural network from a spec, a prior, a likelihood and data.

The result is an ordinary `pm.Model` (`BNNModel.model`) that users can inspect and extend:
inputs are `pm.Data("X", dims=("obs", "feature"))`, the target `pm.Data("y_data", dims="obs")`,
weights `w_0 … w_L` with dims such as ("feature", "hidden_0") (and `w_skip`, dims ("feature",
"output"), with a skip path), biases `b_0 … b_L`, the pre-link output the Deterministic-free
tensor `BNNModel.output`, and the observed variable `y`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from pymc_bnn.data import BatchSource, fixed_batches, stream_statistics
from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.model import group_labels as grouping_labels
from pymc_bnn.model import groups as grouping
from pymc_bnn.model.likelihoods import Categorical, Likelihood, encode_target, get_likelihood
from pymc_bnn.model.network import SKIP_WEIGHT, NetworkSpec, bias_name, forward
from pymc_bnn.model.priors import Prior, get_prior
from pymc_bnn.model.record import ModelRecord, RecordFields, record_of, set_fields
from pymc_bnn.validation import check_sample_weight, check_target, mean_and_scale

# The data container of the rows' weights (`build_model(sample_weight=...)`).
SAMPLE_WEIGHT = "sample_weight"

@dataclass(frozen=True, init=False)
class BNNModel(RecordFields):
    """A built model: the `pm.Model` plus what is needed to predict from its posterior.

    Parameters
    ----------
    record : ModelRecord
        What describes the network apart from its draws (spec, prior, likelihood, feature
        names, preprocessing, likelihood parameters, groups), read as attributes of the model
        too (`bnn.spec` is `bnn.record.spec`); `fit` hands it on to the `Posterior`. Those
        fields may also be passed one by one instead, as before the record existed.
    model : pm.Model
        The PyMC model.
    output : TensorVariable
        The pre-link network output, (obs, n_outputs).
    n_obs : int
        Rows the model was built on.
    stream : BatchSource, optional
        A streamed model's minibatches (targets encoded as the model's), which `fit` reads
        instead of the one batch the model was built on.

    Examples
    --------
    >>> from pymc_bnn import build_model
    >>> from pymc_bnn.datasets import two_moons
    >>> data = two_moons(n_samples=60)
    >>> bnn = build_model(data.X_train, data.y_train, hidden=(3,))
    >>> bnn.spec.hidden, bnn.feature_names, bnn.n_obs
    ((3,), ('x0', 'x1'), 42)
    >>> bnn.record.likelihood.name
    'bernoulli'
    """

    record: ModelRecord
    model: object  # pm.Model
    output: object = field(repr=False)
    n_obs: int = 0
    stream: BatchSource | None = field(default=None, repr=False)

    def __init__(self, record: ModelRecord | None = None, model: object = None,
                 output: object = None, n_obs: int = 0, stream: BatchSource | None = None,
                 **record_fields) -> None:
        set_fields(self, record=record_of(record, record_fields, "BNNModel"), model=model,
                   output=output, n_obs=n_obs, stream=stream)

    @property
    def weight_names(self) -> list[str]:
        """The weight variables, in `forward`'s order: w_0 … w_L, then w_skip.

        Examples
        --------
        See `build_model`.
        """
        return self.spec.weight_names

    @property
    def bias_names(self) -> list[str]:
        """The bias variables b_0 … b_L, or [] for a network without biases.

        Examples
        --------
        See `build_model`.
        """
        return [bias_name(i) for i in range(self.spec.n_layers)] if self.spec.bias else []


def build_model(
    X,
    y,
    spec: NetworkSpec | None = None,
    *,
    hidden: Sequence[int] = (5, 5),
    activation: str = "tanh",
    bias: bool = False,
    prior: str | Prior | None = None,
    likelihood: str | Likelihood = "bernoulli",
    feature_names: Sequence[str] | None = None,
    groups=None,
    pooling: str | None = None,
    group_spread: float = 1.0,
    skip: bool = False,
    total_size: int | None = None,
    target_record: dict | None = None,
    sample_weight=None,
) -> BNNModel:
    """Turn data and a network into a `BNNModel`: the `pm.Model` and its record.

    The defaults are the seed's architecture (two tanh layers of 5 units, no biases, Bernoulli
    likelihood) with the library's default prior Normal(0, 1/sqrt(fan_in)), which keeps wide
    layers from saturating a priori; pass `prior=pymc_bnn.model.priors.SEED_PRIOR` for the
    seed's unscaled Normal(0, 1).

    Parameters
    ----------
    X : array-like (n_obs, n_features) or DataFrame
        The inputs (a DataFrame's column names become the feature names).
    y : array-like (n_obs,)
        The target, as the likelihood takes it.
    spec : NetworkSpec, optional
        The architecture; its `n_inputs` and `n_outputs` must match the data and likelihood.
        Without one, `hidden`, `activation`, `bias` and `skip` make it.
    hidden : sequence of int
        Width of each hidden layer (any depth).
    activation : {"tanh", "relu", "gelu", "softplus", "sigmoid", "identity"}
    bias : bool
        Give each unit a bias.
    prior, likelihood : str or object
        A name (`pymc_bnn.model.priors.PRIORS`, `pymc_bnn.model.likelihoods.LIKELIHOODS`) or
        an object, e.g. `HorseshoePrior(global_scale=0.1)` or `StudentT(df=4)`.
    feature_names : sequence of str, optional
        One distinct name per column (default: a DataFrame's columns, else x0, x1, ...).
    groups : array-like (n_obs,) or str, optional
        One hashable label per row (strings, numbers or tuples of them), or the name of a
        column of a DataFrame X (which is then not a feature): a hierarchical network.
    pooling : {"partial", "complete", "none"}, optional
        With groups: "partial" (the default: group weights drawn around population weights,
        learned spread `group_sd_i` ~ HalfNormal(group_spread/sqrt(fan_in)) per layer,
        non-centred), "complete" (one shared network; the labels are recorded) or "none" (an
        independent network per group with the ordinary prior). See `pymc_bnn.model.groups`.
    group_spread : float
        Scale of the spreads' prior.
    skip : bool
        Add a linear path from inputs to outputs (see `NetworkSpec`).
    total_size : int, optional
        Rows of the whole data set, making X, y one minibatch of it: the likelihood is scaled
        by total_size / rows, as with `pm.Minibatch`. At least the rows of X (else refused).
    target_record : dict, optional
        Encode y with these fixed statistics (`encode_target`) instead of its own.
        `build_streaming_model` sets it and `total_size`.
    sample_weight : array-like (n_obs,), optional
        Each row's weight ≥ 0: its log-likelihood is multiplied by it (2 counts the row twice,
        0 leaves it out), as frequency, survey or importance weights are used. The weights
        are `pm.Data("sample_weight", dims="obs")` in the model and `y` a `pm.CustomDist`
        whose log density is weighted (`likelihood_protocol.observe_rows`), so every engine and
        `model.logp()` see them. The prior is not weighted: weights that sum to more than
        the rows make the data count for more against it.

    Returns
    -------
    BNNModel

    Examples
    --------
    >>> from pymc_bnn import build_model
    >>> from pymc_bnn.datasets import two_moons
    >>> data = two_moons(n_samples=60)
    >>> bnn = build_model(data.X_train, data.y_train, hidden=(8, 8), bias=True)
    >>> bnn.weight_names, bnn.bias_names
    (['w_0', 'w_1', 'w_2'], ['b_0', 'b_1', 'b_2'])
    >>> sorted(bnn.model.named_vars)[:3]
    ['X', 'b_0', 'b_1']
    """
    import pymc as pm

    X_input, groups = grouping_labels.split_group_column(X, groups)
    X = check_features(X_input)
    y = check_target(y, n_obs=X.shape[0])
    sample_weight = check_sample_weight(sample_weight, n_obs=X.shape[0])
    total_size = _check_total_size(total_size, n_obs=X.shape[0])
    likelihood = get_likelihood(likelihood)
    prior = get_prior(prior)
    pooling = grouping.check_pooling(pooling, groups, prior)
    group_record = None
    if pooling is not None:
        group_codes, group_labels = grouping_labels.encode_groups(groups, n_obs=X.shape[0])
        group_record = grouping_labels.group_record(pooling, group_labels, group_codes,
                                                    group_spread)
    if target_record is None:
        y_given = y
        y, preprocessing = likelihood.prepare_target(y_given)
        if sample_weight is not None and {"y_mean", "y_scale"} <= preprocessing.keys():
            # standardised as the rows repeated by their weights would be
            mean, scale = mean_and_scale(np.asarray(y_given, dtype=np.float64),
                                         weights=sample_weight)
            preprocessing = {**preprocessing, "y_mean": float(mean),
                             "y_scale": float(scale) if scale > 0 else 1.0}
            y = encode_target(likelihood, y_given, preprocessing)
    else:
        y, preprocessing = encode_target(likelihood, y, target_record), dict(target_record)
    n_outputs = likelihood.n_outputs(y)
    if spec is None:
        spec = NetworkSpec(
            n_inputs=X.shape[1], hidden=hidden, n_outputs=n_outputs,
            activation=activation, bias=bias, skip=skip,
        )
    elif spec.n_inputs != X.shape[1] or spec.n_outputs != n_outputs:
        raise InvalidSettingError(
            f"the spec expects {spec.n_inputs} inputs and {spec.n_outputs} outputs, but the data "
            f"has {X.shape[1]} features and the {likelihood.name} likelihood needs {n_outputs} "
            "outputs; build the spec from the data or leave spec=None"
        )
    check_spec = getattr(prior, "check_spec", None)
    if check_spec is not None:
        check_spec(spec)
    if feature_names is None:  # a DataFrame's column names, else generated ones
        columns = getattr(X_input, "columns", None)
        feature_names = ([str(c) for c in columns] if columns is not None
                         else [f"x{i}" for i in range(X.shape[1])])
    if isinstance(feature_names, str) or np.ndim(feature_names) != 1 \
            or len(feature_names) != X.shape[1]:
        raise InvalidInputError(
            f"feature_names has {np.size(feature_names)} name(s) but X has {X.shape[1]} "
            f"column(s); pass one name per column, e.g. {[f'x{i}' for i in range(X.shape[1])][:5]}"
        )
    feature_names = tuple(str(f) for f in feature_names)
    repeated = sorted({f for f in feature_names if feature_names.count(f) > 1})
    if repeated:
        raise InvalidInputError(
            f"feature_names repeats {', '.join(repeated)}; give every column its own name")

    coords = {
        "obs": np.arange(X.shape[0]),
        "feature": list(feature_names),
        "output": _output_coords(likelihood, preprocessing, spec.n_outputs),
        **{f"hidden_{i}": np.arange(w) for i, w in enumerate(spec.hidden)},
    }
    if group_record is not None:
        coords[grouping.GROUP_DIM] = group_record["coords"]
    with pm.Model(coords=coords) as model:
        X_data = pm.Data("X", X, dims=("obs", "feature"))
        y_data = pm.Data("y_data", y, dims="obs")
        if pooling is not None and grouping_labels.is_grouped(group_record):
            group_index = pm.Data(grouping.GROUP_INDEX, group_codes, dims="obs")
            weights, biases = grouping.add_group_parameters(
                spec, prior, pooling, group_spread=group_spread)
            eta = grouping.grouped_forward(spec, X_data, group_index, weights, biases,
                                           backend="pytensor")
        else:
            weights, biases = _add_network_parameters(spec, prior)
            eta = forward(spec, X_data, weights, biases, backend="pytensor")
        observe = {} if total_size is None else {"total_size": total_size}
        if sample_weight is not None:
            observe["weight"] = pm.Data(SAMPLE_WEIGHT, sample_weight, dims="obs")
        likelihood_params = _observe(likelihood, eta, y_data, observe)
    record = ModelRecord(spec=spec, likelihood=likelihood, prior=prior,
                         feature_names=feature_names, preprocessing=preprocessing,
                         likelihood_params=tuple(likelihood_params), groups=group_record)
    return BNNModel(record, model=model, output=eta, n_obs=X.shape[0])


def _output_coords(likelihood, preprocessing: dict, n_outputs: int):
    """The "output" dim's coordinate: a categorical likelihood's classes, else 0 … n-1.

    Each of a categorical network's outputs is one class (`preprocessing["classes"]`, in its
    order), so the draws of the last layer are labelled by class as `predict` labels its
    columns. The estimators fit class codes and name the classes afterwards
    (`pymc_bnn.sklearn.classifier`).
    """
    classes = preprocessing.get("classes")
    if isinstance(likelihood, Categorical) and classes is not None and len(classes) == n_outputs:
        return list(classes)
    return np.arange(n_outputs)


def _check_total_size(total_size, *, n_obs: int) -> int | None:
    """`total_size` as an int of at least the `n_obs` rows given, or a clear error."""
    if total_size is None:
        return None
    if isinstance(total_size, bool) or not isinstance(total_size, int | np.integer | float) \
            or total_size != int(total_size) or int(total_size) < n_obs:
        raise InvalidSettingError(
            f"total_size must be the number of rows of the whole data set, of which X, y are "
            f"one minibatch ({n_obs} rows): a whole number of at least {n_obs}, got "
            f"{total_size!r}; leave it out to fit X, y as the whole data")
    return int(total_size)


def _observe(likelihood, eta, y_data, options: dict) -> tuple:
    """`likelihood.observe(eta, y_data, **options)`, or a clear error.

    The error is for a likelihood of the user's own whose `observe` takes no `weight` (the
    protocol before sample weights) when weights are given.
    """
    import inspect

    if "weight" in options and "weight" not in inspect.signature(likelihood.observe).parameters:
        raise InvalidSettingError(
            f"the likelihood {likelihood.name!r} does not take sample weights (its observe() has "
            "no weight argument); add one (pymc_bnn.model.likelihood_protocol.observe_rows "
            "weights any PyMC distribution), or fit without sample_weight")
    return likelihood.observe(eta, y_data, **options)

def build_streaming_model(source: BatchSource, *, batch_size: int = 1024,
                          statistics=None, likelihood: str | Likelihood = "bernoulli",
                          progress: bool = True, **options) -> BNNModel:
    """A `BNNModel` for data streamed in minibatches of `batch_size` rows from `source`.

    The PyMC model is built on the first minibatch with `total_size` = the source's rows (so
    its log-likelihood is scaled as `pm.Minibatch` scales it), and `fit` reads the rest from
    `BNNModel.stream`. A real target is standardised with its mean and sd, a categorical
    likelihood gets its class set. X is used as given: standardise it with `source.map` if
    needed (the estimators do).

    Parameters
    ----------
    source : BatchSource
        The (X, y) batches (`pymc_bnn.data.as_source`).
    batch_size : int
        Rows per step.
    statistics : StreamStatistics, optional
        Of `source` (None: one pass here).
    likelihood : str or Likelihood
    progress : bool, default True
        Show the rows read by that pass (a folder of Parquet files takes a while), as `fit`
        shows its steps; nothing is shown when `statistics` is given.
    **options
        The other arguments of `build_model` (grouped networks do not stream yet).

    Returns
    -------
    BNNModel
        With `stream` set.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.data import as_source
    >>> from pymc_bnn.model.build import build_streaming_model
    >>> rng = np.random.default_rng(0)
    >>> batches = [(rng.normal(size=(50, 2)), rng.integers(0, 2, size=50)) for _ in range(4)]
    >>> bnn = build_streaming_model(as_source(batches), batch_size=40, hidden=(3,),
    ...                             progress=False)
    >>> bnn.n_obs, bnn.stream is not None  # built on the first 40 of 200 rows
    (40, True)
    """
    if "groups" in options or "pooling" in options:
        raise InvalidSettingError("grouped networks cannot be fitted to streamed data yet; "
                                  "load the data into memory to fit groups")
    likelihood = get_likelihood(likelihood)
    stats = statistics or stream_statistics(source, labels=bool(likelihood.is_classifier),
                                            progress=progress)
    record = None
    if isinstance(likelihood, Categorical) and likelihood.classes is None:
        likelihood = Categorical(classes=tuple(np.asarray(stats.classes).tolist()))
    if not likelihood.is_classifier:
        if stats.y_mean is None or stats.y_sd is None:
            raise InvalidInputError(f"the target of {source.name} is not numeric; a "
                                    f"{likelihood.name} likelihood needs numbers")
        record = {"y_mean": stats.y_mean, "y_scale": stats.y_sd if stats.y_sd > 0 else 1.0}
    elif stats.classes is not None:
        # the classes of the whole stream (checked there), not of the first minibatch, which
        # holds a single class where the rows are sorted by label
        record = likelihood.prepare_target(np.asarray(stats.classes))[1]
    batch_size = min(int(batch_size), stats.n_rows)
    X_first, y_first = next(fixed_batches(source, batch_size))
    options.setdefault("feature_names", source.feature_names)
    bnn = build_model(X_first, y_first, likelihood=likelihood, total_size=stats.n_rows,
                      target_record=record, **options)
    preprocessing = bnn.preprocessing
    encoded = source.map(lambda X, y: (X, encode_target(likelihood, y, preprocessing)))
    return replace(bnn, stream=encoded)


def _add_network_parameters(spec: NetworkSpec, prior: Prior) -> tuple[list, list | None]:
    """Create the weights and biases of every layer from the prior.

    Weights (fan_in, fan_out) in `spec.weight_names` order and, with biases, the bias vector of
    every layer (created layer by layer, w_i then b_i, the skip path last). The prior sees the skip
    path's weights as layer 0, since their rows are the input features too (ARD shares its feature
    relevances between the two, a horseshoe gives each its own local scales).
    """
    weights, biases = [], []
    for slot in spec.weight_slots:
        weights.append(prior.weight(slot.name, shape=slot.shape, dims=slot.dims,
                                    layer=slot.prior_layer))
        if spec.bias and slot.name != SKIP_WEIGHT:
            layer = slot.prior_layer
            biases.append(prior.bias(bias_name(layer), shape=(slot.shape[1],),
                                     dims=(slot.dims[1],), layer=layer))
    return weights, (biases if spec.bias else None)
