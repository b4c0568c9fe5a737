"""Stability figures keep every label on the figure, whatever the inputs are called."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from pymc_bnn.reporting import stability_plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _relevance_result(names):
    n = len(names)
    inputs = xr.Dataset(
        {"relevance_mean": ("feature", np.linspace(0.8, 0.1, n)),
         "relevance_lower": ("feature", np.linspace(0.5, 0.0, n)),
         "relevance_upper": ("feature", np.linspace(1.0, 0.2, n)),
         "rank": ("feature", np.arange(1, n + 1))},
        coords={"feature": names})
    result = xr.DataTree.from_dict({"inputs": inputs})
    result.attrs["level"] = 0.9
    return result


@pytest.mark.parametrize("names", [["x0", "x1"],
                                   ["a very long feature name about soil moisture (percent)",
                                    "temperature_celsius_at_noon", "z"]])
def test_input_relevance_keeps_its_axis_label_and_names_on_the_figure(names):
    # a long feature name pushed the axis label, with its "(90% HDI)", off the figure's edge
    ax = stability_plots.input_relevance(_relevance_result(names))
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    texts = [ax.xaxis.label, ax.title, *ax.get_yticklabels()]
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= width, text.get_text()
    assert "90% HDI" in ax.get_xlabel()


def test_cka_matrix_labels_the_draws_it_compares_by_their_index():
    # 5 of 100 draws (0, 25, 50, 74, 99) were shown on axes reading "draw" 0 … 4
    from pymc_bnn.posterior.representation import cka_between_draws

    hidden = [np.random.default_rng(0).normal(size=(100, 30, 3))]
    result = xr.DataTree.from_dict({"representation": cka_between_draws(hidden, 5, 0.9)})
    ax = stability_plots.cka_matrix(result, "hidden_0")
    ax.figure.canvas.draw()
    for axis in (ax.xaxis, ax.yaxis):
        shown = {int(label.get_text()) for label in axis.get_ticklabels() if label.get_text()}
        assert shown and shown <= {0, 25, 50, 74, 99}
    assert "5 compared" in ax.get_xlabel()


def _weights_result():
    statistics = ["mean", "sd", "lower", "upper", "mean_unaligned", "sd_unaligned"]
    values = np.array([[1.0, -2.0, 0.5], [0.2, 0.3, 0.4], [0.7, -2.5, 0.0], [1.3, -1.5, 1.0],
                       [0.1, 0.0, 0.2], [1.0, 2.0, 0.5]])[:, :, None]  # (statistic, 3, 1)
    weights = xr.Dataset({"w_1": (("statistic", "hidden_0", "output"), values)},
                         coords={"statistic": statistics})
    return xr.DataTree.from_dict({"weights": weights})


def test_aligned_weight_intervals_takes_one_name_as_arviz_does_and_names_unknown_ones():
    # var_names="w_1" was read letter by letter (KeyError 'Could not find node at w'), an
    # unknown name was a KeyError too
    from pymc_bnn.errors import InvalidInputError

    ax = stability_plots.aligned_weight_intervals(_weights_result(), "w_1")
    assert len(ax.get_yticklabels()) == 3
    with pytest.raises(InvalidInputError, match="'w_9'.*w_1"):
        stability_plots.aligned_weight_intervals(_weights_result(), ["w_9"])


@pytest.mark.parametrize("layer", [3, "hidden_3"])
def test_cka_matrix_names_the_layers_it_has(layer):
    # an unknown layer was an IndexError or xarray's KeyError
    from pymc_bnn.errors import InvalidInputError
    from pymc_bnn.posterior.representation import cka_between_draws

    hidden = [np.random.default_rng(0).normal(size=(10, 30, 3))]
    result = xr.DataTree.from_dict({"representation": cka_between_draws(hidden, 5, 0.9)})
    with pytest.raises(InvalidInputError, match="no hidden layer .*hidden_0"):
        stability_plots.cka_matrix(result, layer)


def test_stability_figures_make_their_axes_as_every_figure_module_does():
    """The module kept its own copy of the canvas's `axes_for` (STYLE.md: one way to do each
    thing); a new figure now comes from the shared helper, at the size it had."""
    from pymc_bnn.reporting import canvas

    assert "_axes" not in vars(stability_plots)
    assert stability_plots.axes_for is canvas.axes_for
    ax = stability_plots.input_relevance(_relevance_result(["x0", "x1"]))
    assert ax.figure.get_size_inches().tolist() == pytest.approx([5.5, 0.9 + 0.26 * 2])
