"""Sample data generator: determinism, contract conformance, structure and dirt."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import segmint.sample.writing as gen
from segmint.contract import TABLES

CUSTOMERS, DAYS = 300, 120
END = gen.DEFAULT_END_DATE


def _digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _read(con: duckdb.DuckDBPyConnection, root: Path, table: str, fmt: str = "csv") -> str:
    """Create a view <table> over the generated files (CSV read as text, as ingest does)."""
    files = str(root / table / f"{table}_*.{fmt}")
    if fmt == "csv":
        src = f"read_csv('{files}', all_varchar=true, header=true, filename=true)"
    else:
        src = f"read_parquet('{files}', filename=true)"
    con.execute(f"create or replace view {table} as select * from {src}")
    return table


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A small clean CSV dataset."""
    out = tmp_path_factory.mktemp("clean")
    return out, gen.generate(out, CUSTOMERS, DAYS, seed=7, dirt_rate=0.0)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CSV dataset with plenty of dirt."""
    out = tmp_path_factory.mktemp("dirty")
    gen.generate(out, CUSTOMERS, DAYS, seed=7, dirt_rate=0.05)
    return out


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection."""
    c = duckdb.connect()
    yield c
    c.close()


def test_same_seed_gives_byte_identical_files_whatever_the_worker_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gen, "BLOCK_CUSTOMERS", 100)  # 3 blocks -> 3 chunk files per big table
    a = gen.generate(tmp_path / "a", CUSTOMERS, DAYS, seed=3, workers=1)
    b = gen.generate(tmp_path / "b", CUSTOMERS, DAYS, seed=3, workers=2)
    assert a == b
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert da == db
    assert "events/events_002.csv" in da
    c = gen.generate(tmp_path / "c", CUSTOMERS, DAYS, seed=4, workers=1)
    assert _digest(tmp_path / "c")["orders/orders_000.csv"] != da["orders/orders_000.csv"]
    assert c != a


def test_same_seed_gives_byte_identical_files_whatever_the_cpu(tmp_path: Path) -> None:
    """numpy picks sort kernels by CPU (AVX-512, AVX2, baseline) and they order ties
    differently: a generator that sorts with ties unstably makes another shop on another
    machine. Generate once natively and once with this CPU's SIMD dispatch turned off."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    on = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    if not on:
        pytest.skip("this CPU runs numpy's baseline kernels only: nothing to turn off")
    script = (
        "import sys\n"
        "import segmint.sample.writing as gen\n"
        "if __name__ == '__main__':\n"
        f"    gen.generate(sys.argv[1], {CUSTOMERS}, {DAYS}, seed=3, workers=1)\n"
    )
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(on)}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "b")], env=env, check=True)
    gen.generate(tmp_path / "a", CUSTOMERS, DAYS, seed=3, workers=1)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


@pytest.mark.parametrize("seed", [3, 7, 42])
def test_every_product_sits_in_its_own_category_slot_and_can_be_picked(seed: int) -> None:
    """The affinity model's (category, tier) slots hold only their category's products,
    every product once, each with a positive share of its slot's popularity. A slot's last
    product used to fall into the next slot, and the catalogue's last one got its weight
    from uninitialised memory: the same seed gave other order lines in another process."""
    import numpy as np

    from segmint.sample.affinity import build_affinity
    from segmint.sample.catalogue import build_products

    prods = build_products(seed)
    aff = build_affinity(seed, prods, 365)
    members = aff.slots[aff.slots >= 0]
    assert sorted(members.tolist()) == list(range(prods.price.size))
    for k, row in enumerate(aff.slots):
        idx = row[row >= 0]
        assert idx.size and (prods.category[idx] == k // 2).all()
        share = np.exp(aff.log_pop[idx])
        assert (share > 1e-6).all()
        assert share.sum() == pytest.approx(1.0)


def test_layout_and_columns_follow_the_contract(clean: tuple[Path, dict[str, int]]) -> None:
    root, counts = clean
    assert set(counts) == set(TABLES)
    for name, table in TABLES.items():
        files = sorted((root / name).glob(f"{name}_*.csv"))
        assert files, name
        total = 0
        for f in files:
            assert f.stem.startswith(f"{name}_") and len(f.stem) == len(name) + 4
            with f.open(newline="") as fh:
                rows = list(csv.reader(fh))
            assert rows[0] == table.column_names, f
            total += len(rows) - 1
        assert total == counts[name]


def test_clean_data_has_no_contract_violations(
    clean: tuple[Path, dict[str, int]], con: duckdb.DuckDBPyConnection
) -> None:
    root, _ = clean
    end_ts = f"timestamp '{END.isoformat()} 23:59:59'"
    for name, table in TABLES.items():
        _read(con, root, name)
        for col in table.columns:
            c = col.name
            bad = con.execute(
                f"select count(*) from {name} "
                f"where {c} is not null and try_cast({c} as {col.type}) is null"
            ).fetchone()[0]
            assert bad == 0, f"{name}.{c} does not cast to {col.type}"
            if col.required:
                assert (
                    con.execute(f"select count(*) from {name} where {c} is null").fetchone()[0] == 0
                )
            if col.enum:
                values = {
                    r[0]
                    for r in con.execute(f"select distinct lower(trim({c})) from {name}").fetchall()
                }  # noqa: E501
                assert values <= set(col.enum) | {None}, (name, c, values)
            if col.not_future:
                late = con.execute(
                    f"select count(*) from {name} where cast({c} as {col.type}) > {end_ts}"
                )
                assert late.fetchone()[0] == 0, f"{name}.{c} in the future"
            if col.non_negative:
                neg = con.execute(f"select count(*) from {name} where cast({c} as double) < 0")
                assert neg.fetchone()[0] == 0
        key = ", ".join(table.key)
        dup = con.execute(
            f"select count(*) from (select filename, {key} from {name} "
            "group by all having count(*) > 1)"
        ).fetchone()[0]
        assert dup == 0, f"duplicate keys in {name}"
    orphans = con.execute(
        "select count(*) from order_items i left join products p using (product_id) "
        "where p.product_id is null"
    ).fetchone()[0]
    assert orphans == 0
    orphans = con.execute(
        "select count(*) from order_items i left join orders o using (order_id) "
        "where o.order_id is null"
    ).fetchone()[0]
    assert orphans == 0
    ages = con.execute(
        f"select min(date_diff('year', birth_date::date, date '{END}')), "
        f"max(date_diff('year', birth_date::date, date '{END}')) from customers"
    ).fetchone()
    assert ages[0] >= 18 and ages[1] <= 80


def test_order_totals_match_their_lines(
    clean: tuple[Path, dict[str, int]], con: duckdb.DuckDBPyConnection
) -> None:
    root, _ = clean
    _read(con, root, "orders")
    _read(con, root, "order_items")
    mismatches = con.execute(
        """
        select count(*) from orders o join (
            select order_id,
                   sum(quantity::int * unit_price::double) - sum(discount_amount::double) as net,
                   sum(discount_amount::double) as disc
            from order_items group by 1
        ) i using (order_id)
        where abs(o.total_amount::double - i.net) > 0.005
           or abs(o.discount_amount::double - i.disc) > 0.005
        """
    ).fetchone()[0]
    assert mismatches == 0
    n_orders, with_lines, discounted = con.execute(
        "select count(*), count(*) filter (where order_id in (select order_id from order_items)), "
        "count(*) filter (where discount_amount::double > 0) from orders"
    ).fetchone()
    assert n_orders == with_lines and 0 < discounted < n_orders
    shares = dict(
        con.execute(
            "select status, count(*) / sum(count(*)) over () from orders group by 1"
        ).fetchall()
    )  # noqa: E501
    assert shares["completed"] > 0.8 and shares["cancelled"] > 0 and shares["returned"] > 0


def test_every_completed_order_has_its_purchase_event(
    clean: tuple[Path, dict[str, int]], con: duckdb.DuckDBPyConnection
) -> None:
    root, _ = clean
    _read(con, root, "orders")
    _read(con, root, "events")
    missing = con.execute(
        """
        with p as (
            select json_extract_string(properties, '$.order_id') as order_id,
                   customer_id, occurred_at::timestamp as at
            from events where event_type = 'purchase'
        )
        select count(*) from orders o left join p
          on p.order_id = o.order_id and p.customer_id = o.customer_id
         and abs(date_diff('second', o.ordered_at::timestamp, p.at)) <= 120
        where o.status = 'completed' and p.order_id is null
        """
    ).fetchone()[0]
    assert missing == 0
    n_purchase = con.execute(
        "select count(*) from events where event_type = 'purchase'"
    ).fetchone()[0]
    n_orders = con.execute("select count(*) from orders").fetchone()[0]
    assert n_purchase == n_orders
    # web/app purchases close a session that went through the funnel
    funnel = con.execute(
        """
        select count(distinct session_id) filter (where event_type = 'purchase'),
               count(distinct session_id) filter (where event_type = 'checkout'),
               count(distinct session_id) filter (where event_type = 'add_to_cart')
        from events where session_id is not null
        """
    ).fetchone()
    assert funnel[0] > 0 and funnel[0] == funnel[1] and funnel[2] >= funnel[1]


def test_events_cover_browsing_email_app_and_anonymous_visits(
    clean: tuple[Path, dict[str, int]], con: duckdb.DuckDBPyConnection
) -> None:
    root, counts = clean
    _read(con, root, "events")
    _read(con, root, "customers")
    types = dict(con.execute("select event_type, count(*) from events group by 1").fetchall())
    for t in ("page_view", "product_view", "search", "add_to_cart", "checkout", "purchase",
              "email_send", "email_open", "email_click", "app_open", "signup"):  # fmt: skip
        assert types.get(t, 0) > 0, t
    assert types["email_open"] < types["email_send"]
    anon = con.execute(
        """
        select count(*), count(*) filter (where e.occurred_at::timestamp < c.signup_at::timestamp)
        from events e join (select distinct on (customer_id) * from customers) c
          on e.anonymous_id is not null and e.customer_id is null
         and e.anonymous_id = (
             select any_value(anonymous_id) from events s
             where s.event_type = 'signup' and s.customer_id = c.customer_id)
        """
    ).fetchone()
    assert anon[0] > 0 and anon[0] == anon[1]
    browse_only = con.execute(
        "select count(*) from (select session_id from events where session_id is not null "
        "group by 1 having count(*) filter (where event_type = 'purchase') = 0)"
    ).fetchone()[0]
    assert browse_only > counts["orders"]
    search = con.execute(
        "select count(*) from events where event_type = 'search' "
        "and json_extract_string(properties, '$.query') is null"
    ).fetchone()[0]
    assert search == 0
    per_customer = counts["events"] / CUSTOMERS
    assert 5 < per_customer < 60  # ~110 over 730 days scales to ~20 over 120 days


def test_customers_have_consent_mix_fake_contacts_and_later_updates(
    clean: tuple[Path, dict[str, int]], con: duckdb.DuckDBPyConnection
) -> None:
    root, _ = clean
    _read(con, root, "customers")
    base = "(select * from customers where filename like '%customers_000.csv')"
    consent = con.execute(f"select avg(marketing_consent::boolean::int) from {base}").fetchone()[0]
    assert 0.6 < consent < 0.8
    domains = {
        r[0]
        for r in con.execute(
            f"select distinct split_part(email, '@', 2) from {base} where email is not null"
        ).fetchall()
    }  # noqa: E501
    assert domains <= {"example.com", "example.net", "example.org"}
    genders = {r[0] for r in con.execute(f"select distinct gender from {base}").fetchall()}
    assert {"female", "male"} < genders and genders & {"other", "unknown", None}
    countries = con.execute(
        f"select country, count(*) from {base} group by 1 order by 2 desc"
    ).fetchall()
    assert countries[0][0] == "GB" and len(countries) >= 6
    changed = con.execute(
        f"""
        select count(*), count(*) filter (where u.updated_at::timestamp > b.updated_at::timestamp
            and (u.city <> b.city or u.marketing_consent <> b.marketing_consent))
        from (select * from customers where filename like '%customers_001.csv') u
        join {base} b using (customer_id)
        """
    ).fetchone()
    assert changed[0] > 0 and changed[0] == changed[1]


def test_dirt_contains_every_kind(dirty: Path, con: duckdb.DuckDBPyConnection) -> None:
    for name in ("customers", "products", "orders", "order_items", "events"):
        _read(con, dirty, name)
    q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    assert q("select count(*) from (select * from orders group by all having count(*) > 1)") > 0
    assert q("select count(*) from (select * from events group by all having count(*) > 1)") > 0
    assert (
        q(
            "select count(*) from orders "
            "where try_cast(ordered_at as timestamp) is null and ordered_at is not null"
        )
        > 0
    )  # noqa: E501
    assert (
        q(
            "select count(*) from orders "
            "where try_cast(total_amount as double) is null and total_amount is not null"
        )
        > 0
    )  # noqa: E501
    assert (
        q("select count(*) from orders where status not in ('completed', 'cancelled', 'returned')")
        > 0
    )  # noqa: E501
    assert q("select count(*) from orders where customer_id is null") > 0
    assert (
        q("select count(*) from orders where year(try_cast(ordered_at as timestamp)) >= 2099") > 0
    )  # noqa: E501
    assert (
        q(
            "select count(*) from order_items "
            "where product_id not in (select product_id from products)"
        )
        > 0
    )  # noqa: E501
    assert q("select count(*) from order_items where quantity is null") > 0
    assert q("select count(*) from events where event_type is null") > 0
    assert (
        q("select count(*) from events where year(try_cast(occurred_at as timestamp)) >= 2099") > 0
    )  # noqa: E501
    assert q("select count(*) from customers where customer_id is null") > 0
    # late events: rows at the end of a file that happened days before the rows above them
    late = q(
        """
        with e as (
            select try_cast(occurred_at as timestamp) as t, filename,
                   row_number() over (partition by filename) as pos
            from events
        ), run as (
            select t, max(t) over (partition by filename order by pos
                                   rows between unbounded preceding and 1 preceding) as seen
            from e where year(t) < 2099
        )
        select count(*) from run where t < seen - interval 1 day
        """
    )
    assert late > 0


def test_dirt_rate_controls_the_amount_of_dirt(
    clean: tuple[Path, dict[str, int]], dirty: Path, con: duckdb.DuckDBPyConnection
) -> None:
    root, counts = clean
    _read(con, dirty, "orders")
    n_dirty = con.execute("select count(*) from orders").fetchone()[0]
    assert counts["orders"] < n_dirty < counts["orders"] * 1.1
    _read(con, root, "orders")
    assert con.execute("select count(*) from orders").fetchone()[0] == counts["orders"]


def test_parquet_is_typed_and_only_gets_type_valid_dirt(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    counts = gen.generate(tmp_path, CUSTOMERS, DAYS, seed=7, fmt="parquet", dirt_rate=0.05)
    assert not list(tmp_path.rglob("*.csv"))
    for name, table in TABLES.items():
        files = sorted((tmp_path / name).glob(f"{name}_*.parquet"))
        assert files and pq.read_schema(files[0]).names == table.column_names
        assert sum(pq.read_metadata(f).num_rows for f in files) == counts[name]
    schema = pq.read_schema(tmp_path / "orders" / "orders_000.parquet")
    assert str(schema.field("ordered_at").type).startswith("timestamp")
    assert str(schema.field("total_amount").type) == "double"
    _read(con, tmp_path, "orders", "parquet")
    assert (
        con.execute(
            "select count(*) from orders where status in ('shipped', 'pending', 'on_hold')"
        ).fetchone()[0]
        > 0
    )  # noqa: E501
    assert (
        con.execute("select count(*) from orders where year(ordered_at) >= 2099").fetchone()[0] > 0
    )
    assert con.execute("select count(*) from orders where customer_id is null").fetchone()[0] > 0


def test_purchase_properties_are_json_with_the_order(
    clean: tuple[Path, dict[str, int]],
) -> None:
    root, _ = clean
    with (root / "events" / "events_000.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["event_type"] == "purchase"]
    props = json.loads(rows[0]["properties"])
    assert props["order_id"].startswith("O") and props["revenue"] >= 0 and props["currency"]


def test_progress_is_reported_and_bad_arguments_are_refused(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    gen.generate(tmp_path, 50, 30, progress=lambda s, d, t: calls.append((s, d, t)))
    assert ("activity", 1, 1) in calls and ("customers", 1, 1) in calls
    with pytest.raises(ValueError):
        gen.generate(tmp_path, 0, 30)
    with pytest.raises(ValueError):
        gen.generate(tmp_path, 10, 30, fmt="xlsx")
    with pytest.raises(ValueError):
        gen.generate(tmp_path, 10, 30, dirt_rate=2.0)


def test_end_date_is_fixed_and_moves_the_window(tmp_path: Path) -> None:
    assert date(2026, 10, 31) == gen.DEFAULT_END_DATE
    gen.generate(tmp_path, 50, 30, end_date=date(2025, 1, 31), dirt_rate=0.0)
    con = duckdb.connect()
    _read(con, tmp_path, "orders")
    first, last = con.execute(
        "select min(ordered_at::timestamp), max(ordered_at::timestamp) from orders"
    ).fetchone()  # noqa: E501
    assert first.date() >= date(2025, 1, 2) and last.date() <= date(2025, 1, 31)


def test_departments_and_basket_scale_make_a_grocery_like_shop(tmp_path: Path) -> None:
    """`--departments 32 --basket-scale 4`: a catalogue in ~30 departments and baskets that
    span several of them (the shape that counted a basket once per category)."""
    con = duckdb.connect()
    spans = {}
    for name, extra in (("plain", {}), ("grocery", {"departments": 32, "basket_scale": 4.0})):
        out = tmp_path / name
        gen.generate(out, customers=150, days=120, seed=3, dirt_rate=0.0, workers=1, **extra)
        products = f"read_csv('{out}/products/*.csv')"
        items = f"read_csv('{out}/order_items/*.csv')"
        (n_categories,) = con.execute(f"select count(distinct category) from {products}").fetchone()
        (span,) = con.execute(
            f"select avg(n) from (select order_id, count(distinct category) n from {items} "
            f"join {products} using (product_id) group by order_id)"
        ).fetchone()
        spans[name] = (n_categories, span)
    assert spans["plain"][0] == 10
    assert spans["grocery"][0] == 30
    assert spans["grocery"][1] > 2.0 > spans["plain"][1]
