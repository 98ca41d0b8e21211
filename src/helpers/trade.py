r"""Firm export domestic value-added ratio (DVAR) from customs transactions, in DuckDB SQL.

The customs side (tens of millions of transaction rows) is aggregated by DuckDB, out of core, from a
pandas frame or from Parquet files; only the firm-year aggregates come back to pandas, where they meet the
firm accounts (industrial-enterprise survey) and the formula.

Steps (Upward, Wang & Zheng 2013; 张杰、陈志远、刘元春 2013; Kee & Tang 2016; spec ai-export-upgrading §5
eq. (2)/(2′) and §7):

1. **Trade regimes.** Each transaction is processing (进料/来料加工), ordinary (一般贸易) or other
   (bonded warehousing, etc.). Exports :math:`X` count all regimes; :math:`X^o` / :math:`X^p` the
   ordinary / processing ones. Imports under other regimes are not used.
2. **Intermediate imports** are ordinary imports of goods in the BEC Rev.4 intermediate categories
   (111, 121, 21, 22, 31, 322, 42, 53). Processing imports are intermediates by definition (all of them).
   HS codes map to BEC through the shipped coarse rule file (``resources/hs_bec_rules.csv``, chapter and
   heading level, with its source) or a table you pass (the official HS6→BEC correspondence for real data).
3. **Trading intermediaries** (firms whose names contain 进出口, 经贸, 贸易, 科贸, 外经, 外贸, 商贸, or a flag
   column) import on behalf of producers (Ahn, Khandelwal & Wei 2011). With :math:`m_{k}` the
   intermediaries' share of national imports of HS6 product :math:`k` in the year and regime, a producer's
   "actual" imports are :math:`\sum_k M_k/(1-m_k)`; intermediaries themselves are dropped.
4. **Formula** (``variant``), with :math:`M^P_A` actual processing imports, :math:`M^o_{AM}` actual ordinary
   intermediate imports, :math:`D` domestic sales (sales − exports, floored at 0), :math:`M^T` total
   intermediate inputs, :math:`NFA` net fixed assets, :math:`\delta` = ``domestic_content`` (0.05, the
   foreign content of domestically purchased inputs) and :math:`c` = ``capital_coef`` (0.0417):

   .. math::
      F = M^P_A + X^o \frac{M^o_{AM}}{D + X^o},\qquad s_X = \frac{X}{X + D},\qquad
      M^{dom} = \max(M^T - M^P_A - M^o_{AM},\ 0)

   * ``"default"``: :math:`FVA = F + s_X\,(\delta\,M^{dom} + c\,NFA)`. The accounting principle of
     Kee & Tang (2016) and Upward, Wang & Zheng (2013): foreign value added in exports is the foreign
     content of the inputs *used to make the exports*. Processing imports serve processing exports
     only (charged in full); ordinary intermediate imports serve ordinary exports and domestic sales
     (charged by :math:`X^o/(D+X^o)`); domestically purchased inputs (total inputs less all imported
     intermediates) and the capital stock serve all of the firm's output, so their foreign content is
     charged by the export share of sales :math:`s_X`. For a pure exporter (:math:`D=0`) this is Kee
     and Tang's processing-firm formula;
   * ``"unallocated"`` (spec eq. (2′) as written, signs made consistent):
     :math:`FVA = F + \delta\,(M^T - F) + c\,NFA` charges the foreign content of *all* domestic
     inputs and of the whole capital stock to exports, and counts the ordinary imports used for
     domestic sales as domestic inputs; it understates DVAR the more a firm sells at home;
   * ``"as_printed"`` (the paper's printed formula, eq. (2)): :math:`FVA = F - \delta\,(M^T - F) - c\,NFA`
     (subtracting foreign content pushes DVAR above 1 for non-importers; shown for comparison only);
   * ``"kee_tang_basic"``: :math:`FVA = F` with *unadjusted* imports (no intermediary, domestic-content
     or capital terms; Upward et al. 2013 type). This is the spec's ``DVAR_alt``.

   and :math:`DVAR = 1 - FVA/X`.
5. **Range.** DVAR outside (0, 1] signals data problems (imports larger than exports, bad matches).
   ``out_of_range="drop"`` (default, the spec's rule "keep 0 < DVAR ≤ 1") drops those firm-years,
   ``"clip"`` clips to [0, 1], ``"keep"`` returns the raw ratio. The count is in ``result.attrs``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "INTERMEDIARY_PATTERN",
    "INTERMEDIATE_BEC",
    "VARIANTS",
    "bec_intermediate",
    "dvar",
    "load_hs_bec_rules",
]

VARIANTS = ("default", "unallocated", "as_printed", "kee_tang_basic")
INTERMEDIATE_BEC: frozenset[str] = frozenset({"111", "121", "21", "22", "31", "322", "42", "53"})
"""BEC Rev.4 codes of intermediate goods (UN Statistics Division 2002, Annex)."""

INTERMEDIARY_PATTERN = "进出口|经贸|贸易|科贸|外经|外贸|商贸"
"""Firm-name fragments of trading intermediaries (Ahn, Khandelwal & Wei 2011; 张杰等 2013)."""

PROCESSING_VALUES = (
    "processing",
    "进料加工",
    "来料加工",
    "进料加工贸易",
    "来料加工装配贸易",
    "14",
    "15",
)
ORDINARY_VALUES = ("ordinary", "一般贸易", "10")
IMPORT_VALUES = ("import", "m", "i", "进口", "1")
EXPORT_VALUES = ("export", "x", "e", "出口", "0")
DOMESTIC_CONTENT = 0.05
CAPITAL_COEF = 0.0417


# ----------------------------------------------------------------------------------------------
# HS -> BEC
# ----------------------------------------------------------------------------------------------
def load_hs_bec_rules() -> pd.DataFrame:
    """Return the shipped coarse HS→BEC rules (columns ``hs_prefix``, ``bec``, ``description``).

    Examples
    --------
    >>> load_hs_bec_rules().set_index("hs_prefix").loc["8542", "bec"]
    '42'
    """
    with resources.as_file(resources.files("helpers") / "resources" / "hs_bec_rules.csv") as path:
        return pd.read_csv(path, comment="#", dtype=str)


def bec_intermediate(
    hs6: Sequence[str] | pd.Series, mapping: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Map HS6 codes to BEC codes by longest prefix and flag the intermediates.

    Parameters
    ----------
    hs6 : sequence of str
        Six-digit HS codes (strings, leading zeros kept).
    mapping : DataFrame, optional
        Columns ``hs_prefix`` (or ``hs6``) and ``bec``; default the shipped rules.

    Returns
    -------
    pandas.DataFrame
        Columns ``hs6``, ``bec`` and ``is_intermediate``, one row per distinct code.

    Raises
    ------
    ValueError
        If a code matches no rule, or the mapping lacks its columns.

    Examples
    --------
    >>> bec_intermediate(["120190", "870323", "854231"])["is_intermediate"].tolist()
    [True, False, True]
    """
    rules = load_hs_bec_rules() if mapping is None else mapping.copy()
    if "hs_prefix" not in rules.columns and "hs6" in rules.columns:
        rules = rules.rename(columns={"hs6": "hs_prefix"})
    if not {"hs_prefix", "bec"} <= set(rules.columns):
        raise ValueError("the HS->BEC mapping needs columns 'hs_prefix' (or 'hs6') and 'bec'")
    rules = rules.assign(
        hs_prefix=rules["hs_prefix"].astype(str).str.strip(),
        bec=rules["bec"].astype(str).str.strip(),
    )
    table = dict(zip(rules["hs_prefix"], rules["bec"], strict=True))
    lengths = sorted({len(p) for p in table}, reverse=True)
    codes = pd.Series(pd.unique(pd.Series(list(hs6), dtype=str)), dtype=str)
    bec = pd.Series(pd.NA, index=codes.index, dtype=object)
    for n in lengths:
        todo = bec.isna()
        bec[todo] = codes[todo].str[:n].map(table)
    unmapped = codes[bec.isna()]
    if len(unmapped):
        raise ValueError(
            f"{len(unmapped)} HS codes match no HS->BEC rule, e.g. {unmapped.head(5).tolist()}; add them "
            "to the mapping (intermediate=DataFrame with hs_prefix, bec) or fix the codes"
        )
    return pd.DataFrame(
        {"hs6": codes, "bec": bec.astype(str), "is_intermediate": bec.isin(INTERMEDIATE_BEC)}
    )


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + str(v).lower().replace("'", "''") + "'" for v in values)


def _source(con: Any, transactions: Any) -> str:
    """Register the transactions and return a SQL relation for them."""
    if isinstance(transactions, pd.DataFrame):
        if transactions.empty:
            raise ValueError("the transaction frame is empty")
        con.register("tx_input", transactions)
        return "tx_input"
    paths = [transactions] if isinstance(transactions, str | Path) else list(transactions)
    if not paths:
        raise ValueError("no transaction files given")
    for p in paths:
        if not any(ch in str(p) for ch in "*?[") and not Path(p).exists():
            raise ValueError(f"transaction file {str(p)!r} does not exist")
    listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{listed}])"


def _check_columns(available: Sequence[str], needed: Mapping[str, str], where: str) -> None:
    missing = {role: col for role, col in needed.items() if col not in available}
    if missing:
        raise ValueError(
            f"{where} lacks columns {missing} (role: expected name); it has {list(available)}. "
            "Pass the right names through the *_col arguments"
        )


def _fx_table(fx: Any) -> pd.DataFrame | float:
    if fx is None:
        return 1.0
    if isinstance(fx, int | float):
        if not np.isfinite(fx) or fx <= 0:
            raise ValueError(f"fx must be a positive number; got {fx!r}")
        return float(fx)
    frame = (
        pd.DataFrame({"year": list(fx.keys()), "rate": list(fx.values())})
        if isinstance(fx, Mapping)
        else pd.DataFrame(fx).rename(columns=str)
    )
    if not {"year", "rate"} <= set(frame.columns):
        raise ValueError("fx as a table needs columns 'year' and 'rate'")
    rate = frame["rate"].astype(float)
    if rate.isna().any() or (rate <= 0).any():
        raise ValueError("fx rates must be positive numbers")
    return pd.DataFrame({"year": frame["year"].astype(int), "rate": rate})


# ----------------------------------------------------------------------------------------------
# public function
# ----------------------------------------------------------------------------------------------
def dvar(
    transactions: pd.DataFrame | str | Path | Sequence[str | Path],
    accounts: pd.DataFrame,
    *,
    variant: str = "default",
    firm_col: str = "firm_id",
    year_col: str = "year",
    hs_col: str = "hs6",
    regime_col: str = "regime",
    flow_col: str = "flow",
    value_col: str = "value",
    name_col: str | None = "firm_name",
    intermediary_col: str | None = None,
    intermediary_pattern: str = INTERMEDIARY_PATTERN,
    adjust_intermediaries: bool = True,
    intermediate: pd.DataFrame | None = None,
    intermediate_col: str | None = None,
    processing_values: Sequence[str] = PROCESSING_VALUES,
    ordinary_values: Sequence[str] = ORDINARY_VALUES,
    import_values: Sequence[str] = IMPORT_VALUES,
    export_values: Sequence[str] = EXPORT_VALUES,
    fx: float | Mapping[int, float] | pd.DataFrame | None = None,
    sales_col: str = "sales",
    inputs_col: str = "intermediate_inputs",
    nfa_col: str = "net_fixed_assets",
    domestic_content: float = DOMESTIC_CONTENT,
    capital_coef: float = CAPITAL_COEF,
    out_of_range: str = "drop",
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_directory: str | Path | None = None,
) -> pd.DataFrame:
    r"""Firm-year export domestic value-added ratio from customs transactions and firm accounts.

    Parameters
    ----------
    transactions : DataFrame, path, glob or list of paths
        Customs transactions, one row per firm × year × HS code × regime × flow (or finer). Parquet
        paths and globs are read by DuckDB without loading them into memory.
    accounts : DataFrame
        Firm accounts, one row per firm-year: ``firm_col``, ``year_col``, ``sales_col`` (total sales),
        ``inputs_col`` (:math:`M^T`, total intermediate inputs) and ``nfa_col`` (net fixed assets), in the
        units of the customs values after ``fx``.
    variant : {"default", "unallocated", "as_printed", "kee_tang_basic"}
        The formula (see the module docstring): ``"default"`` charges the foreign content of domestic
        inputs and of capital to exports by the export share of sales.
    firm_col, year_col, hs_col, regime_col, flow_col, value_col : str
        Transaction column names (the firm id must match the accounts' id).
    name_col, intermediary_col : str or None
        Intermediaries are firms whose name (``name_col``) matches ``intermediary_pattern``, or whose
        boolean ``intermediary_col`` is true in any row. One of them is needed when
        ``adjust_intermediaries``.
    adjust_intermediaries : bool, default True
        Scale producers' imports by :math:`1/(1-m_k)` (ignored by ``"kee_tang_basic"``).
    intermediate : DataFrame, optional
        HS→BEC table (``hs_prefix`` or ``hs6``, ``bec``); default the shipped coarse rules.
    intermediate_col : str, optional
        A boolean transaction column that already flags intermediate goods (overrides ``intermediate``).
    processing_values, ordinary_values, import_values, export_values : sequences of str
        Codes of the regimes and flows (compared case-insensitively as text).
    fx : float, mapping year→rate, or DataFrame (year, rate), optional
        Multiplies customs values into the accounts' unit (e.g. USD → thousand RMB: rate / 1000).
    domestic_content, capital_coef : float
        :math:`\delta` (0.05) and :math:`c` (0.0417) of the formula.
    out_of_range : {"drop", "clip", "keep"}, default "drop"
        What to do with DVAR outside (0, 1].
    memory_limit, threads, temp_directory : optional
        DuckDB settings (e.g. ``memory_limit="2GB"``); DuckDB spills to ``temp_directory`` beyond it.

    Returns
    -------
    pandas.DataFrame
        One row per exporting producer-year found in both sources: ``firm_col``, ``year_col``, ``X``,
        ``X_ordinary``, ``X_processing``, ``M_processing``, ``M_ordinary_intermediate`` (actual, i.e.
        adjusted unless ``kee_tang_basic``), ``D``, ``export_share`` (:math:`s_X`), ``M_T``, ``NFA``,
        ``FVA``, ``dvar``. ``attrs`` holds counts: ``n_intermediaries``, ``n_customs_unmatched``,
        ``n_negative_domestic_sales``, ``n_negative_domestic_inputs`` (imported intermediates above
        :math:`M^T`, domestic inputs floored at 0), ``n_out_of_range``.

    Raises
    ------
    ValueError
        Missing columns; negative, missing or non-finite values; unknown flow codes; duplicated
        firm-years in the accounts; unmapped HS codes; bad options.

    References
    ----------
    Upward, R., Wang, Z. & Zheng, J. (2013). Weighing China's export basket. *J. Comparative Economics*
    41(2): 527–543. Kee, H. L. & Tang, H. (2016). Domestic value added in exports. *AER* 106(6):
    1402–1436. 张杰、陈志远、刘元春 (2013). 中国出口国内附加值的测算与变化机制. 经济研究 (10): 124–137.
    Ahn, Khandelwal & Wei (2011). The role of intermediaries in facilitating trade. *JIE* 84(1): 73–85.

    Examples
    --------
    >>> tx = pd.DataFrame({"firm_id": [1, 1, 1], "firm_name": ["甲厂"] * 3, "year": 2005,
    ...                    "hs6": ["854231", "854231", "851712"], "regime": ["processing", "ordinary", "ordinary"],
    ...                    "flow": ["import", "import", "export"], "value": [20.0, 10.0, 100.0]})
    >>> acc = pd.DataFrame({"firm_id": [1], "year": [2005], "sales": [200.0],
    ...                     "intermediate_inputs": [120.0], "net_fixed_assets": [0.0]})
    >>> round(float(dvar(tx, acc, variant="kee_tang_basic")["dvar"].iloc[0]), 4)  # 1 - (20 + 100*10/200)/100
    0.75
    >>> # default: s_X = 100/200, domestic inputs 120 - 20 - 10 = 90: FVA = 25 + 0.5 * 0.05 * 90
    >>> round(float(dvar(tx, acc)["dvar"].iloc[0]), 4)
    0.7275
    >>> round(float(dvar(tx, acc, variant="unallocated")["dvar"].iloc[0]), 4)  # 25 + 0.05 * (120 - 25)
    0.7025
    """
    import duckdb

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}")
    if out_of_range not in {"drop", "clip", "keep"}:
        raise ValueError(f"out_of_range must be 'drop', 'clip' or 'keep'; got {out_of_range!r}")
    for label, v in {"domestic_content": domestic_content, "capital_coef": capital_coef}.items():
        if not (isinstance(v, int | float) and np.isfinite(v) and 0 <= v < 1):
            raise ValueError(f"{label} must be a number in [0, 1); got {v!r}")
    adjust = adjust_intermediaries and variant != "kee_tang_basic"
    if adjust and name_col is None and intermediary_col is None:
        raise ValueError(
            "adjusting for trading intermediaries needs name_col (firm names) or intermediary_col "
            "(a flag); pass one, or adjust_intermediaries=False"
        )
    acc = _validate_accounts(accounts, firm_col, year_col, sales_col, inputs_col, nfa_col)
    fx_spec = _fx_table(fx)

    con = duckdb.connect()
    try:
        if memory_limit is not None:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        spill = (
            Path(temp_directory)
            if temp_directory is not None
            else Path(tempfile.gettempdir()) / "duckdb_dvar"
        )
        con.execute(f"SET temp_directory = '{spill.as_posix()}'")
        con.execute("SET preserve_insertion_order = false")
        relation = _source(con, transactions)
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        needed = {
            "firm": firm_col,
            "year": year_col,
            "regime": regime_col,
            "flow": flow_col,
            "value": value_col,
        }
        if intermediate_col is None:
            needed["hs"] = hs_col
        else:
            needed["intermediate flag"] = intermediate_col
        if adjust:
            needed["hs"] = hs_col
            if intermediary_col is not None:
                needed["intermediary flag"] = intermediary_col
            else:
                needed["name"] = name_col  # type: ignore[assignment]
        _check_columns(columns, needed, "the transaction data")

        q = lambda c: '"' + c.replace('"', '""') + '"'  # noqa: E731
        hs_expr = (
            f"""left(CASE WHEN length(regexp_replace(CAST({q(hs_col)} AS VARCHAR), '[^0-9]', '', 'g')) % 2 = 1
                 THEN '0' ELSE '' END || regexp_replace(CAST({q(hs_col)} AS VARCHAR), '[^0-9]', '', 'g'), 6)"""
            if hs_col in columns
            else "NULL"
        )
        if isinstance(fx_spec, pd.DataFrame):
            con.register("fx_input", fx_spec)
            fx_join = f"LEFT JOIN fx_input fx ON fx.year = CAST(t.{q(year_col)} AS INTEGER)"
            rate = "fx.rate"
        else:
            fx_join, rate = "", repr(fx_spec)
        if intermediary_col is not None:
            inter_expr, inter_src = "CAST(x AS BOOLEAN)", q(intermediary_col)
        elif name_col is not None and name_col in columns:
            pattern = intermediary_pattern.replace("'", "''")
            inter_expr, inter_src = f"regexp_matches(CAST(x AS VARCHAR), '{pattern}')", q(name_col)
        else:
            inter_expr, inter_src = "FALSE", "NULL"
        con.execute(
            f"""
            CREATE TEMP VIEW src AS
            SELECT t.{q(firm_col)} AS firm,
                   CAST(t.{q(year_col)} AS INTEGER) AS year,
                   {hs_expr} AS hs6,
                   CASE WHEN lower(CAST(t.{q(regime_col)} AS VARCHAR)) IN ({_sql_list(processing_values)}) THEN 'P'
                        WHEN lower(CAST(t.{q(regime_col)} AS VARCHAR)) IN ({_sql_list(ordinary_values)}) THEN 'O'
                        ELSE 'Z' END AS reg,
                   CASE WHEN lower(CAST(t.{q(flow_col)} AS VARCHAR)) IN ({_sql_list(import_values)}) THEN 'M'
                        WHEN lower(CAST(t.{q(flow_col)} AS VARCHAR)) IN ({_sql_list(export_values)}) THEN 'X'
                        END AS flow,
                   CAST(t.{q(value_col)} AS DOUBLE) * {rate} AS v,
                   {f"CAST(t.{q(intermediate_col)} AS BOOLEAN)" if intermediate_col else "NULL"} AS int_flag
            FROM {relation} t {fx_join}
            """
        )
        _validate_transactions(con, isinstance(fx_spec, pd.DataFrame))

        # 1. intermediaries (a firm is one if any of its rows says so) -- small table
        # the name test runs once per distinct (firm, name), not once per transaction
        con.execute(
            f"""CREATE TEMP TABLE firms AS
                SELECT firm, bool_or(coalesce({inter_expr}, FALSE)) AS inter
                FROM (SELECT DISTINCT t.{q(firm_col)} AS firm, {inter_src} AS x FROM {relation} t)
                GROUP BY firm"""
        )
        n_inter = con.execute("SELECT count(*) FROM firms WHERE inter").fetchone()[0]
        # 2. HS -> intermediate flag -- small table
        if intermediate_col is None:
            codes = [
                r[0]
                for r in con.execute("SELECT DISTINCT hs6 FROM src WHERE flow = 'M'").fetchall()
            ]
            codes = [c for c in codes if c is not None]
            if not codes:
                codes = ["000000"]
                hs_map = pd.DataFrame({"hs6": codes, "is_intermediate": [False]})
            else:
                hs_map = bec_intermediate(codes, intermediate)[["hs6", "is_intermediate"]]
            con.register("hs_map", hs_map)
            int_expr = "coalesce(h.is_intermediate, FALSE)"
            hs_join = "LEFT JOIN hs_map h ON h.hs6 = s.hs6"
        else:
            int_expr, hs_join = "coalesce(s.int_flag, FALSE)", ""
        # 3. intermediaries' import shares m_k by HS6 x year x regime -- small table
        if adjust:
            con.execute(
                """CREATE TEMP TABLE mshare AS
                   SELECT s.hs6, s.year, s.reg,
                          sum(s.v) FILTER (WHERE f.inter) / nullif(sum(s.v), 0) AS m
                   FROM src s JOIN firms f USING (firm)
                   WHERE s.flow = 'M' GROUP BY ALL"""
            )
            m_join = "LEFT JOIN mshare ms ON ms.hs6 = s.hs6 AND ms.year = s.year AND ms.reg = s.reg"
            scale = (
                "CASE WHEN coalesce(ms.m, 0) < 1 THEN 1.0 / (1.0 - coalesce(ms.m, 0)) ELSE 1.0 END"
            )
        else:
            m_join, scale = "", "1.0"
        # 4. one pass over the transactions: firm-year aggregates of producers
        agg = con.execute(
            f"""
            SELECT s.firm, s.year,
                   coalesce(sum(s.v) FILTER (WHERE s.flow = 'X'), 0) AS X,
                   coalesce(sum(s.v) FILTER (WHERE s.flow = 'X' AND s.reg = 'O'), 0) AS X_ordinary,
                   coalesce(sum(s.v) FILTER (WHERE s.flow = 'X' AND s.reg = 'P'), 0) AS X_processing,
                   coalesce(sum(s.v * {scale}) FILTER (WHERE s.flow = 'M' AND s.reg = 'P'), 0) AS M_processing,
                   coalesce(sum(s.v * {scale}) FILTER (WHERE s.flow = 'M' AND s.reg = 'O' AND {int_expr}), 0)
                       AS M_ordinary_intermediate
            FROM src s JOIN firms f USING (firm) {hs_join} {m_join}
            WHERE NOT f.inter
            GROUP BY s.firm, s.year
            """
        ).df()
    finally:
        con.close()

    agg = agg.rename(columns={"firm": firm_col, "year": year_col})
    agg = agg[agg["X"] > 0]
    agg[year_col] = agg[year_col].astype("int64")
    merged = agg.merge(acc.astype({year_col: "int64"}), on=[firm_col, year_col], how="inner")
    n_unmatched = len(agg) - len(merged)

    X = merged["X"].to_numpy(float)
    Xo = merged["X_ordinary"].to_numpy(float)
    D_raw = merged[sales_col].to_numpy(float) - X
    D = np.maximum(D_raw, 0.0)
    MP = merged["M_processing"].to_numpy(float)
    MO = merged["M_ordinary_intermediate"].to_numpy(float)
    MT = merged[inputs_col].to_numpy(float)
    NFA = merged[nfa_col].to_numpy(float)
    denom = D + Xo
    F = MP + np.divide(Xo * MO, denom, out=np.zeros_like(X), where=denom > 0)
    share_x = X / (X + D)
    dom_raw = MT - MP - MO
    if variant == "default":
        FVA = F + share_x * (domestic_content * np.maximum(dom_raw, 0.0) + capital_coef * NFA)
    elif variant == "unallocated":
        FVA = F + domestic_content * (MT - F) + capital_coef * NFA
    elif variant == "as_printed":
        FVA = F - domestic_content * (MT - F) - capital_coef * NFA
    else:
        FVA = F
    ratio = 1.0 - FVA / X
    out = pd.DataFrame(
        {
            firm_col: merged[firm_col].to_numpy(),
            year_col: merged[year_col].to_numpy(),
            "X": X,
            "X_ordinary": Xo,
            "X_processing": merged["X_processing"].to_numpy(float),
            "M_processing": MP,
            "M_ordinary_intermediate": MO,
            "D": D,
            "export_share": share_x,
            "M_T": MT,
            "NFA": NFA,
            "FVA": FVA,
            "dvar": ratio,
        }
    )
    bad = ~((ratio > 0) & (ratio <= 1))
    if out_of_range == "drop":
        out = out[~bad]
    elif out_of_range == "clip":
        out["dvar"] = np.clip(ratio, 0.0, 1.0)
    out = out.sort_values([firm_col, year_col]).reset_index(drop=True)
    out.attrs.update(
        {
            "variant": variant,
            "n_intermediaries": int(n_inter),
            "n_customs_unmatched": int(n_unmatched),
            "n_negative_domestic_sales": int((D_raw < 0).sum()),
            "n_negative_domestic_inputs": int((dom_raw < 0).sum()),
            "n_out_of_range": int(bad.sum()),
        }
    )
    return out


def _validate_accounts(
    accounts: pd.DataFrame, firm: str, year: str, sales: str, inputs: str, nfa: str
) -> pd.DataFrame:
    if not isinstance(accounts, pd.DataFrame):
        raise ValueError("accounts must be a pandas DataFrame with one row per firm-year")
    _check_columns(
        list(accounts.columns),
        {
            "firm": firm,
            "year": year,
            "sales": sales,
            "intermediate inputs": inputs,
            "net fixed assets": nfa,
        },
        "the accounts frame",
    )
    acc = accounts[[firm, year, sales, inputs, nfa]].copy()
    for col in (sales, inputs, nfa):
        values = pd.to_numeric(acc[col], errors="coerce")
        if values.isna().any() or not np.isfinite(values).all():
            raise ValueError(
                f"accounts column {col!r} has missing or non-numeric values (first at row "
                f"{acc.index[values.isna() | ~np.isfinite(values.fillna(0))][0]!r}); drop or impute them first"
            )
        if (values < 0).any():
            raise ValueError(
                f"accounts column {col!r} has negative values; DVAR needs non-negative accounts"
            )
        acc[col] = values.astype(float)
    if acc[[firm, year]].isna().any().any():
        raise ValueError("accounts have missing firm ids or years")
    dup = acc.duplicated([firm, year])
    if dup.any():
        first = acc.loc[dup, [firm, year]].iloc[0].tolist()
        raise ValueError(
            f"accounts have {int(dup.sum())} duplicated firm-years, e.g. {first}; aggregate them first"
        )
    return acc


def _validate_transactions(con: Any, has_fx_table: bool) -> None:
    row = con.execute(
        """SELECT count(*),
                  count(*) FILTER (WHERE flow IS NULL),
                  count(*) FILTER (WHERE v IS NULL OR isnan(v) OR isinf(v)),
                  count(*) FILTER (WHERE v < 0),
                  count(*) FILTER (WHERE year IS NULL OR firm IS NULL)
           FROM src"""
    ).fetchone()
    n, bad_flow, bad_value, negative, bad_key = row
    if n == 0:
        raise ValueError("the transaction data have no rows")
    if bad_flow:
        raise ValueError(
            f"{bad_flow} transactions have a flow that is neither an import nor an export code; pass "
            "import_values= / export_values= with your codes"
        )
    if bad_value:
        extra = " (or their year is missing from the fx table)" if has_fx_table else ""
        raise ValueError(f"{bad_value} transactions have a missing or non-finite value{extra}")
    if negative:
        raise ValueError(
            f"{negative} transactions have negative values; customs values must be >= 0"
        )
    if bad_key:
        raise ValueError(f"{bad_key} transactions lack a firm id or a year")
