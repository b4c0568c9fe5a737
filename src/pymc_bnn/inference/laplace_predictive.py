"""The closed-form GLM predictive of a `laplace` fit.

The mean and covariance of the network's pre-link output, from the Gaussian the engine stored
in the posterior's `laplace` group.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.inference.ggn import output_covariance
from pymc_bnn.model.network import bias_name

LAPLACE_GROUP = "laplace"


def glm_predictive(posterior, X, member: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form mean and covariance of the network's pre-link output under a `laplace` fit.

    The output layer's Gaussian N(m, C) maps to eta(x) = J(x) theta linearly, so eta(x) ~
    N(J m, J C J') exactly (the GLM predictive, before the link); a whole-network fit
    (hessian="full") gives the same for the network linearised at its MAP. Where the output
    layer was sampled from its exact posterior (output_layer="sampled", the default for the
    categorical likelihood) this is still the Laplace Gaussian's, not the draws' moments.

    Parameters
    ----------
    posterior : Posterior
        Fitted with method="laplace".
    X : array-like
        `(n_obs, n_features)` on the model's input scale.
    member : int, optional
        The ensemble member (default: the first).

    Returns
    -------
    mean : numpy.ndarray
        `(n_obs, n_outputs)`.
    covariance : numpy.ndarray
        `(n_obs, n_outputs, n_outputs)`.

    Raises
    ------
    InvalidSettingError
        The posterior is not from the laplace engine.

    Examples
    --------
    A laplace fit takes seconds, so it is not run here:

    >>> from pymc_bnn import fit
    >>> laplace = fit(tiny_model, "laplace", draws=100, progress=False)  # doctest: +SKIP
    >>> mean, covariance = glm_predictive(laplace, tiny_data.X_test)  # doctest: +SKIP
    >>> mean.shape, covariance.shape  # doctest: +SKIP
    ((18, 1), (18, 1, 1))
    >>> glm_predictive(fitted, tiny_data.X_test)  # an ADVI fit has no Gaussian to read
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: glm_predictive needs a posterior fitted with ...
    """
    import jax
    import jax.numpy as jnp

    from pymc_bnn.model.network import forward

    if LAPLACE_GROUP not in getattr(posterior.idata, "children", {}):
        raise InvalidSettingError(
            "glm_predictive needs a posterior fitted with method='laplace'")
    group = posterior.idata[LAPLACE_GROUP]
    m = 0 if member is None else int(member)
    spec = posterior.spec
    X = check_features(X, n_features=spec.n_inputs)
    if group.attrs.get("hessian") == "full":
        index = np.asarray(group["network_index"].values)
        return output_covariance(
            spec, np.asarray(group["map"].values[m])[index], X,
            np.asarray(group["ggn_vectors"].values[m]),
            np.asarray(group["ggn_eigenvalues"].values[m]),
            np.asarray(group["base_precision"].values),
            float(group["prior_scale"].values[m]) ** -2)
    post = posterior.idata["posterior"]
    names = list(group.attrs["output_layer"])
    chain = post.isel(chain=m, draw=0)
    weights = [jnp.asarray(chain[n].values) for n in spec.weight_names]
    biases = ([jnp.asarray(chain[bias_name(i)].values) for i in range(spec.n_layers)]
              if spec.bias else None)
    index = np.asarray(group["output_layer_index"].values)
    flat_map = np.asarray(group["map"].values[m])[index]
    shapes = [tuple(np.shape(chain[n].values)) for n in names]

    def output(theta):
        parts, start = {}, 0
        for name, shape in zip(names, shapes, strict=False):
            size = int(np.prod(shape))
            parts[name] = theta[start:start + size].reshape(shape)
            start += size
        w = [parts.get(n, weights[i]) for i, n in enumerate(spec.weight_names)]
        b = None if biases is None else [parts.get(bias_name(i), biases[i])
                                         for i in range(spec.n_layers)]
        return forward(spec, jnp.asarray(X), w, b, backend="jax")

    theta = jnp.asarray(flat_map)
    mean = np.asarray(output(theta))
    J = np.asarray(jax.jacfwd(output)(theta))  # (n_obs, n_outputs, d)
    C = np.asarray(group["output_layer_covariance"].values[m])
    return mean, np.einsum("nod,de,npe->nop", J, C, J)
