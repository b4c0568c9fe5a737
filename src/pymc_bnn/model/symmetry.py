"""Hidden-unit symmetries: align posterior draws of a network to one labelling of its units.

A fully connected network computes the same function when the units of a hidden layer are
permuted together with their incoming weights, bias and outgoing weights, and, for an odd
activation (tanh, identity: act(-z) = -act(z)), when one unit's incoming weights, bias and
outgoing weights all change sign. Draws, chains and ensemble members label the same unit
differently, so summaries of raw weights (mean, sd, R-hat) mix different units. `align_draws`
undoes these symmetries before anything is summarised; see `pymc_bnn.posterior.stability` for the
summaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.model.network import NetworkSpec, split_skip_weights

# act(-z) = -act(z). Sigmoid has the symmetry sigmoid(-z) = 1 - sigmoid(z), which also moves
# the next layer's bias, and relu, gelu and softplus have none: those get permutations only.
ODD_ACTIVATIONS = ("tanh", "identity")


@dataclass(frozen=True)
class Alignment:
    """Draws with their hidden units relabelled to a common reference.

    The network function of every draw is unchanged.

    Attributes
    ----------
    weights : list of numpy.ndarray
        `(S, fan_in, fan_out)` per matrix in `spec.weight_names` order (w_skip, untouched,
        last).
    biases : list of numpy.ndarray or None
        `(S, fan_out)` per layer.
    permutations : list of numpy.ndarray
        `permutations[l]`: `(S, H_l)` integers; aligned unit k of hidden layer l is unit
        `permutations[l][s, k]` of draw s.
    signs : list of numpy.ndarray
        `signs[l]`: `(S, H_l)` of ±1 (all +1 unless the activation is odd).
    iterations : int
        Passes made.
    reference_draw : int
        The draw that fixed the labelling in the first pass.

    Examples
    --------
    See `align_draws`, which returns one.

    Two draws of one network whose hidden units are listed in different orders, the first
    unit's signs flipped:

    >>> import numpy as np
    >>> from pymc_bnn.model.network import NetworkSpec, forward
    >>> rng = np.random.default_rng(0)
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1)
    >>> w_0, w_1 = rng.normal(size=(2, 3)), rng.normal(size=(3, 1))
    >>> order, sign = [2, 0, 1], np.array([-1.0, 1.0, 1.0])
    >>> weights = [np.stack([w_0, w_0[:, order] * sign]),
    ...            np.stack([w_1, w_1[order] * sign[:, None]])]
    >>> X = rng.normal(size=(5, 2))
    >>> bool(np.allclose(forward(spec, X, [w[0] for w in weights]),
    ...                  forward(spec, X, [w[1] for w in weights])))  # the same function
    True
    >>> aligned = align_draws(spec, weights)
    >>> aligned.iterations, aligned.reference_draw, len(aligned.permutations)
    (3, 0, 1)
    """

    weights: list
    biases: list | None
    permutations: list
    signs: list
    iterations: int
    reference_draw: int


def align_draws(spec: NetworkSpec, weights, biases=None, *, reference: int = 0,
                iterations: int = 3) -> Alignment:
    """Relabel the hidden units of every draw to match a common reference.

    Layer by layer from the input side, each draw's units are matched to the reference's by
    their incoming weights, bias and outgoing weights (each block scaled to unit RMS in the
    reference so neither dominates), with `scipy.optimize.linear_sum_assignment` on squared
    distances; for odd activations a unit may also match the reference's unit with the sign
    flipped. The permutation (and sign) is applied to the unit's incoming weights, bias and
    outgoing weights, so every draw's predictions stay exactly the same.

    The first pass matches on incoming weights and bias only (outgoing weights still point at
    the next layer's unaligned units), to draw `reference`; later passes match on all three, to
    the mean of the aligned draws, the next layer's units mapped by the previous pass.

    Parameters
    ----------
    spec : NetworkSpec
    weights : list of numpy.ndarray
        `(S, fan_in, fan_out)` per matrix, in `spec.weight_names` order.
    biases : list of numpy.ndarray, optional
        `(S, fan_out)`, one per layer.
    reference : int, default 0
        The draw that fixes the labelling in the first pass.
    iterations : int, default 3
        Passes in all (at least 1); 3 is enough for the exact copies and the NUTS chains of the
        seed model in tests/posterior/test_stability.py.

    Returns
    -------
    Alignment

    Raises
    ------
    InvalidInputError
        Weights or biases of the wrong shapes.
    InvalidSettingError
        A bad `reference` or `iterations`.

    Examples
    --------
    Two draws of one network whose hidden units are listed in different orders, the first
    unit's signs flipped:

    >>> import numpy as np
    >>> from pymc_bnn.model.network import NetworkSpec, forward
    >>> rng = np.random.default_rng(0)
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1)
    >>> w_0, w_1 = rng.normal(size=(2, 3)), rng.normal(size=(3, 1))
    >>> order, sign = [2, 0, 1], np.array([-1.0, 1.0, 1.0])
    >>> weights = [np.stack([w_0, w_0[:, order] * sign]),
    ...            np.stack([w_1, w_1[order] * sign[:, None]])]
    >>> X = rng.normal(size=(5, 2))
    >>> bool(np.allclose(forward(spec, X, [w[0] for w in weights]),
    ...                  forward(spec, X, [w[1] for w in weights])))  # the same function
    True
    >>> aligned = align_draws(spec, weights)
    >>> aligned.permutations[0][1], aligned.signs[0][1]
    (array([1, 2, 0]), array([ 1.,  1., -1.]))
    >>> bool(np.allclose(aligned.weights[0][0], aligned.weights[0][1]))  # now the same draw
    True
    """
    from scipy.optimize import linear_sum_assignment

    layers, skip = split_skip_weights(spec, [np.asarray(w, dtype=np.float64) for w in weights])
    biases = None if biases is None else [np.asarray(b, dtype=np.float64) for b in biases]
    n_draws = _check_shapes(spec, layers, skip, biases)
    if not 0 <= int(reference) < n_draws:
        raise InvalidSettingError(
            f"reference must be a draw index below {n_draws}, got {reference}")
    if int(iterations) < 1:
        raise InvalidSettingError(f"iterations must be at least 1, got {iterations}")
    odd = spec.activation in ODD_ACTIVATIONS
    n_hidden = len(spec.hidden)
    ref_layers = [w[reference] for w in layers]
    ref_biases = None if biases is None else [b[reference] for b in biases]
    perms = [np.tile(np.arange(h), (n_draws, 1)) for h in spec.hidden]
    signs = [np.ones((n_draws, h)) for h in spec.hidden]
    for iteration in range(int(iterations)):
        first = iteration == 0
        aligned_w, aligned_b = [w.copy() for w in layers], (
            None if biases is None else [b.copy() for b in biases])
        new_perms, new_signs = [], []
        for layer in range(n_hidden):
            # the next layer's units as the previous pass labelled them (output units are fixed)
            next_map = None if layer + 1 == n_hidden else (perms[layer + 1], signs[layer + 1])
            use_outgoing = not first or next_map is None
            draw_units, blocks = _unit_features(aligned_w, aligned_b, layer, next_map,
                                                use_outgoing)
            ref_units = _unit_features(
                [w[None] for w in ref_layers],
                None if ref_biases is None else [b[None] for b in ref_biases],
                layer, None, use_outgoing)[0][0]
            scale = _block_scales(ref_units, blocks)
            draw_units, ref_units = draw_units / scale, ref_units / scale
            dots = np.einsum("sjf,kf->sjk", draw_units, ref_units)
            norms = (draw_units ** 2).sum(-1)[:, :, None] + (ref_units ** 2).sum(-1)[None, None]
            cost = norms - 2 * (np.abs(dots) if odd else dots)
            perm = np.empty((n_draws, spec.hidden[layer]), dtype=np.int64)
            for s in range(n_draws):
                rows, cols = linear_sum_assignment(cost[s])
                perm[s, cols] = rows
            sign = (np.where(np.take_along_axis(dots, perm[:, None, :], axis=1)[:, 0] < 0,
                             -1.0, 1.0) if odd else np.ones(perm.shape))
            # dots[s, perm[s, k], k]: take_along_axis over the draw-unit axis picks it per k
            _relabel(aligned_w, aligned_b, layer, perm, sign)
            new_perms.append(perm)
            new_signs.append(sign)
        perms, signs = new_perms, new_signs
        ref_layers = [w.mean(axis=0) for w in aligned_w]
        ref_biases = None if aligned_b is None else [b.mean(axis=0) for b in aligned_b]
    out_weights = aligned_w + ([skip] if skip is not None else [])
    return Alignment(out_weights, aligned_b, perms, signs, int(iterations), int(reference))


def relabel_units(spec: NetworkSpec, weights, biases, permutations, signs):
    """Apply per-draw unit permutations and signs (as in `Alignment`) to other draws.

    The other draws are of the same network: e.g. a grouped fit's group weights, whose units
    share the population's labels.

    Parameters
    ----------
    spec : NetworkSpec
    weights : list of numpy.ndarray
        `(S, fan_in, fan_out)` per matrix, in `spec.weight_names` order.
    biases : list of numpy.ndarray or None
        `(S, fan_out)`, one per layer.
    permutations, signs : list of numpy.ndarray
        From an `Alignment`.

    Returns
    -------
    weights : list of numpy.ndarray
    biases : list of numpy.ndarray or None

    Examples
    --------
    Two draws of one network whose hidden units are listed in different orders, the first
    unit's signs flipped:

    >>> import numpy as np
    >>> from pymc_bnn.model.network import NetworkSpec, forward
    >>> rng = np.random.default_rng(0)
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1)
    >>> w_0, w_1 = rng.normal(size=(2, 3)), rng.normal(size=(3, 1))
    >>> order, sign = [2, 0, 1], np.array([-1.0, 1.0, 1.0])
    >>> weights = [np.stack([w_0, w_0[:, order] * sign]),
    ...            np.stack([w_1, w_1[order] * sign[:, None]])]
    >>> X = rng.normal(size=(5, 2))
    >>> bool(np.allclose(forward(spec, X, [w[0] for w in weights]),
    ...                  forward(spec, X, [w[1] for w in weights])))  # the same function
    True
    >>> aligned = align_draws(spec, weights)
    >>> relabelled, _ = relabel_units(spec, weights, None, aligned.permutations, aligned.signs)
    >>> bool(np.allclose(relabelled[0][1], w_0))
    True
    """
    layers, skip = split_skip_weights(spec, [np.array(w, dtype=np.float64) for w in weights])
    biases = None if biases is None else [np.array(b, dtype=np.float64) for b in biases]
    for layer in range(len(spec.hidden)):
        _relabel(layers, biases, layer, permutations[layer], signs[layer])
    return layers + ([skip] if skip is not None else []), biases


def _relabel(weights: list, biases: list | None, layer: int, perm, sign) -> None:
    """In place: aligned unit k of hidden layer `layer` is sign[:, k] · draw unit perm[:, k]."""
    index_cols = perm[:, None, :]
    weights[layer] = np.take_along_axis(weights[layer], index_cols, axis=2) * sign[:, None, :]
    if biases is not None:
        biases[layer] = np.take_along_axis(biases[layer], perm, axis=1) * sign
    weights[layer + 1] = (np.take_along_axis(weights[layer + 1], perm[:, :, None], axis=1)
                          * sign[:, :, None])


def _unit_features(weights, biases, layer, next_map, use_outgoing):
    """Features of each unit of hidden layer `layer`, (S, H, n_features), and their block sizes.

    Incoming weights, bias, and (with `use_outgoing`) outgoing weights, their columns mapped
    by `next_map` (perm, sign) of the next hidden layer when given.
    """
    incoming = np.swapaxes(weights[layer], 1, 2)  # (S, H, fan_in)
    blocks = [incoming]
    if biases is not None:
        blocks.append(biases[layer][:, :, None])
    if use_outgoing:
        outgoing = weights[layer + 1]  # (S, H, fan_out)
        if next_map is not None:
            perm, sign = next_map
            outgoing = (np.take_along_axis(outgoing, np.broadcast_to(
                perm[:, None, :], outgoing.shape), axis=2) * sign[:, None, :])
        blocks.append(outgoing)
    return np.concatenate(blocks, axis=-1), [b.shape[-1] for b in blocks]


def _block_scales(ref_units: np.ndarray, blocks: list[int]) -> np.ndarray:
    """Per feature, the RMS of its block (incoming, bias, outgoing) in the reference."""
    scales, start = [], 0
    for size in blocks:
        block = ref_units[:, start:start + size]
        rms = float(np.sqrt(np.mean(block ** 2)))
        scales.append(np.full(size, rms if rms > 0 else 1.0))
        start += size
    return np.concatenate(scales)


def _check_shapes(spec, layers, skip, biases) -> int:
    n_draws = layers[0].shape[0]
    shapes = [(w.ndim, w.shape[1:]) for w in layers]
    expected = [(3, shape) for shape in spec.weight_shapes()]
    if shapes != expected or any(w.shape[0] != n_draws for w in layers):
        raise InvalidInputError(
            f"weights must be one (S, fan_in, fan_out) array per layer with shapes "
            f"{spec.weight_shapes()} after the draws axis and the same S, got "
            f"{[w.shape for w in layers]}"
        )
    if skip is not None and skip.shape != (n_draws, *spec.skip_shape):
        raise InvalidInputError(f"w_skip must have shape (S, {spec.skip_shape[0]}, "
                                f"{spec.skip_shape[1]}), got {skip.shape}")
    if biases is not None and [b.shape for b in biases] != [
            (n_draws, shape[1]) for shape in spec.weight_shapes()]:
        raise InvalidInputError(
            f"biases must be one (S, fan_out) array per layer, got {[b.shape for b in biases]}")
    return n_draws
