"""Difference-in-differences toolkit: thin layers over pyfixest (and csdid / doubleml).

Public interface (each name lives in its own submodule and is imported on first use, so that
``import helpers.did`` stays cheap):

=====================  ==========================================================
``event_study``        leads and lags, binned end points, firm+year FE, clustered SE
``plot_event_study``   the event-study figure with the pre-trend F-test in the caption
``placebo_permutation``  randomization inference by re-assigning adoption years (fast FWL path)
``psm_did``            propensity-score matching, balance table and DiD on the matched sample
``staggered_did``      TWFE, Callaway-Sant'Anna, Sun-Abraham and imputation side by side
``bacon_decomposition``  Goodman-Bacon 2x2 comparisons and weights
``flci_sd``            Rambachan-Roth optimal fixed-length CI under smoothness (Delta-SD)
``bonferroni_ci_rm``   conservative CI under relative magnitudes (also ``projection_ci_rm``)
``identified_set_sd``  identified sets of a post-period effect (also ``identified_set_rm``)
``sensitivity``        robust intervals over a grid of M; ``breakdown_value`` the largest M
=====================  ==========================================================

Honest DiD (:mod:`helpers.did.honest`): no maintained Python package reproduces R ``HonestDiD``
here (``diff-diff`` 3.13's relative-magnitude bounds use a conservative interval instead of R's
conditional test; ``honestdid`` 0.1.1 needs torch and cvxpy), so the identified sets, the FLCI
(checked against R's numbers on the Benzarti-Carloni example) and two conservative intervals for
Delta-RM (Bonferroni, projection) are implemented here; R's conditional/hybrid tests are not.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "event_study": "event",
    "plot_event_study": "event",
    "EventStudyResult": "event",
    "placebo_permutation": "placebo",
    "PlaceboResult": "placebo",
    "psm_did": "psm",
    "PSMDiDResult": "psm",
    "staggered_did": "staggered",
    "StaggeredResult": "staggered",
    "bacon_decomposition": "bacon",
    "plot_bacon": "bacon",
    "FLCIResult": "honest",
    "flci_sd": "honest",
    "projection_ci_rm": "honest",
    "bonferroni_ci_rm": "honest",
    "identified_set_sd": "honest",
    "identified_set_rm": "honest",
    "sensitivity": "honest",
    "breakdown_value": "honest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access (PEP 562)."""
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'helpers.did' has no attribute {name!r}") from None
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
