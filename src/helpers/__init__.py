"""Shared helpers for *AI & the Chinese Economy: Executable Papers*.

Thin, tested layers over pyfixest, doubleml, pandas and matplotlib. Submodules are imported
explicitly (``from helpers import indices``) so that importing :mod:`helpers` stays cheap.

Modules
-------
paths        -- where the repository's data and build folders are
twins        -- simulated twins of the five papers' data, and the real-data loader
report       -- published | twin | truth compare tables and chapter scorecards
design       -- design analysis: one regression on many redrawn outcomes, diagnosands and agreement
did          -- event studies, placebo permutations, PSM-DID, staggered DiD, Bacon decomposition
mechanism    -- channel regressions and mediation
heterogeneity-- subgroup effects with difference tests
dml          -- double/debiased machine learning with panel fixed effects
indices      -- entropy weights, scatter-degree weights, coupling coordination
text         -- Chinese keyword frequencies from report text
patents      -- AI patent flags from IPC codes and keywords
trade        -- export domestic value-added (DVAR) from customs transactions
productivity -- total factor productivity (FE, Levinsohn-Petrin / ACF)
misallocation-- capital and labour wedges
inequality   -- Gini, Theil, Dagum Gini, kernel densities by year
spatial      -- Moran's I, spatial weights, gravity centre
"""

from __future__ import annotations

__version__ = "0.1.0"
