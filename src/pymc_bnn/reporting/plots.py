"""Every figure of `pymc_bnn.reporting` under one name, as `from pymc_bnn.reporting import plots`.

The figures live in modules by what they show; this module re-exports their public names, so
`plots.probability_map(...)`, `plots.save(...)` and `from pymc_bnn.reporting.plots import save`
keep working. Each name is documented at its home:

- `pymc_bnn.reporting.canvas`: `save` (and the Axes each function draws on);
- `pymc_bnn.reporting.class_scatter`: `CLASS_COLORS`, `class_styles`, `scatter_classes`,
  `predicted_labels`, `labelled_points`;
- `pymc_bnn.reporting.class_maps`: `surface`, `probability_map`, `uncertainty_map`,
  `uncertainty_maps`, `group_surfaces`;
- `pymc_bnn.reporting.calibration_plots`: `reliability_diagram`, `coverage_curve`,
  `regression_bands`;
- `pymc_bnn.reporting.predictive_check_plots`: `prior_functions`, `class_frequency_check`,
  `replicated_distribution`, `uncertainty_split`;
- `pymc_bnn.reporting.fit_plots`: `elbo_trace`, `accuracy_by_group`, `learning_curves`.

Each function draws on an Axes (made if not given) and returns it, except `uncertainty_maps`
(three Axes) and `group_surfaces` (one per group), which return the Figure; works headless.
"""

from __future__ import annotations

from pymc_bnn.reporting.calibration_plots import (
    coverage_curve,
    regression_bands,
    reliability_diagram,
)
from pymc_bnn.reporting.canvas import save
from pymc_bnn.reporting.class_maps import (
    group_surfaces,
    probability_map,
    surface,
    uncertainty_map,
    uncertainty_maps,
)
from pymc_bnn.reporting.class_scatter import (
    CLASS_COLORS,
    class_styles,
    labelled_points,
    predicted_labels,
    scatter_classes,
)
from pymc_bnn.reporting.fit_plots import accuracy_by_group, elbo_trace, learning_curves
from pymc_bnn.reporting.predictive_check_plots import (
    class_frequency_check,
    prior_functions,
    replicated_distribution,
    uncertainty_split,
)

__all__ = [
    "CLASS_COLORS",
    "accuracy_by_group",
    "class_frequency_check",
    "class_styles",
    "coverage_curve",
    "elbo_trace",
    "group_surfaces",
    "labelled_points",
    "learning_curves",
    "predicted_labels",
    "prior_functions",
    "probability_map",
    "regression_bands",
    "reliability_diagram",
    "replicated_distribution",
    "save",
    "scatter_classes",
    "surface",
    "uncertainty_map",
    "uncertainty_maps",
    "uncertainty_split",
]
