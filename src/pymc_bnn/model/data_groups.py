"""The training data as ArviZ groups: `observed_data` and `constant_data`, as `pm.sample` gives.

`fit` adds both to every engine's `idata`, so ArviZ's checks that compare draws with the data
(`az.plot_ppc_dist` after `pm.sample_posterior_predictive`, `az.loo_pit`) find them. They are
read from the model by PyMC's own helpers (`pymc.backends.arviz`), the way `pm.sample` reads them:

- `observed_data`: each observed variable (`y`) holding its data with the model's dims and
  coordinates: the target *as the likelihood takes it*. A real target is standardised in the
  model (`bnn.preprocessing`), so `observed_data` holds the standardised values, the scale of
  `y` in `log_likelihood` and `posterior_predictive` too; its attributes say so and carry
  `y_mean` and `y_scale` (`y_mean + y_scale · value` is in your units). Class labels are codes
  0 … K-1 (the positions of `bnn.preprocessing["classes"]`).
- `constant_data`: the data containers the model's variables depend on: `X`, and where the
  model has them `sample_weight`, `group_index`, a count likelihood's offset and any `pm.Data`
  you added; `y_data` too where `y`'s shape follows it (PyMC's own rule, `find_constants`).

A streamed model (`build_streaming_model`) holds one minibatch, not the data it was fitted to,
so it gives neither group. Model files leave both out (`pymc_bnn.io.model_file`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xarray as xr

    from pymc_bnn.model.build import BNNModel

# The idata groups of the training data, as ArviZ names them.
DATA_GROUPS = ("observed_data", "constant_data")

_STANDARDISED = ("standardised: (y - y_mean) / y_scale, as the likelihood, log_likelihood and "
                 "posterior_predictive see it; y_mean + y_scale * value is in the target's units")
_CODES = ("class codes 0 ... K-1, the positions of the model's classes (the posterior's output "
          "coordinate for a categorical likelihood), as the likelihood sees them")
_AS_GIVEN = "as given, as the likelihood sees it"


def data_groups(bnn: BNNModel) -> dict[str, xr.Dataset]:
    """The `observed_data` and `constant_data` groups of `bnn`'s data, as `pm.sample` makes them.

    Parameters
    ----------
    bnn : BNNModel
        The model, from `build_model` (the data its containers hold now: set the training data
        back first if you replaced it with `pm.set_data`).

    Returns
    -------
    dict of str to xarray.Dataset
        "observed_data" (the observed variable `y`, dims ("obs",), on the likelihood's scale;
        its `target_scale` attribute says which, with `y_mean` and `y_scale` for a real target)
        and "constant_data" (`X` and the model's other data containers); empty for a streamed
        model. A group with nothing to hold is left out.

    Examples
    --------
    >>> groups = data_groups(tiny_model)
    >>> list(groups), groups["observed_data"]["y"].dims, groups["constant_data"]["X"].shape
    (['observed_data', 'constant_data'], ('obs',), (42, 2))
    >>> bool((groups["observed_data"]["y"].values == tiny_data.y_train).all())
    True

    A real target is standardised in the model, and so are these values:

    >>> from pymc_bnn import build_model
    >>> bnn = build_model([[0.0], [1.0], [2.0]], [10.0, 20.0, 30.0], hidden=(2,),
    ...                   likelihood="gaussian")
    >>> observed = data_groups(bnn)["observed_data"]
    >>> observed["y"].values.round(3).tolist(), observed.attrs["y_mean"]
    ([-1.225, 0.0, 1.225], 20.0)
    """
    import pymc as pm
    from arviz import dict_to_dataset
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )

    if getattr(bnn, "stream", None) is not None:
        return {}
    coords, dims = coords_and_dims_for_inferencedata(bnn.model)
    found = {"observed_data": find_observations(bnn.model),
             "constant_data": find_constants(bnn.model)}
    groups = {name: dict_to_dataset(values, inference_library=pm, coords=coords, dims=dims,
                                    sample_dims=[])
              for name, values in found.items() if values}
    if "observed_data" in groups:
        groups["observed_data"].attrs.update(_target_attributes(bnn.preprocessing))
    return groups


def with_data_groups(idata: xr.DataTree, bnn: BNNModel) -> xr.DataTree:
    """A copy of `idata` with `bnn`'s `observed_data` and `constant_data` (`data_groups`).

    Groups of those names already in `idata` are replaced; `idata` itself is not changed. A
    streamed model gives none, and `idata` comes back as it is.

    Parameters
    ----------
    idata : xarray.DataTree
        ArviZ data, e.g. a fit's `posterior.idata`, or a loaded model's (model files leave the
        two groups out).
    bnn : BNNModel
        The model whose data the groups hold.

    Returns
    -------
    xarray.DataTree

    Examples
    --------
    >>> idata = with_data_groups(fitted.idata.copy(), tiny_model)
    >>> sorted(set(idata.children) & {"observed_data", "constant_data"})
    ['constant_data', 'observed_data']
    """
    import xarray as xr

    groups = data_groups(bnn)
    if not groups:
        return idata
    tree = idata.copy()
    for name, dataset in groups.items():
        tree[name] = xr.DataTree(dataset)
    return tree


def _target_attributes(preprocessing: dict) -> dict:
    """What `observed_data`'s target values are: standardised, class codes or as given."""
    if {"y_mean", "y_scale"} <= preprocessing.keys():
        return {"target_scale": _STANDARDISED, "y_mean": float(preprocessing["y_mean"]),
                "y_scale": float(preprocessing["y_scale"])}
    if "classes" in preprocessing:
        return {"target_scale": _CODES}
    return {"target_scale": _AS_GIVEN}
