"""From the interactions mart to what the models need: a cutoff's rows, the catalogue on
sale, the customer x product matrix and the customers' groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from ml.recommend.params import RecommendParams

GROUP_COLUMNS = ("segment_name", "country", "acquisition_channel")


@dataclass(frozen=True)
class Snapshot:
    """The mart at one cutoff, indexed for the models."""

    cutoff: pd.Timestamp
    rows: pd.DataFrame  # the cutoff's rows with cust_ix and prod_ix
    customers: pd.Index  # customer ids (row index of the matrix)
    products: pd.DataFrame  # product_id, product_name, category, brand, last sold, sales
    matrix: sparse.csr_matrix  # customers x products, log1p(interaction_weight)
    orders: np.ndarray  # completed orders per customer (any product)

    @property
    def on_sale(self) -> np.ndarray:
        """Products sold within the stale window (the only ones ever recommended)."""
        return self.products["on_sale"].to_numpy()


def cutoffs(interactions: pd.DataFrame) -> list[pd.Timestamp]:
    """The mart's cutoff dates, oldest first."""
    return sorted(pd.to_datetime(interactions["cutoff_date"]).unique())


def snapshot(interactions: pd.DataFrame, cutoff: pd.Timestamp, params: RecommendParams) -> Snapshot:
    """The mart's rows at one cutoff as a matrix, with the catalogue seen by then."""
    day = pd.to_datetime(interactions["cutoff_date"])
    rows = interactions[day == cutoff].copy()
    customers = pd.Index(np.sort(rows["customer_id"].unique()), name="customer_id")
    rows["cust_ix"] = customers.get_indexer(rows["customer_id"])
    products = _catalogue(rows, cutoff, params)
    rows["prod_ix"] = pd.Index(products["product_id"]).get_indexer(rows["product_id"])
    # DuckDB returns the mart in no fixed order: every cut and tie downstream sees the rows
    # by customer, then product, so a run does not depend on the scan.
    rows = rows.sort_values(["cust_ix", "prod_ix"], kind="stable").reset_index(drop=True)
    values = np.log1p(rows["interaction_weight"].to_numpy(dtype=np.float64))
    matrix = sparse.csr_matrix(
        (values, (rows["cust_ix"].to_numpy(), rows["prod_ix"].to_numpy())),
        shape=(customers.size, len(products)),
    )
    orders = (
        rows.groupby("cust_ix")["customer_orders"]
        .max()
        .reindex(range(customers.size), fill_value=0)
    )
    return Snapshot(cutoff, rows, customers, products, matrix, orders.to_numpy())


def _catalogue(rows: pd.DataFrame, cutoff: pd.Timestamp, params: RecommendParams) -> pd.DataFrame:
    """Every product in the rows: attributes, last sale, recent sales, repeat behaviour."""
    bought = rows[rows["purchase_orders"] > 0]
    last = pd.to_datetime(bought.groupby("product_id")["last_purchase_date"].max())
    per_product = rows.groupby("product_id").agg(
        product_name=("product_name", "first"),
        category=("category", "first"),
        brand=("brand", "first"),
        sales_90d=("purchase_orders_90d", "sum"),
    )
    repeat = bought.groupby("product_id").agg(
        buyers=("customer_id", "size"),
        repeaters=("repurchase_interval_days", "count"),
        interval=("repurchase_interval_days", "median"),
    )
    out = per_product.join(last.rename("last_sold")).join(repeat).reset_index()
    out = out.sort_values("product_id", kind="stable").reset_index(drop=True)
    age = (cutoff - out["last_sold"]).dt.days
    out["on_sale"] = age.notna() & (age < params.stale_days)
    out["buyers"] = out["buyers"].fillna(0)
    out["repeat_rate"] = out["repeaters"].fillna(0) / out["buyers"].where(out["buyers"] > 0)
    out["category"] = out["category"].fillna("unknown")
    out["brand"] = out["brand"].fillna("unknown")
    out["product_name"] = out["product_name"].fillna(out["product_id"])
    return out


def purchased_in_window(
    interactions: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """(customer_id, product_id) bought after `start` up to `end`: purchase counts rose."""
    day = pd.to_datetime(interactions["cutoff_date"])
    later = interactions.loc[day == end, ["customer_id", "product_id", "purchase_orders"]]
    earlier = interactions.loc[day == start, ["customer_id", "product_id", "purchase_orders"]]
    both = later.merge(earlier, on=["customer_id", "product_id"], how="left", suffixes=("", "_0"))
    rose = both["purchase_orders"] > both["purchase_orders_0"].fillna(0)
    return both.loc[rose, ["customer_id", "product_id"]].reset_index(drop=True)


def customer_groups(current: pd.DataFrame, segments: pd.DataFrame | None) -> pd.DataFrame:
    """customer_id with segment_name, country and acquisition_channel (cold-start groups)."""
    out = current[["customer_id"]].copy()
    for col in ("country", "acquisition_channel"):
        out[col] = current[col] if col in current.columns else None
    if segments is not None and len(segments):
        out = out.merge(segments[["customer_id", "segment_name"]], on="customer_id", how="left")
    else:
        out["segment_name"] = None
    return out[["customer_id", *GROUP_COLUMNS]]


def top_k(score: np.ndarray, k: int) -> np.ndarray:
    """Per row, the column indices of the k largest scores, best first, ties to the lower
    index: what np.argsort(-score, axis=1, kind="stable")[:, :k] gives, without sorting every
    row (a partition finds each row's k-th value, only the k kept are sorted)."""
    n, m = score.shape
    k = min(k, m)
    if k == 0 or n == 0:
        return np.zeros((n, k), dtype=np.int64)
    kth = np.partition(score, m - k, axis=1)[:, m - k : m - k + 1]  # the k-th largest
    keep = score > kth
    ties = score == kth
    # all scores above the k-th value, then the first ties (lowest columns) to make k;
    # the running count only where more ties than free places (rare with real scores)
    wanted = k - keep.sum(axis=1)
    crowded = np.flatnonzero(ties.sum(axis=1) > wanted)
    ties[crowded] &= np.cumsum(ties[crowded], axis=1) <= wanted[crowded, None]
    keep |= ties
    cols = np.nonzero(keep)[1].reshape(n, k)  # row-major: ascending columns per row
    order = np.argsort(-np.take_along_axis(score, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1)
