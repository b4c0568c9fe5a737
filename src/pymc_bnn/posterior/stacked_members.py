"""The models a stacked fit can hold, and the one table of words that names them.

A stacking (`pymc_bnn.posterior.stacking`) mixes a network with other models of the same rows:
its GLM (`"linear"`) and its heteroscedastic twin (`"heteroscedastic"`). Progress bars,
warnings, the convergence check, reports and the stability page all name those models; they
take the words from `MEMBER_WORDS` here, so that a new member is named in one place. The module
imports nothing of the package, so every layer that names members may import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MemberWords:
    """How messages name one member of a stacking.

    Parameters
    ----------
    noun : str
        The member without an article: "linear model". Warnings say "the {noun}'s fit", the
        convergence check "{noun}'s fit settled", reports "a {noun}".
    title : str
        The member as a progress line or an interruption names it: "the linear model (GLM)".

    Examples
    --------
    >>> MEMBER_WORDS["linear"].fit
    "the linear model's fit"
    """

    noun: str
    title: str

    @property
    def fit(self) -> str:
        """What a warning or a check is about: "the {noun}'s fit"."""
        return f"the {self.noun}'s fit"


# The members a stacking can hold, in the order their draws are kept: the network first.
MEMBERS = ("network", "linear", "heteroscedastic")

MEMBER_WORDS = {
    "network": MemberWords("network", "the network"),
    "linear": MemberWords("linear model", "the linear model (GLM)"),
    "heteroscedastic": MemberWords("heteroscedastic network", "the heteroscedastic network"),
}


def stacked_with(stacking: dict) -> list[str]:
    """The names of the members a stacked fit's network was stacked with.

    Parameters
    ----------
    stacking : dict
        A stacked fit's `settings["stacking"]`: its `weights` by member name and the name of
        its `network`.

    Returns
    -------
    list of str
        The other members' names, in the order of the weights.

    Examples
    --------
    >>> stacked_with({"network": "network", "weights": {"network": 0.6, "linear": 0.4}})
    ['linear']
    """
    return [name for name in stacking["weights"] if name != stacking.get("network")]


def stacked_models_words(names) -> str:
    """The models a stacked fit's network was stacked with, in words.

    Parameters
    ----------
    names : iterable of str
        The other members' names (`stacked_with`'s list, or a stability page's `stacked_with`
        attribute split at its commas).

    Returns
    -------
    str
        "a {noun}" per member joined as a sentence lists them; a name not in `MEMBER_WORDS`
        (a file from a newer version) is quoted as it is.

    Examples
    --------
    >>> stacked_models_words(["linear", "heteroscedastic"])
    'a linear model and a heteroscedastic network'
    >>> stacked_models_words(["glm"])
    "the model 'glm'"
    """
    words = [f"a {MEMBER_WORDS[name].noun}" if name in MEMBER_WORDS else f"the model {name!r}"
             for name in names]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 2 else words)
