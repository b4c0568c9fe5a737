"""The active-learning loop: calls the labelling callback, grows the labelled set, keeps records."""

import json

import numpy as np
import pytest

from pymc_bnn.active.loop import oracle, run_active_learning
from pymc_bnn.active.records import ActiveLearningRun
from pymc_bnn.errors import InvalidInputError, InvalidSettingError


class FakePosterior:
    """Bootstrap nearest-centroid classifier: per-draw probabilities (S, n, 2), fast."""

    def __init__(self, X, y, seed, init):
        rng = np.random.default_rng(seed)
        self.init = init
        self.n_fitted = len(y)
        self.centroids = []
        for _ in range(16):
            rows = rng.integers(0, len(y), len(y))
            Xb, yb = X[rows], y[rows]
            self.centroids.append([Xb[yb == k].mean(axis=0) if (yb == k).any() else X.mean(0)
                                   for k in (0, 1)])
        self.interrupted = False
        self.preprocessing = {}

    def predictive_draws(self, X, max_draws=None):
        probs = []
        for c0, c1 in self.centroids:
            d = ((X - c0) ** 2).sum(1) - ((X - c1) ** 2).sum(1)
            p = 1 / (1 + np.exp(-2 * d))
            probs.append(np.stack([1 - p, p], axis=-1))
        return {"probs": np.array(probs)}


def fake_fit(calls):
    def fit(X, y, *, init=None, random_seed=0):
        calls.append((X.shape, init, random_seed))
        return FakePosterior(X, y, random_seed, init)

    return fit


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-1, 1, (100, 2)), rng.normal(1, 1, (100, 2))])
    y = np.repeat([0, 1], 100)
    return X, y


def test_loop_asks_the_callback_and_grows_the_labelled_set(blobs):
    X, y = blobs
    asked, calls = [], []

    def label(indices, rows):
        asked.append(list(indices))
        assert np.array_equal(rows, X[indices])  # the callback sees the points it must label
        return y[indices]

    run = run_active_learning(X[:150], label, initial=[0, 1, 2, 100, 101], batch_size=5,
                              budget=20, fit=fake_fit(calls), X_test=X[150:], y_test=y[150:],
                              progress=False)
    assert isinstance(run, ActiveLearningRun)
    assert asked[0] == [0, 1, 2, 100, 101] and len(asked) == 4
    assert run.labels_used.tolist() == [5, 10, 15, 20]
    assert [shape[0] for shape, _, _ in calls] == [5, 10, 15, 20]
    # warm start: each fit after the first gets the previous round's posterior
    assert calls[0][1] is None and calls[1][1] is not None and calls[1][1].n_fitted == 5
    assert len(set(run.labelled)) == 20 and list(run.labels) == y[list(run.labelled)].tolist()
    assert [list(r.chosen) for r in run.rounds[:-1]] == asked[1:] and run.rounds[-1].chosen == ()
    assert np.all((run.accuracies > 0.5) & (run.accuracies <= 1.0))
    assert not run.interrupted and run.posterior.n_fitted == 20
    record = json.loads(json.dumps(run.to_dict()))
    assert record["rounds"][0]["timings"]["fit_s"] >= 0 and record["acquisition"] == "bald"


def test_ctrl_c_keeps_the_rounds_done(blobs):
    X, y = blobs
    answered = []

    def impatient(indices, rows):
        if len(answered) == 3:
            raise KeyboardInterrupt
        answered.append(indices)
        return y[indices]

    run = run_active_learning(X, impatient, initial=4, batch_size=4, budget=40,
                              acquisition="entropy", fit=fake_fit([]), progress=False)
    assert run.interrupted
    assert run.labels_used.tolist() == [4, 8, 12]
    assert len(run.labelled) == len(run.labels) == 12
    assert run.rounds[-1].chosen == ()  # its batch was never labelled


def test_bald_picks_near_the_boundary_and_random_does_not(blobs):
    X, y = blobs
    kwargs = dict(initial=[0, 1, 100, 101], batch_size=10, budget=14, fit=fake_fit([]),
                  progress=False)
    bald_run = run_active_learning(X, oracle(y), acquisition="bald", **kwargs)
    random_run = run_active_learning(X, oracle(y), acquisition="random", batch_rule="top",
                                     **kwargs)
    def distance(run):
        return np.abs(X[list(run.rounds[0].chosen)].sum(axis=1)).mean()
    assert distance(bald_run) < 0.6 * distance(random_run)


def test_bad_settings_and_bad_callbacks():
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(InvalidSettingError, match="initial must list distinct"):
        run_active_learning(X, oracle(np.zeros(30)), initial=[1, 1], progress=False)
    with pytest.raises(InvalidSettingError, match="batch_size"):
        run_active_learning(X, oracle(np.zeros(30)), batch_size=0, progress=False)
    with pytest.raises(InvalidInputError, match="one label per requested point"):
        run_active_learning(X, lambda i, rows: [0], initial=3, fit=fake_fit([]), progress=False)


@pytest.mark.parametrize(("setting", "message"), [
    ({"acquisition": "bal"}, "unknown acquisition 'bal'"),
    ({"acquisition": 3}, "acquisition must be a name"),
    ({"batch_rule": "diversee"}, "unknown batch rule 'diversee'"),
    ({"batch_size": 2.5}, "batch_size must be a whole number"),
    ({"budget": 9.5}, "budget must be a whole number"),
    ({"initial": 2.5}, "initial must be a whole number"),
    ({"max_draws": 0}, "max_draws must be at least 1"),
    ({"random_seed": -1}, "random_seed must be at least 0"),
])
def test_a_bad_setting_is_refused_before_anyone_labels_or_fits(setting, message):
    # a person labelling the first points would lose them to an error after the first fit
    X = np.random.default_rng(0).normal(size=(30, 2))
    asked, calls = [], []

    def label(indices, rows):
        asked.append(list(indices))
        return np.zeros(len(indices))

    settings = {"initial": 4, "batch_size": 3, "budget": 10} | setting
    with pytest.raises(InvalidSettingError, match=message):
        run_active_learning(X, label, fit=fake_fit(calls), progress=False, **settings)
    assert asked == [] and calls == []


def test_a_fit_stopped_by_ctrl_c_ends_the_loop_after_recording_its_round(blobs):
    X, y = blobs
    calls = []
    base = fake_fit(calls)

    def fit(X_fit, y_fit, *, init=None, random_seed=0):
        posterior = base(X_fit, y_fit, init=init, random_seed=random_seed)
        posterior.interrupted = len(calls) == 2  # the engine caught Ctrl-C in the second fit
        return posterior

    run = run_active_learning(X, oracle(y), initial=5, batch_size=5, budget=50, fit=fit,
                              X_test=X, y_test=y, progress=False)
    assert run.interrupted and len(calls) == 2
    assert run.labels_used.tolist() == [5, 10] and run.rounds[-1].chosen == ()
    assert len(run.labelled) == 10 and np.isfinite(run.accuracies).all()


def test_a_regression_fit_is_refused_in_words_not_with_a_key_error(blobs):
    # acquisition scores class probabilities: a regressor's draws have none ('probs' KeyError
    # after the first labels and fit)
    from pymc_bnn.active.fitter import BNNFitter
    from pymc_bnn.active.loop import held_out_accuracy

    X, y = blobs
    asked = []

    def label(indices, rows):
        asked.append(list(indices))
        return y[indices]

    with pytest.raises(InvalidSettingError, match="needs a classifier.*likelihood is 'gaussian'"):
        run_active_learning(X, label, fit=BNNFitter(likelihood="gaussian"), progress=False)
    assert asked == []

    class Regression(FakePosterior):
        def predictive_draws(self, X, max_draws=None):
            return {"mean": super().predictive_draws(X)["probs"][..., 1]}

    def regression_fit(X_fit, y_fit, *, init=None, random_seed=0):
        return Regression(X_fit, y_fit, random_seed, init)

    # after the first labels, the loop stops with a warning and keeps them
    with pytest.warns(UserWarning, match="class probabilities.*has mean.*all 4 labels"):
        run = run_active_learning(X, label, initial=4, budget=10, fit=regression_fit,
                                  progress=False)
    assert isinstance(run.error, InvalidInputError) and len(run.labels) == 4
    with pytest.raises(InvalidInputError, match="class probabilities.*has mean"):
        held_out_accuracy(regression_fit(X, y), X, y)


@pytest.mark.parametrize(("settings", "message"), [
    ({"method": "advii"}, "unknown inference method 'advii'"),
    ({"draws": 0}, "draws must be at least 1"),
    ({"options": {"stepz": 100}}, r"unknown option\(s\) \['stepz'\] for advi"),
    ({"options": {"steps": -1}}, "steps must be at least 1"),
    ({"activation": "tanhh"}, "unknown activation 'tanhh'"),
    ({"likelihood": "gausian"}, "unknown likelihood 'gausian'"),
])
def test_a_fitter_checks_its_settings_when_made_not_after_the_first_labels(settings, message):
    # each of these failed inside the first fit, after a person had labelled the first points
    from pymc_bnn.active.fitter import BNNFitter

    with pytest.raises(InvalidSettingError, match=message):
        BNNFitter(**({"method": "advi"} | settings))


def test_a_fit_that_fails_on_later_labels_keeps_every_label_gathered(blobs):
    # a person typed "cat"/"dog" in round 2: the fit raised out of the loop and the 8 labels
    # typed before were lost with it
    from pymc_bnn.active.fitter import BNNFitter

    X, y = blobs
    calls = []
    base = fake_fit(calls)
    words = np.array(["cat", "dog"])

    def person(indices, rows):
        return y[indices] if len(calls) < 2 else words[y[indices]]

    def fit(X_fit, y_fit, *, init=None, random_seed=0):
        if y_fit.dtype.kind not in "iu":
            return BNNFitter()(X_fit, y_fit)  # the default fitter refuses the words
        return base(X_fit, y_fit, init=init, random_seed=random_seed)

    with pytest.warns(UserWarning, match=(r"stopped after 2 round.*InvalidInputError: the "
                                          r"bernoulli likelihood needs labels 0 and 1.*12 labels")):
        run = run_active_learning(X, person, initial=4, batch_size=4, budget=40, fit=fit,
                                  progress=False)
    assert not run.interrupted and isinstance(run.error, InvalidInputError)
    assert run.labels_used.tolist() == [4, 8] and run.rounds[-1].chosen == run.labelled[8:]
    assert len(run.labelled) == len(run.labels) == 12
    assert list(run.labels[8:]) == words[y[list(run.labelled[8:])]].tolist()
    assert run.to_dict()["error"].startswith("InvalidInputError: the bernoulli likelihood")


def test_a_stopped_run_goes_on_from_its_labels_without_asking_for_them_again(blobs):
    """After an error or Ctrl-C kept the labels, going on meant passing initial=run.labelled,
    and the callback asked the person for every one of them again."""
    X, y = blobs
    asked = []

    def person(indices, rows):
        asked.append([int(i) for i in indices])
        return y[indices]

    first = run_active_learning(X, person, initial=4, batch_size=4, budget=12,
                                fit=fake_fit([]), progress=False)
    asked.clear()
    typed = np.where(y == 1, 1, 0)[list(first.labelled)]  # what the person answered
    go_on = run_active_learning(X, person, initial=first.labelled, initial_labels=first.labels,
                                batch_size=4, budget=20, fit=fake_fit([]), progress=False)
    assert len(asked) == 2 and not set(sum(asked, [])) & set(first.labelled)  # only new points
    assert go_on.labelled[:12] == first.labelled and list(go_on.labels[:12]) == typed.tolist()
    assert go_on.labels_used.tolist() == [12, 16, 20]
    with pytest.raises(InvalidSettingError, match=r"one label per initial index \(12\), got 3"):
        run_active_learning(X, person, initial=first.labelled, initial_labels=[0, 1, 0],
                            fit=fake_fit([]), progress=False)
    with pytest.raises(InvalidSettingError, match=r"list those indices in initial"):
        run_active_learning(X, person, initial=4, initial_labels=[0, 1, 0, 1],
                            fit=fake_fit([]), progress=False)


def test_an_error_before_any_label_is_raised_as_it_is():
    X = np.random.default_rng(0).normal(size=(30, 2))

    def broken(indices, rows):
        raise RuntimeError("the labelling window did not open")

    with pytest.raises(RuntimeError, match="did not open"):
        run_active_learning(X, broken, initial=3, fit=fake_fit([]), progress=False)


@pytest.mark.parametrize(("initial", "message"), [
    ([1.5, 2], r"initial must list whole pool indices, got 1\.5 \(at position 0\)"),
    ([0, True], r"whole pool indices, got True \(at position 1\)"),
    ([0, "a"], r"whole pool indices, got 'a' \(at position 1\)"),
    ([0, "3"], r"whole pool indices, got '3' \(at position 1\)"),  # was taken as index 3
    ([3, 30, -1], r"initial lists indices outside the pool's 0 … 29: 30, -1"),
    ([4, 1, 4, 1, 4], r"initial must list distinct pool indices, but repeats 4, 1"),
    ([], r"initial lists no pool index"),
])
def test_initial_indices_are_refused_naming_the_bad_ones(initial, message):
    # [1.5, 2] was cut down to [1, 2] by int() without a word
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(InvalidSettingError, match=message):
        run_active_learning(X, oracle(np.zeros(30)), initial=initial, fit=fake_fit([]),
                            progress=False)


def test_whole_float_indices_are_indices():
    X = np.random.default_rng(0).normal(size=(30, 2))
    run = run_active_learning(X, oracle(np.zeros(30)), initial=np.array([3.0, 7.0]),
                              budget=2, fit=fake_fit([]), progress=False)
    assert run.labelled == (3, 7)
