"""What an active-learning run leaves: `ActiveRound` per fit, `ActiveLearningRun` for the run.

Plain frozen records: `run_active_learning` fills them, nothing in them refits or rescores.
A run stopped by Ctrl-C or by an error after labels were gathered is still a whole record
(`interrupted`, `error`), and `ActiveLearningRun.to_dict` is its JSON-able form (without the
posterior).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ActiveRound:
    """One round: the fit on `n_labelled` labels, its held-out accuracy, the batch it asked for.

    Parameters
    ----------
    round : int
        0 for the first fit.
    n_labelled : int
        Labels the round's fit used.
    accuracy : float or None
        Held-out accuracy of the round's fit; None without a test set.
    chosen : tuple of int, default ()
        Pool indices sent for labelling at the end of the round (empty in the last round).
    timings : dict, optional
        Seconds for "fit_s", "evaluate_s", "score_s" (scoring + batch choice), "label_s".

    Examples
    --------
    >>> ActiveRound(round=0, n_labelled=10, accuracy=0.8, chosen=(4, 7))
    ActiveRound(round=0, n_labelled=10, accuracy=0.8, chosen=(4, 7), timings={})
    """

    round: int
    n_labelled: int
    accuracy: float | None
    chosen: tuple[int, ...] = ()
    timings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ActiveLearningRun:
    """What a loop did: labelled pool indices in labelling order, their labels, the rounds.

    Parameters
    ----------
    acquisition : str
        The acquisition's name.
    labelled : tuple of int
        Pool indices in the order they were labelled.
    labels : tuple
        Their labels, in the same order.
    rounds : tuple of ActiveRound
        One per fit.
    interrupted : bool, default False
        Ctrl-C stopped the loop; the rounds are those finished (a round whose batch was not
        labelled has no `chosen`).
    error : Exception, optional
        The error that stopped the loop after labels were gathered (a fit refusing a label,
        a labelling callback that failed); the rounds are those finished, as for Ctrl-C.
        `raise run.error` shows its traceback.
    settings : dict, optional
        The loop's settings (batch size, budget, ...), for records.
    posterior : Posterior, optional
        The last round's fit (not part of `to_dict`).

    Examples
    --------
    >>> run = ActiveLearningRun(
    ...     acquisition="bald", labelled=(3, 1, 4), labels=(0, 1, 1),
    ...     rounds=(ActiveRound(0, 2, 0.7, chosen=(4,)), ActiveRound(1, 3, 0.9)))
    >>> run.labels_used, run.accuracies
    (array([2, 3]), array([0.7, 0.9]))
    >>> run.to_dict()["rounds"][0]
    {'round': 0, 'n_labelled': 2, 'accuracy': 0.7, 'chosen': [4], 'timings': {}}
    """

    acquisition: str
    labelled: tuple[int, ...]
    labels: tuple
    rounds: tuple[ActiveRound, ...]
    interrupted: bool = False
    settings: dict = field(default_factory=dict)
    posterior: object = field(default=None, repr=False)
    error: Exception | None = field(default=None, repr=False)

    @property
    def labels_used(self) -> np.ndarray:
        """Number of labels each round's fit used (n_rounds,)."""
        return np.array([r.n_labelled for r in self.rounds], dtype=np.int64)

    @property
    def accuracies(self) -> np.ndarray:
        """Held-out accuracy per round (n_rounds,); NaN where no test set was given."""
        return np.array([np.nan if r.accuracy is None else r.accuracy for r in self.rounds])

    def to_dict(self) -> dict:
        """A JSON-able record (no posterior; the error, if any, as its type and message)."""
        return {
            "acquisition": self.acquisition,
            "labelled": [int(i) for i in self.labelled],
            "labels": np.asarray(self.labels).tolist(),
            "rounds": [{"round": r.round, "n_labelled": r.n_labelled, "accuracy": r.accuracy,
                        "chosen": [int(i) for i in r.chosen], "timings": dict(r.timings)}
                       for r in self.rounds],
            "interrupted": self.interrupted,
            "error": None if self.error is None else f"{type(self.error).__name__}: {self.error}",
            "settings": dict(self.settings),
        }
