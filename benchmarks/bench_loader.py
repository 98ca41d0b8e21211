"""Time ``load_panel`` on a user-sized file: 1,000,000 firm-years in the industry-finance-ai schema.

Run: ``.venv/bin/python benchmarks/bench_loader.py [--rows N]``. Writes a CSV (UTF-8 and GBK) and a
Parquet file into a temporary folder (deleted afterwards): 6-digit stock codes and city codes with
leading zeros as text, every required column of ``data/industry-finance-ai/schema.yml`` plus a few
optional ones, Chinese city names. Prints the time to read and validate each file (best of 2):
wall clock, CPU of all threads and the machine's load average (other processes slow the wall
clock), and whether the budget (10 s for 1,000,000 rows) holds. No assertions: budgets are read by
people.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.twins import load_panel

SLUG = "industry-finance-ai"
BUDGET_S = 10.0
YEARS = np.arange(2011, 2024)
CITIES = {"110000": "北京市", "310000": "上海市", "440300": "深圳市", "330100": "杭州市",
          "510100": "成都市", "420100": "武汉市", "460100": "海口市", "650100": "乌鲁木齐市"}


def make_panel(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """A valid firm-year panel of ``n_rows`` rows (firms x 13 years), codes as zero-padded text."""
    rng = np.random.default_rng(seed)
    n_firms = -(-n_rows // len(YEARS))
    firm = np.char.zfill(np.arange(1, n_firms + 1).astype(str), 6)  # 000001, 000002, ...
    firm_id = np.repeat(firm, len(YEARS))[:n_rows]
    year = np.tile(YEARS, n_firms)[:n_rows]
    codes = np.array(list(CITIES))
    city_of_firm = rng.integers(0, len(codes), n_firms)
    city = np.repeat(codes[city_of_firm], len(YEARS))[:n_rows]
    treat = np.isin(city, ["110000", "330100", "510100"]).astype(int)
    post = (year >= 2016).astype(int)
    u = rng.random((n_rows, 12))
    return pd.DataFrame({
        "firm_id": firm_id, "year": year, "city_id": city,
        "city_name": pd.Series(city).map(CITIES).to_numpy(),
        "industry": np.array(["C39", "I65", "C27", "K70"])[rng.integers(0, 4, n_rows)],
        "AI": np.round(u[:, 0] * 4, 6), "Treat": treat, "Post": post, "DID": treat * post,
        "Size": np.round(18 + 8 * u[:, 1], 6), "Lev": np.round(u[:, 2], 6),
        "ROA": np.round(u[:, 3] - 0.5, 6), "Growth": np.round(2 * u[:, 4] - 0.5, 6),
        "Age": np.round(4 * u[:, 5], 6), "Board": np.round(1.5 + u[:, 6], 6),
        "Indep": np.round(0.3 + 0.4 * u[:, 7], 6), "Top1": np.round(u[:, 8], 6),
        "Dual": (u[:, 9] < 0.3).astype(int), "TobinQ": np.round(1 + 5 * u[:, 10], 6),
        "Cashflow": np.round(u[:, 11] - 0.5, 6),
        "AI_count": rng.poisson(3, n_rows), "InstOwn": np.round(rng.random(n_rows), 6),
    })


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _time(label: str, path: Path, n_rows: int, repeat: int = 2) -> None:
    before = _sha(path)
    best, cpu, df = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        df = load_panel(SLUG, path)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    assert df is not None and len(df) == n_rows and df["firm_id"].iloc[0] == "000001"
    assert _sha(path) == before  # the user's file is never written
    budget = BUDGET_S * n_rows / 1_000_000
    verdict = "within" if best <= budget else "OVER"
    size = path.stat().st_size / 1e6
    print(f"load_panel, {label:<28s} {n_rows:>9,d} rows {size:7.1f} MB {best:7.2f} s "
          f"(CPU {cpu:5.2f} s; {verdict} the {budget:.1f} s budget; load average "
          f"{os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    n = parser.parse_args().rows
    panel = make_panel(n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path, gbk_path, pq_path = folder / "panel.csv", folder / "panel_gbk.csv", folder / "panel.parquet"
        panel.to_csv(csv_path, index=False)
        gbk_path.write_bytes(csv_path.read_text(encoding="utf-8").encode("gbk"))
        panel.to_parquet(pq_path, index=False)
        _time("CSV (UTF-8)", csv_path, n)
        _time("CSV (GBK, as CSMAR exports)", gbk_path, n)
        _time("Parquet", pq_path, n)


if __name__ == "__main__":
    main()
