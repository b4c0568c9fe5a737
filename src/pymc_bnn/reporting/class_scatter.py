"""A classifier's points over two inputs: one colour per class, scatter plots of labels.

`class_styles` gives each class its colour and legend name, so every figure of classes
(these scatter plots and the maps of `pymc_bnn.reporting.class_maps`) colours a class alike.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.reporting.canvas import axes_for

CLASS_COLORS = ("#1f77b4", "#d62728")
# after the two classes of CLASS_COLORS, the rest of matplotlib's tab10 (C0 and C3 are those two)
_MORE_CLASS_COLORS = ("C2", "C1", "C4", "C5", "C6", "C7", "C8", "C9")


def class_styles(y, names=None) -> list[tuple[np.ndarray, str, str]]:
    """One `(mask, colour, legend name)` per class in `y`, for scatter plots.

    Every class gets its own entry, whatever its labels (0/1, 1/2, text, more than two), so no
    point is left out of a figure. Whole-number labels 0 … 9 take slot k for label k, so class 1
    keeps its colour and name where class 0 is absent (a test split, one group); other labels
    take their sorted position. Slots 0 and 1 are `CLASS_COLORS`, later ones the rest of tab10
    (cycled past ten classes).

    Parameters
    ----------
    y : array-like
        `(n,)` class labels.
    names : sequence of str, optional
        The legend's names, by slot: `names[k]` for label k (0 … 9), else for the k-th label
        in sorted order; default "class 0", "class 1", … for numbers and the labels
        themselves for text.

    Returns
    -------
    list of (numpy.ndarray, str, str)
        The boolean mask `(n,)` of each class's points, its colour and its name.

    Raises
    ------
    InvalidInputError
        When `names` does not name every class.

    Examples
    --------
    >>> [(int(mask.sum()), colour, name) for mask, colour, name in class_styles([1, 2, 2])]
    [(1, '#d62728', 'class 1'), (2, 'C2', 'class 2')]
    """
    y = np.asarray(y)
    classes = np.unique(y)
    numeric = classes.dtype.kind in "iuf" and classes.size > 0
    colours = CLASS_COLORS + _MORE_CLASS_COLORS
    whole = numeric and classes.min() >= 0 and bool(np.all(classes == np.round(classes)))
    # by value only while every value has its own colour (labels 0 and 10 must not share one)
    by_value = whole and classes.max() < len(colours)
    slots = classes.astype(int) if by_value else np.arange(classes.size)
    if names is None:  # 1.0 is "class 1"
        names = {slot: f"class {int(c)}" if whole else str(c) if isinstance(c, str)
                 else f"class {c}" for slot, c in zip(slots, classes, strict=True)}
    elif slots.size and len(names) <= slots.max():
        raise InvalidInputError(
            f"labels names {len(names)} class(es) but the data's classes "
            f"({', '.join(str(c) for c in classes[:10])}) need {slots.max() + 1} names; give "
            "one per class (labels[k] for class k, else in sorted order), or leave labels out")
    return [(y == c, colours[slot % len(colours)], str(names[slot]))
            for slot, c in zip(slots, classes, strict=True)]


def scatter_classes(X, y, *, ax=None, title="Training data", labels=None):
    """Points coloured by class.

    Parameters
    ----------
    X : numpy.ndarray
        `(n, 2)`.
    y : array-like
        `(n,)` class labels: 0/1, text, any number of classes.
    ax : matplotlib Axes, optional
        Drawn on; a new figure's by default.
    title : str, default "Training data"
    labels : sequence of str, optional
        The legend's names of the classes, as `class_styles`' names: `labels[k]` for label k
        (0 … 9), else in the labels' sorted order; default "class 0", "class 1", … (text
        labels name themselves).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = scatter_classes(tiny_data.X_train, tiny_data.y_train, labels=("lower", "upper"))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['lower', 'upper']
    """
    ax = axes_for(ax)
    for mask, color, name in class_styles(y, labels):
        ax.scatter(X[mask, 0], X[mask, 1], s=12, color=color, label=name, alpha=0.8,
                   edgecolors="none")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False)
    return ax


def predicted_labels(X, y_true, proba, *, ax=None, title="Predicted labels on the test set",
                     classes=None):
    """Test points coloured by predicted class; misclassified points ringed in black.

    Parameters
    ----------
    X : numpy.ndarray
        `(n, 2)`.
    y_true : array-like
        `(n,)` class indices, or labels with `classes`.
    proba : array-like
        `(n,)` P(y = 1) (above 0.5 predicts 1), or class probabilities `(n, K)` (the largest
        predicts), e.g. `predict_proba`'s output.
    ax : matplotlib Axes, optional
    title : str
    classes : sequence, optional
        The class labels in column order (e.g. `estimator.classes_`); they name the legend.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidInputError
        Labels that are not class indices without `classes`, or probabilities that are not.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    >>> ax = predicted_labels(X, [0, 1, 1], [0.2, 0.9, 0.3])
    >>> ax.get_legend().get_texts()[-1].get_text()
    'misclassified (1)'
    """
    from pymc_bnn.posterior.classification_metrics import check_classification

    codes, proba = check_classification(y_true, proba, classes)
    predicted = (proba > 0.5).astype(int) if proba.ndim == 1 else proba.argmax(axis=1)
    n_classes = 2 if proba.ndim == 1 else proba.shape[1]
    names = [str(c) for c in classes] if classes is not None else [str(k) for k in range(n_classes)]
    colours = CLASS_COLORS + _MORE_CLASS_COLORS
    ax = axes_for(ax)
    for k in range(n_classes):
        mask = predicted == k
        if mask.any() or n_classes == 2:  # two classes: both always in the legend
            ax.scatter(X[mask, 0], X[mask, 1], s=14, color=colours[k % len(colours)],
                       label=f"predicted {names[k]}", edgecolors="none", alpha=0.85)
    wrong = predicted != codes
    ax.scatter(X[wrong, 0], X[wrong, 1], s=50, facecolors="none", edgecolors="black", lw=1.0,
               label=f"misclassified ({int(wrong.sum())})")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False)
    return ax


def labelled_points(X_pool, y_pool, labelled, *, ax=None, title="Points chosen for labelling"):
    """The pool in light grey and the labelled points coloured by class.

    Parameters
    ----------
    X_pool : numpy.ndarray
        `(n, 2)`.
    y_pool : array-like
        `(n,)` class labels.
    labelled : sequence of int
        Pool indices in the order they were labelled (e.g. `ActiveLearningRun.labelled`).
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = labelled_points(tiny_data.X_train, tiny_data.y_train, labelled=[0, 5, 9])
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['pool', 'labelled, class 0', 'labelled, class 1']
    """
    ax = axes_for(ax)
    ax.scatter(X_pool[:, 0], X_pool[:, 1], s=6, color="0.85", edgecolors="none", label="pool")
    labelled = np.asarray(labelled, dtype=int)
    is_labelled = np.zeros(len(X_pool), dtype=bool)
    is_labelled[labelled] = True
    # colours from every pool class, so a class keeps its colour whichever were labelled
    for mask, color, name in class_styles(y_pool):
        chosen = mask & is_labelled
        ax.scatter(X_pool[chosen, 0], X_pool[chosen, 1], s=22, color=color,
                   edgecolors="black", lw=0.4, label=f"labelled, {name}")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax

