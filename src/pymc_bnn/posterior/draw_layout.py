"""How a compiled pass arranges the draws of the weights.

Draws first, draws last, or the hidden layers once per block of draws that share them.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.model.batched_forward import (
    forward_draws_last,
    forward_over_draws,
    forward_shared_hidden,
    uses_draws_last,
)
from pymc_bnn.model.network import NetworkSpec, split_skip_weights


def arranged_draws(spec: NetworkSpec, weights: list, biases: list | None, *,
                   draws_last: bool = True) -> tuple[str, list, list | None]:
    """The layout a fused pass evaluates these draws in, and the draws arranged for it.

    - "shared_hidden": the hidden layers are one set per block of consecutive draws (a
      last-layer Laplace fit, one block per restart or ensemble member; `shared_blocks`): the
      hidden layers are evaluated once per block (`forward_shared_hidden`);
    - "draws_last": a small network (`uses_draws_last`), unless `draws_last` is False;
    - "draws_first": the rest (`forward_over_draws`).

    Parameters
    ----------
    spec : NetworkSpec
    weights, biases : lists of numpy.ndarray
        Draws of each layer, (S, fan_in, fan_out) and (S, fan_out).
    draws_last : bool, default True
        Whether the caller's pass can take the draws-last layout.

    Returns
    -------
    (layout, weights, biases)

    Examples
    --------
    >>> weights, biases = fitted.parameter_draws()  # an ADVI fit: every draw its own
    >>> arranged_draws(fitted.spec, weights, biases)[0]
    'draws_last'
    >>> one_hidden = [np.repeat(weights[0][:1], 50, axis=0), weights[1]]
    >>> layout, arranged, _ = arranged_draws(fitted.spec, one_hidden, None)
    >>> layout, arranged[0].shape, arranged[1].shape  # one block of 50 draws
    ('shared_hidden', (1, 2, 3), (1, 50, 3, 1))
    """
    blocks = shared_blocks(spec, weights, biases)
    if blocks is not None:
        n_hidden = len(spec.hidden)
        layers, skip = split_skip_weights(spec, weights)

        def by_block(a):
            a = np.asarray(a)
            return a.reshape(blocks, a.shape[0] // blocks, *a.shape[1:])

        per_block = slice(None, None, layers[0].shape[0] // blocks)
        arranged = [np.asarray(w)[per_block] for w in layers[:n_hidden]]
        arranged += [by_block(layers[-1]), *([] if skip is None else [by_block(skip)])]
        arranged_biases = None if biases is None else (
            [np.asarray(b)[per_block] for b in biases[:n_hidden]] + [by_block(biases[-1])])
        return "shared_hidden", arranged, arranged_biases
    if draws_last and uses_draws_last(spec):
        return ("draws_last", *to_draws_last(weights, biases))
    return "draws_first", weights, biases


def shared_blocks(spec: NetworkSpec, weights: list, biases: list | None) -> int | None:
    """How many equal blocks of consecutive draws share their hidden layers, or None.

    None where there are no hidden layers, where the hidden layers change from draw to draw
    (ADVI, NUTS) or where the blocks are of unequal lengths (a thinned posterior).

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=1, hidden=(2,))
    >>> hidden = np.repeat(np.arange(2.0).reshape(2, 1, 1) * np.ones((1, 1, 2)), 4, axis=0)
    >>> shared_blocks(spec, [hidden, np.zeros((8, 2, 1))], None)  # 2 blocks of 4 draws
    2
    >>> shared_blocks(spec, [np.random.default_rng(0).normal(size=(8, 1, 2)),
    ...                      np.zeros((8, 2, 1))], None) is None
    True
    """
    n_hidden = len(spec.hidden)
    if not n_hidden:
        return None
    layers, _ = split_skip_weights(spec, weights)
    hidden = [*layers[:n_hidden], *([] if biases is None else biases[:n_hidden])]
    n_draws = layers[0].shape[0]
    if n_draws < 2:
        return None
    changes = np.zeros(n_draws - 1, dtype=bool)
    for a in hidden:
        flat = np.asarray(a).reshape(n_draws, -1)
        changes |= np.any(flat[1:] != flat[:-1], axis=1)
    starts = np.flatnonzero(changes) + 1
    blocks = starts.size + 1
    if n_draws % blocks or n_draws // blocks < 2:
        return None
    if not np.array_equal(starts, np.arange(1, blocks) * (n_draws // blocks)):
        return None
    return blocks


def forward_in_layout(spec: NetworkSpec, layout: str, X, weights, biases):
    """(eta, draws axis) of draws arranged by `arranged_draws`, traced in a jitted pass.

    Examples
    --------
    >>> weights, biases = fitted.parameter_draws()
    >>> eta, axis = forward_in_layout(fitted.spec, "draws_first", tiny_data.X_test, weights,
    ...                               biases)
    >>> eta.shape, axis
    ((50, 18, 1), 0)
    """
    if layout == "draws_last":
        return forward_draws_last(spec, X, weights, biases), 1  # (n, S, out)
    if layout == "shared_hidden":
        return forward_shared_hidden(spec, X, weights, biases), 0
    return forward_over_draws(spec, X, weights, biases), 0


def row_floats(spec: NetworkSpec, layout: str, weights: list) -> int:
    """Floats a fused pass holds per row of X, for `chunk_rows`.

    Examples
    --------
    >>> weights, biases = fitted.parameter_draws()  # 50 draws of a 2→3→1 network
    >>> row_floats(fitted.spec, "draws_first", weights)  # draws × the widest layer
    150
    """
    widest = max(spec.widths)
    if layout == "shared_hidden":
        blocks, per_block = weights[spec.n_layers - 1].shape[:2]
        # the hidden layers once per block; every draw's outputs (and the work on them)
        return blocks * widest + 8 * blocks * per_block * max(2, spec.n_outputs)
    return weights[0].shape[-1 if layout == "draws_last" else 0] * widest


def to_draws_last(weights, biases):
    """Weights (S, fan_in, fan_out) -> (fan_in, fan_out, S), biases (S, fan_out) -> (fan_out, S).

    Transposed here, in NumPy, because inside the jitted function it is 5x slower.

    Parameters
    ----------
    weights : list of numpy.ndarray
    biases : list of numpy.ndarray or None

    Returns
    -------
    weights, biases

    Examples
    --------
    >>> weights, biases = to_draws_last([np.zeros((50, 2, 3))], [np.zeros((50, 3))])
    >>> weights[0].shape, biases[0].shape
    ((2, 3, 50), (3, 50))
    """
    return ([np.moveaxis(w, 0, -1) for w in weights],
            None if biases is None else [np.moveaxis(b, 0, -1) for b in biases])
