"""Benchmark helpers.trade.dvar on a synthetic customs table written to Parquet in chunks.

Usage::

    .venv/bin/python benchmarks/bench_trade.py                 # 5 million rows (quick)
    .venv/bin/python benchmarks/bench_trade.py --rows 50000000 --memory-limit 2GB

The transactions are generated chunk by chunk (1 million rows each) into a temporary directory, so
generation never holds the table in memory; ``dvar`` then aggregates them with DuckDB under
``memory_limit``. Prints rows per second and peak resident memory (``resource.getrusage``) of the
generation and of the DVAR step (the DVAR step runs in a child process so its peak is its own).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1_000_000
N_YEARS = 13
YEARS = np.array([*range(2000, 2010), 2011, 2012, 2013])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def generate(rows: int, folder: Path, n_firms: int, seed: int = 1) -> pd.DataFrame:
    """Write ``rows`` transactions as Parquet parts; return the firm accounts."""
    rng = np.random.default_rng(seed)
    names = np.array([f"企业{i}有限公司" for i in range(n_firms)], dtype=object)
    trader = rng.random(n_firms) < 0.05
    names[trader] = [f"某某进出口贸易公司{i}" for i in np.flatnonzero(trader)]
    processing_firm = rng.random(n_firms) < 0.3
    hs_pool = np.array(
        [f"{h:06d}" for h in rng.choice(np.arange(10000, 970000, 37), 5000, replace=False)]
    )
    # keep only codes whose chapter exists in the rule file (drop chapter 77, the reserved one)
    hs_pool = hs_pool[[c[:2] != "77" and "01" <= c[:2] <= "97" for c in hs_pool]]
    written = 0
    part = 0
    while written < rows:
        n = min(CHUNK, rows - written)
        firm = rng.integers(0, n_firms, n)
        flow = np.where(rng.random(n) < 0.55, "export", "import")
        proc = processing_firm[firm] & (rng.random(n) < 0.8)
        regime = np.where(proc, "processing", np.where(rng.random(n) < 0.95, "ordinary", "bonded"))
        table = pa.table(
            {
                "firm_id": firm.astype(np.int32),
                "firm_name": pa.array(names[firm]).dictionary_encode(),
                "year": YEARS[rng.integers(0, N_YEARS, n)].astype(np.int16),
                "hs6": pa.array(hs_pool[rng.integers(0, len(hs_pool), n)]).dictionary_encode(),
                "regime": pa.array(regime).dictionary_encode(),
                "flow": pa.array(flow).dictionary_encode(),
                "value": rng.lognormal(9.0, 1.5, n),
            }
        )
        pq.write_table(table, folder / f"part-{part:04d}.parquet")
        written += n
        part += 1
    # accounts: every firm-year, sales well above exports on average
    per_firm_year = rows / (n_firms * N_YEARS) * 0.55 * np.exp(9.0 + 1.5**2 / 2)
    ids = np.repeat(np.arange(n_firms), N_YEARS)
    yrs = np.tile(YEARS, n_firms)
    sales = per_firm_year * rng.uniform(1.2, 4.0, len(ids))
    return pd.DataFrame(
        {
            "firm_id": ids.astype(np.int32),
            "year": yrs.astype(np.int64),
            "sales": sales,
            "intermediate_inputs": 0.6 * sales,
            "net_fixed_assets": 0.3 * sales,
        }
    )


def _run_dvar(
    folder: str, accounts: pd.DataFrame, memory_limit: str, threads: int, queue: mp.Queue
) -> None:
    from helpers.trade import dvar

    t0 = time.perf_counter()
    out = dvar(f"{folder}/*.parquet", accounts, memory_limit=memory_limit, threads=threads)
    queue.put(
        (time.perf_counter() - t0, _peak_mb(), len(out), float(out["dvar"].mean()), dict(out.attrs))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--firms", type=int, default=40_000)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench_trade_"))
    try:
        t0 = time.perf_counter()
        accounts = generate(args.rows, folder, args.firms)
        t_gen = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
        print(
            f"generated {args.rows:,} rows in {t_gen:.1f} s ({size_mb:,.0f} MB Parquet); peak RSS {_peak_mb():,.0f} MB"
        )

        ctx = mp.get_context("spawn")
        queue: mp.Queue = ctx.Queue()
        proc = ctx.Process(
            target=_run_dvar, args=(str(folder), accounts, args.memory_limit, args.threads, queue)
        )
        proc.start()
        seconds, peak, n_out, mean_dvar, attrs = queue.get()
        proc.join()
        print(
            f"dvar: {args.rows:,} rows in {seconds:.1f} s = {args.rows / seconds:,.0f} rows/s; "
            f"memory_limit={args.memory_limit}, threads={args.threads}; peak RSS of the dvar process {peak:,.0f} MB"
        )
        print(f"dvar: {n_out:,} firm-years, mean DVAR {mean_dvar:.3f}; attrs {attrs}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
