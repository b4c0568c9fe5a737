"""Uncertainty plots draw what they claim: panels, lines, bands, and the ECE in the label."""

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from pymc_bnn.datasets import grid_2d
from pymc_bnn.errors import InvalidInputError
from pymc_bnn.posterior import metrics
from pymc_bnn.reporting import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_uncertainty_maps_has_three_titled_panels_with_colorbars(rng):
    _, xx, yy = grid_2d(n=12)
    total = rng.uniform(0, np.log(2), size=xx.shape)
    aleatoric = total * 0.7
    fig = plots.uncertainty_maps(xx, yy, total, aleatoric, total - aleatoric,
                                 X=rng.normal(size=(10, 2)), y=rng.integers(0, 2, 10))
    maps = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in maps] == ["Total: predictive entropy",
                                               "Aleatoric: expected entropy",
                                               "Epistemic: mutual information"]
    assert len(fig.axes) == 6  # three maps, three colorbars
    assert all(ax.collections for ax in maps)  # filled contours and data points drawn


def test_reliability_diagram_shows_bins_and_the_ece(rng):
    p = rng.uniform(size=500)
    y = (rng.uniform(size=500) < p).astype(int)
    ax = plots.reliability_diagram(y, p, n_bins=10)
    ece = metrics.expected_calibration_error(y, p, n_bins=10)
    labels = ax.get_legend_handles_labels()[1]
    assert f"accuracy per bin (ECE = {ece:.3f})" in labels
    filled = int((metrics.reliability_bins(y, p, 10).count > 0).sum())
    assert len(ax.patches) == 2 * filled  # accuracy bars and gap bars
    assert filled == 5  # binary top-class confidence lies in [0.5, 1]


def test_regression_bands_nest_aleatoric_inside_total(rng):
    x = rng.uniform(-2, 2, size=40)
    ax = plots.regression_bands(x, np.sin(x), np.full(40, 0.2), np.full(40, 0.5),
                                X_train=x, y_train=np.sin(x))
    total_band, aleatoric_band = ax.collections[0], ax.collections[1]
    total_y = total_band.get_paths()[0].vertices[:, 1]
    aleatoric_y = aleatoric_band.get_paths()[0].vertices[:, 1]
    assert np.ptp(total_y) > np.ptp(aleatoric_y)
    assert len(ax.lines) == 1 and len(ax.collections) == 3  # mean, two bands, data


def test_coverage_curve_plots_observed_against_nominal():
    nominal = np.array([0.5, 0.8, 0.9])
    ax = plots.coverage_curve(nominal, np.array([0.45, 0.7, 0.85]))
    _diagonal, observed = ax.lines
    np.testing.assert_array_equal(observed.get_xdata(), nominal)
    assert observed.get_label() == "observed" and ax.get_xlabel() == "nominal level"


def _drawn_points(ax) -> int:
    from matplotlib.collections import PathCollection

    return sum(len(c.get_offsets()) for c in ax.collections if type(c) is PathCollection)


@pytest.mark.parametrize("y", [np.arange(30) % 3, np.array(["setosa", "virginica"] * 15),
                               np.arange(30) % 2 + 1])
def test_class_scatters_draw_every_point_whatever_the_labels(rng, y):
    # a third class, text labels or labels 1/2 were silently left out of the figure
    X = rng.normal(size=(30, 2))
    ax = plots.scatter_classes(X, y)
    classes = np.unique(y)
    assert _drawn_points(ax) == 30
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        str(c) if isinstance(c, str) else f"class {c}" for c in classes]
    labelled = [0, 1, 2, 5]
    ax = plots.labelled_points(X, y, labelled)
    assert _drawn_points(ax) == 30 + len(labelled)
    _, xx, yy = grid_2d(n=8)
    ax = plots.surface(xx, yy, xx * yy, X=X, y=y)
    assert _drawn_points(ax) == 30


def test_scatter_classes_names_the_two_classes_as_before(rng):
    X, y = rng.normal(size=(10, 2)), np.arange(10) % 2
    texts = [t.get_text() for t in plots.scatter_classes(X, y).get_legend().get_texts()]
    assert texts == ["class 0", "class 1"]
    with pytest.raises(InvalidInputError, match="labels names 1 class.*need 2 names"):
        plots.scatter_classes(X, y, labels=("only one",))


def test_uncertainty_maps_refuses_entropies_above_its_colour_scale():
    # three classes' entropies (up to log 3) on the default two-class scale [0, log 2] were
    # drawn in one saturated colour above 0.69 nats while the colour bar read up to 1.1
    _, xx, yy = grid_2d(n=12)
    total = np.log(3) * (xx - xx.min()) / np.ptp(xx)
    with pytest.raises(InvalidInputError, match=r"1\.099 nats.*log 2.*n_classes.*at least 3"):
        plots.uncertainty_maps(xx, yy, total, 0.8 * total, 0.2 * total)
    fig = plots.uncertainty_maps(xx, yy, total, 0.8 * total, 0.2 * total, n_classes=3)
    assert fig.axes[0].collections[0].norm.vmax == pytest.approx(np.log(3))


@pytest.mark.parametrize(("curves", "lengths"), [({"bald": [[0.5, 0.6, 0.7], [0.5, 0.6]]}, "2, 3"),
                                                ({"bald": [[0.5, 0.6]]}, "2"),
                                                ({"bald": np.array([0.5, 0.6])}, "2")])
def test_learning_curves_names_a_strategy_whose_scores_do_not_fit_the_rounds(curves, lengths):
    # an interrupted repeat (fewer rounds) gave numpy's 'inhomogeneous shape' ValueError,
    # a curve of another length matplotlib's 'x and y must have same first dimension'
    with pytest.raises(InvalidInputError,
                       match=rf"curves\['bald'\].*3 rounds.*repeats of {lengths} scores"):
        plots.learning_curves([10, 20, 30], curves)
    ax = plots.learning_curves([10, 20], {"bald": np.array([0.5, 0.6])})  # one repeat
    assert ax.lines[0].get_ydata().tolist() == [0.5, 0.6]


def test_a_class_keeps_its_colour_and_name_when_the_other_class_is_absent(rng):
    # class 1 alone (a test split, one group) must stay red and named as class 1
    X = rng.normal(size=(5, 2))
    ax = plots.scatter_classes(X, np.ones(5, dtype=int), labels=("negative", "positive"))
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["positive"]
    assert matplotlib.colors.to_hex(ax.collections[0].get_facecolor()[0]) == plots.CLASS_COLORS[1]


def test_predicted_labels_reads_class_probabilities_and_original_labels(rng):
    # predict_proba's (n, 2) was an IndexError; labels 'no'/'yes' all counted as misclassified
    X = rng.normal(size=(6, 2))
    proba = np.array([[0.8, 0.2], [0.3, 0.7]] * 3)
    ax = plots.predicted_labels(X, ["no", "yes"] * 3, proba, classes=["no", "yes"])
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["predicted no", "predicted yes", "misclassified (0)"]
    ax = plots.predicted_labels(X, [0, 0, 1, 1, 2, 2], np.tile([[0.1, 0.2, 0.7]], (6, 1)))
    assert ax.get_legend().get_texts()[-1].get_text() == "misclassified (4)"
    assert _drawn_points(ax) == 6 + 4
    with pytest.raises(InvalidInputError, match="pass classes="):
        plots.predicted_labels(X, ["no", "yes"] * 3, proba[:, 1])


def test_reliability_diagram_refuses_zero_bins_as_the_metrics_do():
    # n_bins=0 was silently read as the default 15 (`n_bins or ECE_BINS`)
    from pymc_bnn.errors import InvalidSettingError

    with pytest.raises(InvalidSettingError, match="n_bins must be at least 1, got 0"):
        plots.reliability_diagram([0, 1, 1], [0.2, 0.7, 0.9], n_bins=0)


def test_group_surfaces_draw_every_point_in_one_colour_per_class_across_groups(rng):
    # only labels 0 and 1 were drawn: a third class, text labels or labels 1/2 vanished
    from matplotlib.collections import PathCollection

    _, xx, yy = grid_2d(n=8)
    proba = [0.5 + 0.0 * xx] * 3
    data = [(rng.normal(size=(6, 2)), np.array(["a", "b", "c"] * 2)),
            (rng.normal(size=(4, 2)), np.array(["c"] * 4)),  # one class only
            (rng.normal(size=(5, 2)), np.array(["b", "a", "a", "b", "b"]))]
    fig = plots.group_surfaces(xx, yy, proba, data_by_group=data, ncols=3)
    assert [_drawn_points(ax) for ax in fig.axes[:3]] == [6, 4, 5]
    colours = {}
    for ax, (_, y) in zip(fig.axes[:3], data, strict=True):
        scatters = [c for c in ax.collections if type(c) is PathCollection]
        for points, label in zip(scatters, sorted(set(y)), strict=True):
            colour = matplotlib.colors.to_hex(points.get_facecolor()[0])
            assert colours.setdefault(label, colour) == colour  # "c" is one colour everywhere
    assert len(set(colours.values())) == 3


def test_uncertainty_maps_draw_into_a_users_own_axes(rng):
    # there was no ax=, so the three maps could not go into a figure of one's own
    from pymc_bnn.errors import InvalidSettingError

    _, xx, yy = grid_2d(n=12)
    total = rng.uniform(0, np.log(2), size=xx.shape)
    fig, axes = plt.subplots(2, 3)
    drawn = plots.uncertainty_maps(xx, yy, total, 0.7 * total, 0.3 * total, ax=axes[1])
    assert drawn is fig
    assert [ax.get_title() for ax in axes[1]] == ["Total: predictive entropy",
                                                  "Aleatoric: expected entropy",
                                                  "Epistemic: mutual information"]
    assert not any(ax.collections for ax in axes[0])
    with pytest.raises(InvalidSettingError, match="ax must be 3 Axes.*got 2"):
        plots.uncertainty_maps(xx, yy, total, 0.7 * total, 0.3 * total, ax=axes[0][:2])


def test_regression_bands_take_one_input_as_a_column_and_refuse_more(rng):
    # X_train of two columns gave matplotlib's 'x and y must be the same size', the grid x as
    # the (n, 1) column a regressor predicts on "'x' is not 1-dimensional"
    x = np.linspace(-2, 2, 20)
    sd = np.full(20, 0.2)
    ax = plots.regression_bands(x[:, None], np.sin(x), sd, 2 * sd, X_train=x[:, None],
                                y_train=np.sin(x)[:, None])
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), x)
    assert _drawn_points(ax) == 20
    with pytest.raises(InvalidInputError, match=r"X_train has 2 columns.*X_train\[:, 0\]"):
        plots.regression_bands(x, np.sin(x), sd, 2 * sd, X_train=np.c_[x, x], y_train=x)
    with pytest.raises(InvalidInputError, match=r"x has 3 columns"):
        plots.regression_bands(np.c_[x, x, x], np.sin(x), sd, 2 * sd)


def test_regression_bands_refuse_values_of_another_length_naming_both_lengths():
    # a y_train or mean of the wrong length reached matplotlib ("x and y must be the same
    # size", an IndexError from the sort); a longer mean was cut to x's length without a word
    x = np.linspace(-2, 2, 20)
    sd = np.full(20, 0.2)
    for name, wrong in [("mean", np.sin(x[:19])), ("mean", np.r_[np.sin(x), 0.0]),
                        ("aleatoric_sd", sd[:5]), ("total_sd", np.c_[sd, sd])]:
        values = {"mean": np.sin(x), "aleatoric_sd": sd, "total_sd": 2 * sd, name: wrong}
        with pytest.raises(InvalidInputError, match=rf"x has 20 values, but {name} has shape "
                                                    rf"{re.escape(str(np.shape(wrong)))}; "):
            plots.regression_bands(x, **values)
    with pytest.raises(InvalidInputError, match=r"X_train has 20 rows, but y_train has shape "
                                                r"\(19,\); pass one target value per row"):
        plots.regression_bands(x, np.sin(x), sd, 2 * sd, X_train=x, y_train=np.sin(x)[:19])


def test_regression_bands_refuse_training_inputs_without_targets_and_the_reverse():
    # X_train without y_train (or the reverse) drew no points and said nothing
    x = np.linspace(-2, 2, 20)
    sd = np.full(20, 0.2)
    with pytest.raises(InvalidInputError, match=r"only X_train was given; pass y_train too, or "
                                                r"neither"):
        plots.regression_bands(x, np.sin(x), sd, 2 * sd, X_train=x)
    with pytest.raises(InvalidInputError, match=r"only y_train was given; pass X_train too"):
        plots.regression_bands(x, np.sin(x), sd, 2 * sd, y_train=np.sin(x))
    ax = plots.regression_bands(x, np.sin(x), sd, 2 * sd, X_train=x, y_train=np.sin(x))
    assert len(ax.collections[-1].get_offsets()) == 20  # both given: the rows are drawn


def test_save_refuses_a_suffix_matplotlib_cannot_write_naming_those_it_can(tmp_path):
    # .txt raised matplotlib's "Format 'txt' is not supported (supported formats: ...)"
    from pymc_bnn.errors import InvalidSettingError

    ax = plots.coverage_curve([0.5, 0.9], [0.5, 0.88])
    with pytest.raises(InvalidSettingError, match=r"figure.txt.*'txt'.*png, .*svg.*figure\.png"):
        plots.save(ax, tmp_path / "figure.txt")
    assert list(tmp_path.iterdir()) == []
    plots.save(ax, tmp_path / "figure.PDF")  # the figure is still there to save elsewhere
    assert (tmp_path / "figure.PDF").read_bytes()[:4] == b"%PDF"


def test_class_frequency_check_keeps_a_page_width_with_many_classes():
    # 50 classes drew a figure 47.5 inches wide, its names overlapping at 30 degrees
    from pymc_bnn.reporting.predictive_check_plots import MAX_WIDTH_IN, class_frequency_check

    rng = np.random.default_rng(0)
    few = class_frequency_check(["a", "b", "c"], [0.2, 0.3, 0.5], rng.dirichlet([2, 3, 5], 100))
    assert few.figure.get_size_inches()[0] == pytest.approx(0.9 * 3 + 2.5)
    assert few.get_xticklabels()[0].get_rotation() == 0
    many = class_frequency_check([f"species {k}" for k in range(50)], np.full(50, 0.02),
                                 rng.dirichlet(np.ones(50), 100))
    assert many.figure.get_size_inches()[0] == MAX_WIDTH_IN
    assert {label.get_rotation() for label in many.get_xticklabels()} == {90.0}
    assert len(many.get_xticklabels()) == 50  # every class still named


def _units(effects):
    import xarray as xr

    n = len(effects)
    units = xr.Dataset({"snr": ("unit", np.linspace(0.5, 5, n)),
                        "removal_effect": ("unit", np.asarray(effects, dtype=float)),
                        "active_share": ("unit", np.ones(n))},
                       coords={"unit": [f"h0_{k}" for k in range(n)]})
    return xr.DataTree.from_dict({"/units": units})


def test_unit_stability_names_only_the_units_that_matter_most():
    # a (32, 32) network's 64 unit names were all written, on top of each other
    from pymc_bnn.errors import InvalidSettingError
    from pymc_bnn.reporting.stability_plots import unit_stability

    effects = np.r_[np.linspace(0.0, 0.1, 60), [0.9, np.nan, 0.5, 0.7]]
    ax = unit_stability(_units(effects), label_units=3)
    assert [text.get_text() for text in ax.texts] == ["h0_60", "h0_63", "h0_62"]
    plt.close("all")
    assert len(unit_stability(_units(effects)).texts) == 12
    plt.close("all")
    assert len(unit_stability(_units(effects), label_units=None).texts) == 64
    with pytest.raises(InvalidSettingError, match="label_units must be at least 0, got -1"):
        unit_stability(_units(effects), label_units=-1)
