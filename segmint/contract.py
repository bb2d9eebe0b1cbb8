"""The raw data contract (DESIGN.md): tables, columns, types, keys and enums.

Every part of segmint that touches raw data (generator, ingest, dbt sources, checks)
reads its facts from here so there is exactly one definition of what a user brings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type used in raw.<table>
    required: bool = False
    enum: tuple[str, ...] | None = None  # allowed values (compared lower-cased, trimmed)
    not_future: bool = False  # timestamps after load time (+ skew) are quarantined
    non_negative: bool = False  # negative numbers are quarantined
    # Plausibility bounds (quarantined with a reason, so whatever loads runs every step):
    max_abs: float | None = None  # |value| >= max_abs is out_of_range
    window: str | None = None  # "data" or "birth": earliest plausible date (EARLIEST_*)


# Money is DECIMAL with cents end to end (DESIGN.md): amounts and prices are exact, and a
# sum of them never prints binary floating point noise. An exchange rate keeps ten decimals
# (a rate to a strong base currency, e.g. JPY to EUR, is a small number).
MONEY = "DECIMAL(18,2)"
RATE = "DECIMAL(18,10)"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # duplicate keys inside one file are quarantined
    required_table: bool = False
    foreign_keys: dict[str, str] = field(default_factory=dict)  # column -> table

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


# Amounts must fit DECIMAL(18,2) (16 digits before the point), with room for sums in dbt.
MAX_AMOUNT = 1e16
MAX_QUANTITY = 1_000_000  # units of one product in one order line
# The plausible window of dates: from EARLIEST_* (configurable: setting
# ingest_earliest_date) to load time + FUTURE_SKEW_HOURS. Epoch zero, -infinity or year 1
# are placeholders, not a shop's history, and would make every daily series span decades.
EARLIEST_DATA_DATE = date(1990, 1, 1)  # orders, events, signups, updates
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

ORDER_STATUSES = ("completed", "cancelled", "returned")
EVENT_TYPES = (
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "checkout",
    "purchase",
    "email_send",
    "email_open",
    "email_click",
    "email_unsubscribe",
    "app_open",
    "login",
    "signup",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "customers",
            (
                Column("customer_id", "VARCHAR", required=True),
                Column("email", "VARCHAR"),
                Column("phone", "VARCHAR"),
                Column("first_name", "VARCHAR"),
                Column("last_name", "VARCHAR"),
                Column("birth_date", "DATE", not_future=True, window="birth"),
                Column("gender", "VARCHAR"),
                Column("country", "VARCHAR"),
                Column("city", "VARCHAR"),
                Column("postal_code", "VARCHAR"),
                Column("signup_at", "TIMESTAMP", not_future=True, window="data"),
                Column("acquisition_channel", "VARCHAR"),
                Column("marketing_consent", "BOOLEAN"),
                Column("updated_at", "TIMESTAMP", not_future=True, window="data"),
            ),
            key=("customer_id",),
        ),
        Table(
            "products",
            (
                Column("product_id", "VARCHAR", required=True),
                Column("name", "VARCHAR"),
                Column("category", "VARCHAR"),
                Column("brand", "VARCHAR"),
                Column("unit_price", MONEY, non_negative=True, max_abs=MAX_AMOUNT),
                Column("unit_cost", MONEY, non_negative=True, max_abs=MAX_AMOUNT),
            ),
            key=("product_id",),
        ),
        Table(
            "orders",
            (
                Column("order_id", "VARCHAR", required=True),
                Column("customer_id", "VARCHAR", required=True),
                Column("ordered_at", "TIMESTAMP", required=True, not_future=True, window="data"),
                Column("status", "VARCHAR", enum=ORDER_STATUSES),
                Column("channel", "VARCHAR"),
                Column("store_region", "VARCHAR"),
                Column("total_amount", MONEY, non_negative=True, max_abs=MAX_AMOUNT),
                Column("discount_amount", MONEY, non_negative=True, max_abs=MAX_AMOUNT),
                Column("currency", "VARCHAR"),
            ),
            key=("order_id",),
            required_table=True,
        ),
        Table(
            "order_items",
            (
                Column("order_id", "VARCHAR", required=True),
                Column("product_id", "VARCHAR", required=True),
                Column(
                    "quantity", "INTEGER", required=True, non_negative=True, max_abs=MAX_QUANTITY
                ),
                Column("unit_price", MONEY, required=True, non_negative=True, max_abs=MAX_AMOUNT),
                Column("discount_amount", MONEY, non_negative=True, max_abs=MAX_AMOUNT),
            ),
            key=("order_id", "product_id"),
            foreign_keys={"order_id": "orders", "product_id": "products"},
        ),
        Table(
            "events",
            (
                Column("event_id", "VARCHAR", required=True),
                Column("occurred_at", "TIMESTAMP", required=True, not_future=True, window="data"),
                Column("event_type", "VARCHAR", required=True, enum=EVENT_TYPES),
                Column("customer_id", "VARCHAR"),
                Column("anonymous_id", "VARCHAR"),
                Column("session_id", "VARCHAR"),
                Column("product_id", "VARCHAR"),
                Column("device", "VARCHAR"),
                Column("channel", "VARCHAR"),
                Column("properties", "JSON"),
            ),
            key=("event_id",),
        ),
        # Optional: needed when orders use more than one currency. One rate per currency and
        # day (daily or monthly, gaps allowed): an order converts at the latest rate dated on
        # or before its order date; amount in the base currency = amount * rate_to_base.
        # Orders in the base currency (or without a currency) need no rate.
        Table(
            "fx_rates",
            (
                Column("date", "DATE", required=True),
                Column("currency", "VARCHAR", required=True),
                Column("rate_to_base", RATE, required=True, non_negative=True),
            ),
            key=("date", "currency"),
        ),
    )
}

# Metadata columns every raw.<table> row carries (lineage back to the file and line).
RAW_META_COLUMNS: tuple[Column, ...] = (
    Column("_source_file", "VARCHAR"),
    Column("_source_line", "BIGINT"),
    Column("_file_hash", "VARCHAR"),
    Column("_loaded_at", "TIMESTAMP"),
)

# quarantine.<table>: every contract column as raw text (VARCHAR) + these.
QUARANTINE_META_COLUMNS: tuple[Column, ...] = (
    Column("_reason", "VARCHAR"),
    Column("_source_file", "VARCHAR"),
    Column("_source_line", "BIGINT"),
    Column("_file_hash", "VARCHAR"),
    Column("_loaded_at", "TIMESTAMP"),
    # The record as the file has it (its physical lines; a Parquet row as a JSON object), so
    # a user can fix and re-send it; NULL for erased people's rows.
    Column("_raw_line", "VARCHAR"),
)

# Allowed clock skew before a timestamp counts as "in the future" at load time.
FUTURE_SKEW_HOURS = 24

FILE_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
