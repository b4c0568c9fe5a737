"""What describes a network apart from its draws: one record for `BNNModel`, `Posterior`, files.

A `ModelRecord` says which network was built (spec, prior, likelihood), on what inputs (feature
names), with what done to the target (preprocessing: standardisation, classes), which of the
likelihood's own variables it has, and its groups. `build_model` makes one, `fit` hands it on
to the `Posterior` unchanged, and `pymc_bnn.io.model_file` writes and reads it in one function
pair. Both holders read its fields as their own attributes (`RecordFields`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from pymc_bnn.model.likelihoods import Likelihood
from pymc_bnn.model.network import NetworkSpec
from pymc_bnn.model.priors import Prior


@dataclass(frozen=True)
class ModelRecord:
    """The description of a built or fitted network, independent of its draws.

    Parameters
    ----------
    spec : NetworkSpec
        The architecture.
    likelihood : Likelihood
        The observation model (classes included for a categorical one).
    prior : Prior
        The weight prior it was built with.
    feature_names : tuple of str
        One name per input column, in order.
    preprocessing : dict
        JSON-able record of what was done to the target before fitting (e.g. "y_mean",
        "y_scale", "classes"), so predictions come back in the user's units.
    likelihood_params : tuple of str
        Names of the likelihood's own posterior variables (e.g. "sigma").
    groups : dict or None
        JSON-able record of a hierarchical network (pooling, group labels, counts; see
        `pymc_bnn.model.groups`), None for an ordinary one.

    Examples
    --------
    >>> from pymc_bnn import NetworkSpec, get_likelihood, get_prior
    >>> from pymc_bnn.model.record import ModelRecord
    >>> record = ModelRecord(spec=NetworkSpec(n_inputs=2, hidden=(5,), n_outputs=1),
    ...                      likelihood=get_likelihood("gaussian"), prior=get_prior(None),
    ...                      feature_names=("height", "width"),
    ...                      preprocessing={"y_mean": 3.0, "y_scale": 2.0},
    ...                      likelihood_params=("sigma",))
    >>> record.feature_names, record.groups
    (('height', 'width'), None)

    A fitted `Posterior` (and the `BNNModel` it came from) holds one:

    >>> fitted.record.spec == fitted.spec
    True
    """

    spec: NetworkSpec
    likelihood: Likelihood
    prior: Prior
    feature_names: tuple[str, ...]
    preprocessing: dict = field(default_factory=dict)
    likelihood_params: tuple[str, ...] = ()
    groups: dict | None = None


RECORD_FIELDS = tuple(f.name for f in fields(ModelRecord))


def record_of(record: ModelRecord | None, changes: dict[str, Any], owner: str) -> ModelRecord:
    """`record` with the fields in `changes` replaced, or a new record made of `changes` alone.

    For the constructors of `BNNModel` and `Posterior`, which take a record, its fields one by
    one (as before the record existed), or both (`dataclasses.replace(posterior, groups=None)`).

    Parameters
    ----------
    record : ModelRecord or None
    changes : dict
        Record fields by name.
    owner : str
        The class being built, for the message of a wrong keyword.

    Returns
    -------
    ModelRecord

    Raises
    ------
    TypeError
        A keyword that is no field of the record, or (without `record`) a missing field.

    Examples
    --------
    >>> from pymc_bnn.model.record import record_of
    >>> record_of(fitted.record, {"feature_names": ("a", "b")}, "Posterior").feature_names
    ('a', 'b')
    """
    unknown = sorted(set(changes) - set(RECORD_FIELDS))
    if unknown:
        raise TypeError(f"{owner}() got unexpected keyword argument(s) {', '.join(unknown)}")
    if record is None:
        return ModelRecord(**changes)
    return replace(record, **changes) if changes else record


def set_fields(holder, **values) -> None:
    """Set the fields of a frozen dataclass `holder` (from its own `__init__`).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from pymc_bnn.model.record import set_fields
    >>> @dataclass(frozen=True)
    ... class Point:
    ...     x: float
    ...     def __init__(self, x):
    ...         set_fields(self, x=float(x))
    >>> Point(2).x
    2.0
    """
    for name, value in values.items():
        object.__setattr__(holder, name, value)


class RecordFields:
    """The fields of a held `record` read as attributes of its holder (`BNNModel`, `Posterior`).

    Examples
    --------
    >>> fitted.feature_names is fitted.record.feature_names
    True
    """

    record: ModelRecord

    @property
    def spec(self) -> NetworkSpec:
        """The architecture (`ModelRecord.spec`)."""
        return self.record.spec

    @property
    def likelihood(self) -> Likelihood:
        """The observation model (`ModelRecord.likelihood`)."""
        return self.record.likelihood

    @property
    def prior(self) -> Prior:
        """The weight prior (`ModelRecord.prior`)."""
        return self.record.prior

    @property
    def feature_names(self) -> tuple[str, ...]:
        """One name per input column (`ModelRecord.feature_names`)."""
        return self.record.feature_names

    @property
    def preprocessing(self) -> dict:
        """What was done to the target before fitting (`ModelRecord.preprocessing`)."""
        return self.record.preprocessing

    @property
    def likelihood_params(self) -> tuple[str, ...]:
        """The likelihood's own posterior variables (`ModelRecord.likelihood_params`)."""
        return self.record.likelihood_params

    @property
    def groups(self) -> dict | None:
        """The hierarchical network's group record, or None (`ModelRecord.groups`)."""
        return self.record.groups
