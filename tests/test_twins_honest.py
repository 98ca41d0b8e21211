"""The honest-twin contract (``helpers.twins.engine`` module docstring), checked for every twin.

* no forcing: the declared baseline specifications (``SPECS``) estimated at the twin's own seed and
  three other seeds never return the published value (to 1e-6), and their estimates move across
  seeds by amounts consistent with their standard errors;
* the estimand is right: the mean of 200 redraws of the baseline estimate (the first of ``SPECS``)
  lies within 3 Monte Carlo SEs of the estimand in ``truth["rows"]`` (the twin's other rows within a
  family-wise 1 % bound), and 95 % intervals cover it at 95 % within Monte Carlo error, unless the
  twin module names the row in ``COVERAGE_EXCEPTIONS`` with a reason;
* replications are nested: the first columns of ``redraw(R)`` equal ``redraw(r < R)``;
* every compared published row carries a class, and the seed's rule is written down.
"""

from __future__ import annotations

import importlib
import math
import warnings
from functools import cache
from itertools import combinations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import yaml

from helpers.paths import SLUGS, slug_dir
from helpers.report import ROW_CLASSES, load_published
from helpers.twins import REGISTRY, load_twin
from helpers.twins.engine import Spec, Twin

OTHER_SEEDS = (1, 2, 3)
R_REDRAW = 200


def _module(slug: str):
    return importlib.import_module(f"helpers.twins.{REGISTRY[slug]}")


def _scale(slug: str) -> str:
    return getattr(_module(slug), "TEST_SCALE", "full")


@cache
def _twin(slug: str, seed: int | None) -> Twin:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return load_twin(slug, scale=_scale(slug), seed=seed)


def _fit(spec: Spec, twin: Twin) -> pd.DataFrame:
    fit = pf.feols(spec.formula, data=spec.data(twin), vcov=spec.vcov)
    return fit.tidy()


def _published_rows(slug: str, spec: Spec) -> pd.DataFrame:
    pub = load_published(slug)
    return pub[(pub["table"] == spec.table) & (pub["column"] == spec.column)].set_index("term")


@pytest.mark.parametrize("slug", SLUGS)
def test_twin_declares_specs_and_redraw(slug: str) -> None:
    module = _module(slug)
    specs = getattr(module, "SPECS", ())
    assert specs, f"{slug}: declare the baseline specifications in SPECS"
    assert all(isinstance(s, Spec) for s in specs)
    assert callable(getattr(module, "redraw", None)), f"{slug}: implement redraw(twin, R, seed)"
    pub = load_published(slug)
    for spec in specs:
        rows = _published_rows(slug, spec)
        assert not rows.empty, f"{slug}: SPECS key {spec.key} is not in published.yml"
        missing = [t for t in spec.terms if t not in rows.index]
        assert not missing, f"{slug}: {spec.key} terms {missing} are not published"
    assert pub["class"].isin(ROW_CLASSES).all(), (
        f"{slug}: published rows without a class: "
        f"{pub.loc[~pub['class'].isin(ROW_CLASSES), ['table', 'column', 'term']].values.tolist()}"
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_seed_rule_is_written_down(slug: str) -> None:
    cal = yaml.safe_load((slug_dir(slug) / "calibration.yml").read_text(encoding="utf-8"))
    assert isinstance(cal.get("seed"), int)
    rule = cal.get("seed_rule")
    assert isinstance(rule, str) and len(rule) > 20, f"{slug}: state the seed's rule in seed_rule"


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_no_forcing_across_seeds(slug: str) -> None:
    specs = _module(slug).SPECS
    seeds = (None, *OTHER_SEEDS)
    z_all = []
    for spec in specs:
        rows = _published_rows(slug, spec)
        est = {s: _fit(spec, _twin(slug, s)) for s in seeds}
        for pub_term, fit_term in spec.terms.items():
            b_pub = rows.loc[pub_term, "coef"]
            b = np.array([est[s].loc[fit_term, "Estimate"] for s in seeds])
            se = np.array([est[s].loc[fit_term, "Std. Error"] for s in seeds])
            if b_pub is not None and not pd.isna(b_pub):
                close = np.abs(b - b_pub) <= 1e-6
                assert not close.any(), (
                    f"{slug} {spec.key} {pub_term}: the estimate equals the published {b_pub} at "
                    f"seed(s) {[s for s, c in zip(seeds, close, strict=True) if c]}"
                )
            if rows.loc[pub_term, "class"] != "calibrated":
                continue
            for i, j in combinations(range(len(seeds)), 2):
                z = (b[i] - b[j]) / math.hypot(se[i], se[j])
                assert abs(z) < 6, (
                    f"{slug} {spec.key} {pub_term}: seeds {seeds[i]} and {seeds[j]} differ by "
                    f"{z:.1f} SEs"
                )
                z_all.append(z)
    if len(z_all) >= 6:
        rms = float(np.sqrt(np.mean(np.square(z_all))))
        # independent draws differ by about one SE of the difference; a forced twin by ~0
        assert 0.2 < rms < 3, f"{slug}: calibrated rows move {rms:.2f} SEs across seeds (RMS)"


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_redraws_center_on_the_estimand(slug: str) -> None:
    """Bias within 3 MC SEs for the baseline (the first of SPECS); the other rows of a twin are
    tested together at a family-wise level of 1 % (Bonferroni over the twin's rows), so that a twin
    with 25 correct rows does not fail by chance one time in twenty."""
    from scipy.stats import norm

    from helpers.design import diagnose, fit_many

    module = _module(slug)
    twin = _twin(slug, None)
    exceptions = getattr(module, "COVERAGE_EXCEPTIONS", {})
    draws = twin.redraw(R_REDRAW)
    n_rows = sum(len(spec.terms) for spec in module.SPECS)
    z_family = max(3.0, float(norm.ppf(1 - 0.01 / (2 * n_rows))))
    cover_se = math.sqrt(0.95 * 0.05 / R_REDRAW)  # MC SE of a 95 % coverage rate
    for i, spec in enumerate(module.SPECS):
        z = 3.0 if i == 0 else z_family
        data = spec.data(twin)
        frame = twin.panel if spec.frame == "panel" else twin.raw[spec.frame]
        pos = frame.index.get_indexer(data.index)
        ys = draws[spec.outcome][pos]
        sims = fit_many(data, spec.formula, ys, vcov=spec.vcov)
        truth = twin.truth_for(spec.table, spec.column)["estimand"]
        for pub_term, fit_term in spec.terms.items():
            assert pub_term in truth, f"{slug} {spec.key}: no estimand for {pub_term}"
            d = diagnose(sims[sims["term"] == fit_term], truth[pub_term]).iloc[0]
            assert abs(d["bias"]) <= z * d["mean_estimate_mcse"], (
                f"{slug} {spec.key} {pub_term}: mean of {R_REDRAW} redraws {d['mean_estimate']:.5g} "
                f"vs estimand {truth[pub_term]:.5g} ({d['bias'] / d['mean_estimate_mcse']:.1f} MC SEs; "
                f"bound {z:.2f})"
            )
            key = f"{spec.key}/{pub_term}"
            if key in exceptions:
                assert isinstance(exceptions[key], str) and exceptions[key]
                continue
            assert abs(d["coverage"] - 0.95) <= z * cover_se, (
                f"{slug} {key}: 95 % intervals cover the estimand in {d['coverage']:.3f} of "
                f"{R_REDRAW} redraws; fix the design or name it in COVERAGE_EXCEPTIONS with a reason"
            )


@pytest.mark.parametrize("slug", SLUGS)
def test_redraws_are_nested_and_seeded(slug: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        twin = load_twin(slug, scale="quick")
    a = twin.redraw(5, seed=11)
    b = twin.redraw(2, seed=11)
    c = twin.redraw(2, seed=12)
    assert set(a) == set(b) and a
    for name in a:
        np.testing.assert_array_equal(a[name][:, :2], b[name])
        assert not np.array_equal(b[name], c[name]), f"{slug}: redraw ignores its seed ({name})"
