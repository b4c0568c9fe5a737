"""A PyMC model's own log-density as JAX functions of one flat unconstrained vector and the data.

Any `pm.Model` works (also one a user extended): the joint log-density comes from `model.logp()`
split into the prior part (free variables, Jacobians, potentials) and the likelihood part
(observed variables), converted to JAX with PyMC's `get_jaxified_graph`. The model's `pm.Data`
containers become *arguments* of the JAX functions rather than constants baked into them, so a
refit on new data of the same shapes reuses the compiled code: `compile_model` keys a cache on
the model's structure (its printed graph and the bytes of its constants), not on the data, and
looks it up before building the log-density graphs, so a refit of the same model costs no
graph work (the keys: `model_fingerprint`).

Dimension lengths (`obs`, `hidden_0`, ...) must be static for XLA, so they are baked in; with
minibatches the observation dimension is baked in at the batch size. Without minibatches the rows
are padded to one of a few sizes (`padded_rows`: at most 1.5 times the rows, e.g. 129–192 rows
become 192) and each row's log-likelihood is weighted by a data argument `ROW_WEIGHT` (1 for a
real row, 0 for a copy added as padding), so data sets of nearby sizes (cross-validation folds,
active-learning rounds, subsamples) share every compiled program instead of compiling their own.
This holds for models whose rows enter only through data containers on the observation dim
(every model `build_model` makes); any other model is compiled for its exact row count. The
padding is `row_padding`'s; the draws as the model's variables and as a DataTree,
`compiled_draws`'s.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pymc_bnn._runtime.lru import lru_get, lru_peek
from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import model_fingerprint
from pymc_bnn.inference.row_padding import (  # noqa: F401 (re-exports)
    ROW_WEIGHT,
    pad_rows,
    padded_rows,
    row_arguments,
    rows_weightable,
    zero_padding,
)

__getattr__ = moved_names(__name__, {"constrained_draws": "pymc_bnn.inference.compiled_draws",
                                     "to_idata": "pymc_bnn.inference.compiled_draws"})

# Compiled models, per structure, most recently used last, bounded (`_runtime.lru`).
_CACHE: OrderedDict[str, CompiledModel] = OrderedDict()
# tanh over layers narrower than this is compiled as 2·sigmoid(2x) − 1
# (see _narrow_tanh_as_logistic)
_NARROW = 8
# False compiles every model for its exact row count (as before padding; `benchmarks/
# row_padding.py` compares the two). The compiled models' cache keys include the row count,
# so the two never share an entry.
PAD_ROWS = True


@dataclass(frozen=True)
class CompiledModel:
    """JAX functions of a model's log-density on its unconstrained space.

    `prior_logp(z, data)` and `loglik(z, data)`: scalars (nats), z a flat vector (D,) of every
    value variable concatenated in `value_names` order, data a tuple ordered as `data_names`
    (batched rows for `loglik` when built with a batch size). `constrained(z, data)`: tuple of
    arrays, one per `output_names` (free variables on their own scale, then Deterministics).
    Made by `compile_model`.

    Attributes
    ----------
    key : str
        The structure fingerprint the compiled functions are cached under.
    value_names, value_shapes : tuple
        The value variables and their shapes, in the order of z.
    data_names, batched : tuple
        The model's data containers, and whether each has one row per observation.
    n_obs : int
        Length of the model's observation dim (its rows; a streamed model is built on one
        minibatch, so there it is the batch size). `batch_size` does not change it.
    n_rows : int
        Rows the compiled functions take: `padded_rows(n_obs)` where the rows are padded,
        the batch size with minibatches, else `n_obs`.
    output_names, output_dims, coords
        What `constrained` returns, with the dims and coordinates of each.
    initial_point : numpy.ndarray
        `(D,)` the model's own initial point.
    discrete_observed : bool
        Every observed variable takes whole numbers (Bernoulli, categorical, counts): each
        row's probability is at most 1, so `loglik` is never above 0.

    Examples
    --------
    >>> import numpy as np
    >>> compiled = compile_model(tiny_model.model)
    >>> compiled.value_names, compiled.value_shapes, compiled.size
    (('w_0', 'w_1'), ((2, 3), (3, 1)), 9)
    >>> data = data_arguments(compiled, tiny_model.model)
    >>> z = np.zeros(compiled.size)  # every weight 0: P(y = 1) = 1/2 for all 42 rows
    >>> bool(np.isclose(compiled.loglik(z, data), 42 * np.log(0.5)))
    True
    >>> compiled.unravel(np.arange(9.0))[1].ravel()
    array([6., 7., 8.])
    >>> compiled.discrete_observed  # a Bernoulli likelihood
    True
    """

    key: str
    value_names: tuple[str, ...]
    value_shapes: tuple[tuple[int, ...], ...]
    data_names: tuple[str, ...]
    batched: tuple[bool, ...]  # per data argument: does it have one row per observation?
    n_obs: int
    n_rows: int
    output_names: tuple[str, ...]
    output_dims: dict
    coords: dict
    initial_point: np.ndarray = field(repr=False)  # flat (D,): the model's own initial point
    prior_logp: Callable = field(repr=False)
    loglik: Callable = field(repr=False)
    constrained: Callable = field(repr=False)
    discrete_observed: bool = False

    @property
    def weighted(self) -> bool:
        """Whether each row's log-likelihood is weighted by the `ROW_WEIGHT` data argument."""
        return ROW_WEIGHT in self.data_names

    @property
    def size(self) -> int:
        """Length of the flat parameter vector: the free variables' sizes summed."""
        return int(sum(int(np.prod(s)) for s in self.value_shapes))

    def unravel(self, z) -> list:
        """Flat ``(..., D)`` → list of arrays ``(..., *shape)``, one per value variable."""
        out, start = [], 0
        for shape in self.value_shapes:
            n = int(np.prod(shape))
            out.append(z[..., start:start + n].reshape(*z.shape[:-1], *shape))
            start += n
        return out

    def ravel(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """The flat float64 vector `(size,)` of `values` (name → array), in `value_names` order."""
        return np.concatenate([np.asarray(values[n], dtype=np.float64).reshape(-1)
                               for n in self.value_names])


def model_data(model) -> dict[str, np.ndarray]:
    """Current values of the model's `pm.Data` containers, by name.

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    dict
        Name → numpy array.

    Examples
    --------
    >>> {name: value.shape for name, value in model_data(tiny_model.model).items()}
    {'X': (42, 2), 'y_data': (42,)}
    """
    return {v.name: np.asarray(v.get_value(borrow=True)) for v in model.data_vars}


def observation_dim(model) -> str | None:
    """The dim name of the observed variables' first axis (e.g. "obs"), if they have dims.

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    str or None
        None when the observed variables have no dims, or different ones.

    Examples
    --------
    >>> observation_dim(tiny_model.model)
    'obs'
    """
    names = {model.named_vars_to_dims.get(rv.name, (None,))[0] for rv in model.observed_RVs}
    names.discard(None)
    return names.pop() if len(names) == 1 else None


def compile_model(model, batch_size: int | None = None, *, pad: bool = True) -> CompiledModel:
    """The cached `CompiledModel` of `model`; `batch_size` bakes in minibatches of that size.

    Models of the same structure (the same graph and constants, data of the same shapes) share
    one entry, so a refit on new data reuses the compiled code. Without `batch_size` the rows
    are padded to `padded_rows(n_obs)` where the model allows it (see the module's notes), so
    data of nearby sizes share it too; `data_arguments` pads the data to match.

    Parameters
    ----------
    model : pymc.Model
        Any PyMC model (also one a user extended).
    batch_size : int, optional
        Rows per minibatch of the observation dim; needs observed variables with dims.
    pad : bool, default True
        Pad the rows (without `batch_size`); False compiles for exactly `n_obs` rows, for a
        caller that passes rows of its own rather than `data_arguments`.

    Returns
    -------
    CompiledModel

    Raises
    ------
    InvalidSettingError
        `batch_size` for a model whose observed variables have no dims.

    Examples
    --------
    >>> compiled = compile_model(tiny_model.model)
    >>> compiled.data_names, compiled.n_obs, compiled.n_rows  # 42 rows padded to 48
    (('X', 'y_data', '_row_weight'), 42, 48)
    >>> compile_model(tiny_model.model).key == compiled.key  # the cached entry, reused
    True
    """
    import pytensor.tensor as pt
    from pytensor.tensor.math import variadic_add

    from pymc_bnn._runtime.jax_setup import use_compilation_cache

    use_compilation_cache()
    from pytensor.graph.replace import clone_replace

    obs_dim = observation_dim(model)
    data = model_data(model)
    n_obs = _dim_length(model.dim_lengths[obs_dim]) if obs_dim else 0
    if batch_size is not None and obs_dim is None:
        raise InvalidSettingError(
            "minibatches need observed variables with a named observation dim (dims='obs'); "
            "give the observed variable dims or drop minibatch_size"
        )
    weighted = rows_weightable(model, obs_dim, n_obs, data)
    n_rows = (int(batch_size) if batch_size else
              padded_rows(n_obs) if (weighted and pad and PAD_ROWS) else n_obs)
    data_names = tuple(data) + ((ROW_WEIGHT,) if weighted else ())
    batched = tuple(bool(obs_dim) and model.named_vars_to_dims.get(n, (None,))[0] == obs_dim
                    for n in data) + ((True,) if weighted else ())
    data_inputs = [v.type(name=v.name) for v in model.data_vars]
    row_weight = pt.dvector(ROW_WEIGHT)
    replace = dict(zip(model.data_vars, data_inputs, strict=False))
    for dim, length in model.dim_lengths.items():
        if length in replace or length.owner is not None:
            continue
        value = n_rows if (obs_dim and dim == obs_dim) else length.get_value()
        replace[length] = pt.constant(np.asarray(value, dtype=length.dtype))

    start = model.initial_point()
    flat_start = np.concatenate([np.zeros(0)] + [  # no free variables: an empty vector
        np.asarray(start[v.name], dtype=np.float64).reshape(-1) for v in model.value_vars])
    # The model's own graph decides its log-density: look it up before building the logp graphs
    # (most of the cost of a cache hit). None: a transform we cannot fingerprint.
    shape = (batch_size, n_rows, weighted)
    model_key = model_fingerprint.model_key(model, replace, start, shape)
    coords = {k: np.asarray(v) for k, v in model.coords.items() if v is not None}
    if model_key is not None and (
            hit := _cached(model_key, flat_start, coords, n_obs)) is not None:
        return hit

    free_and_det = model.free_RVs + model.deterministics
    # One call for the priors' and the observations' terms: PyMC rewrites the whole model's
    # graph into its log-probability form once per call, most of a new structure's cost here.
    terms = model.logp(vars=model.free_RVs + model.observed_RVs, sum=False)
    prior_factors, observed_factors = terms[:len(model.free_RVs)], terms[len(model.free_RVs):]
    # (a potential's graph holds the random variables: their values go in, as in logp())
    prior_terms = variadic_add(*(pt.sum(term) for term in prior_factors)) + sum(
        (pt.sum(p) for p in model.replace_rvs_by_values(model.potentials)),
        start=pt.constant(0.0))
    if weighted:  # each row's terms, weighted (every observed variable has the rows first)
        loglik_terms = sum(
            (pt.sum(row_weight * (term if term.ndim == 1 else
                                  pt.sum(term, axis=tuple(range(1, term.ndim)))))
             for term in observed_factors),
            start=pt.constant(0.0))
    else:
        loglik_terms = variadic_add(*(pt.sum(term) for term in observed_factors))
    graphs = [prior_terms, loglik_terms, *model.replace_rvs_by_values(free_and_det)]
    graphs = clone_replace(graphs, replace=replace)
    inputs = [*model.value_vars, *data_inputs, *([row_weight] if weighted else [])]
    key = model_key
    if key is None:  # the fallback key is read off the logp graphs themselves
        key = model_fingerprint.structure_key(graphs, model, start, shape)
        if (hit := _cached(key, flat_start, coords, n_obs)) is not None:
            return hit

    from pymc_bnn._runtime.jax_setup import import_jax, xla_flags_kept

    with xla_flags_kept():  # PyMC's module sets 100 CPU devices for the whole process
        from pymc.sampling.jax import get_jaxified_graph

    # (layer widths are part of the structure, so this comes after the cache lookup)
    if batch_size:  # one minibatch's rows
        rows = row_arguments(tuple(np.asarray(v)[:n_rows] if b else v
                                   for v, b in zip(data.values(), batched, strict=False)),
                             batched, n_rows, n_rows, weighted)
    else:
        rows = row_arguments(tuple(data.values()), batched, n_obs, n_rows, weighted)
    graphs = _narrow_tanh_as_logistic(graphs, inputs,
                                      [start[v.name] for v in model.value_vars] + list(rows))

    # One rewrite pass for all outputs; under jit, XLA drops the outputs a caller ignores.
    # Jitted once here, so JAX traces the graph once per argument shapes and every program
    # built on it (the MAP's steps, the output layer's curvature and evidence, ...) reuses that
    # trace instead of tracing the whole graph again.
    all_fn = import_jax().jit(get_jaxified_graph(inputs=inputs, outputs=graphs))

    # `compiled` is bound below, before any of these is called
    def prior_logp(z, d):
        return all_fn(*compiled.unravel(z), *d)[0]

    def loglik(z, d):
        return all_fn(*compiled.unravel(z), *d)[1]

    def constrained(z, d):
        return tuple(all_fn(*compiled.unravel(z), *d)[2:])

    shapes = tuple(tuple(np.shape(start[v.name])) for v in model.value_vars)
    compiled = CompiledModel(
        key=key,
        value_names=tuple(v.name for v in model.value_vars),
        value_shapes=shapes,
        data_names=data_names,
        batched=batched,
        n_obs=n_obs,
        n_rows=n_rows,
        output_names=tuple(v.name for v in free_and_det),
        output_dims={n: tuple(d) for n, d in model.named_vars_to_dims.items()
                     if n in {v.name for v in free_and_det}},
        coords=coords,
        initial_point=flat_start,
        prior_logp=prior_logp, loglik=loglik, constrained=constrained,
        discrete_observed=all(str(v.dtype).startswith(("int", "uint", "bool"))
                              for v in model.observed_RVs),
    )
    lru_get(_CACHE, key, lambda: compiled)
    return compiled

def _narrow_tanh_as_logistic(graphs: list, inputs: list, values: list) -> list:
    """The graphs with each tanh(x) over fewer than `_NARROW` columns written 2·sigmoid(2x) − 1.

    The same function to float64 rounding (absolute error < 1e-16), but XLA's float64 CPU code
    for a whole ADVI step (forward and gradient) is much slower with tanh over narrow layers.
    Measured in steps/s, tanh → logistic form, 700 rows: width 3 +46%, 5 +49% (the seed model),
    6 +38%, 7 +24%; width 8 −29%, 10 −13%, 12 −6%, 24 and 32 −15%. So only layers narrower than
    8 are rewritten; widths are read by evaluating the shape graph at `values` (the model's
    start). The user's PyMC model keeps its tanh; only the JAX functions compiled here change.
    """
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.rewriting.basic import in2out, node_rewriter
    from pytensor.graph.rewriting.utils import rewrite_graph
    from pytensor.graph.traversal import ancestors
    from pytensor.scalar.basic import Tanh
    from pytensor.tensor.elemwise import Elemwise
    from pytensor.tensor.variable import TensorVariable

    tanh_nodes = [v.owner for v in ancestors(graphs)
                  if v.owner is not None and isinstance(v.owner.op, Elemwise)
                  and isinstance(v.owner.op.scalar_op, Tanh)
                  and isinstance(v, TensorVariable) and v.ndim > 0]
    if not tanh_nodes:
        return graphs
    widths = pytensor.function(inputs, [n.inputs[0].shape[-1] for n in tanh_nodes],
                               mode="FAST_COMPILE", on_unused_input="ignore")(*values)
    narrow = {n for n, width in zip(tanh_nodes, widths, strict=False) if int(width) < _NARROW}
    if not narrow:
        return graphs

    @node_rewriter([Elemwise])
    def tanh_as_logistic(fgraph, node):
        if node in narrow:
            return [2.0 * pt.sigmoid(2.0 * node.inputs[0]) - 1.0]
        return None

    # rewrite_graph is typed to return Variable | Sequence | FunctionGraph (no overloads); given
    # a list of outputs it returns their list
    return list(rewrite_graph(graphs, include=(),  # type: ignore[arg-type]
                              custom_rewrite=in2out(tanh_as_logistic)))


def _dim_length(length) -> int:
    """A dim's length, read directly when it is a shared variable.

    `.eval()` would compile a function in PyTensor's default Numba mode, which takes a
    noticeable fraction of a second the first time, for one integer.
    """
    if hasattr(length, "get_value"):
        return int(length.get_value())
    return int(length.eval(mode="FAST_COMPILE"))


def _cached(key: str, initial_point: np.ndarray, coords: dict,
            n_obs: int) -> CompiledModel | None:
    """The compiled model kept under `key`, with this model's start, coords and rows (or None).

    The coords (feature names, group and class labels) are not part of the structure: a model
    of the same structure with other names reuses the compiled functions but labels its draws
    with its own names; so is the number of real rows where they are padded. A hit becomes the
    most recently used entry.
    """
    compiled = lru_peek(_CACHE, key)
    if compiled is None:
        return None
    return dataclasses.replace(compiled, initial_point=initial_point, coords=coords,
                               n_obs=n_obs)


def data_arguments(compiled: CompiledModel, model) -> tuple:
    """The model's current data as the argument tuple the compiled functions take.

    Parameters
    ----------
    compiled : CompiledModel
        From `compile_model(model)`.
    model : pymc.Model
        The model whose data are read.

    Returns
    -------
    tuple of numpy.ndarray
        In `compiled.data_names` order: per-row data padded to `compiled.n_rows` rows by
        copies of the last row, then the rows' weights (`ROW_WEIGHT`; 0 for the copies) where
        the model weights them.

    Examples
    --------
    >>> import numpy as np
    >>> compiled = compile_model(tiny_model.model)
    >>> X, y, weight = data_arguments(compiled, tiny_model.model)  # 42 rows padded to 48
    >>> X.shape, y.shape, float(weight.sum()), bool(np.all(X[42:] == X[41]))
    ((48, 2), (48,), 42.0, True)
    """
    data = model_data(model)
    n_obs = compiled.n_obs
    if any(compiled.batched):  # the rows this model holds now
        first = next(n for n, b in zip(compiled.data_names, compiled.batched, strict=True) if b)
        n_obs = int(np.shape(data[first])[0])
    # a model compiled for minibatches takes every row, for the batches to be drawn from
    return row_arguments(tuple(data[name] for name in compiled.data_names if name != ROW_WEIGHT),
                         compiled.batched, n_obs, max(compiled.n_rows, n_obs), compiled.weighted)
