"""#21 erased bytes: after an erasure no byte of the person's email or phone is left in any
file under the warehouse folder. compact rewrites a DuckDB file without its freed blocks
(DELETE alone leaves the old rows readable); scrub_folder rewrites the other files that
picked a value up (SQLite storage, text logs and docs)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb

from segmint.warehouse.compact import compact
from segmint.warehouse.scrub import scrub_folder

EMAIL = b"erased.person@example.org"
PHONE = b"+44 20 7946 0123"


def _files_with(folder: Path, *needles: bytes) -> list[str]:
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and any(n.lower() in p.read_bytes().lower() for n in needles)
    )


def test_compact_leaves_no_deleted_row_in_the_file_and_keeps_everything_else(
    tmp_path: Path,
) -> None:
    db = tmp_path / "segmint.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.customers (customer_id varchar, email varchar, phone varchar)"
        )
        # Distinct, incompressible-enough values so the person's row is stored verbatim.
        con.execute(
            "insert into raw.customers select 'c' || i, 'someone' || i || '@x' || md5(i::varchar)"
            " || '.com', '+1555' || i from range(3000) t(i)"
        )
        con.execute(
            "insert into raw.customers values ('gone', ?, ?)", [EMAIL.decode(), PHONE.decode()]
        )
        con.execute("comment on column raw.customers.email is 'contact email'")
        con.execute("create view raw.v as select customer_id from raw.customers")
        con.execute("checkpoint")
        con.execute("delete from raw.customers where customer_id = 'gone'")
        con.execute("checkpoint")
    assert EMAIL in db.read_bytes()  # what the issue found: DELETE keeps the bytes

    before, after = compact(db)
    assert EMAIL not in db.read_bytes() and PHONE not in db.read_bytes()
    assert before > 0 and after > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["segmint.duckdb"]  # no temp left
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.v").fetchone() == (3000,)
        comment = con.execute(
            "select comment from duckdb_columns() where column_name = 'email'"
        ).fetchone()
        assert comment == ("contact email",)


def test_scrub_rewrites_sqlite_storage_and_text_files_but_not_duckdb(tmp_path: Path) -> None:
    dagster = tmp_path / "dagster" / "history"
    dagster.mkdir(parents=True)
    store = dagster / "runs.db"
    con = sqlite3.connect(store)
    con.execute("create table event_logs (id integer primary key, event text, n integer)")
    con.execute(
        "insert into event_logs (event, n) values (?, 1), ('nothing here', 2)",
        [f'{{"unexpected": ["{EMAIL.decode().upper()}", "{PHONE.decode()}"]}}'],
    )
    con.commit()
    con.close()
    logs = tmp_path / "artifacts" / "data_docs"
    logs.mkdir(parents=True)
    (logs / "validation.html").write_bytes(b"<td>" + EMAIL + b"</td><td>other@example.com</td>")
    (logs / "run.json").write_bytes(b'{"value": "' + PHONE + b'"}')
    (logs / "clean.json").write_text('{"ok": true}')
    (tmp_path / "plot.png").write_bytes(b"\x89PNG\r\n" + EMAIL)
    duck = tmp_path / "segmint.duckdb"
    duckdb.connect(str(duck)).close()

    report = scrub_folder(tmp_path, {EMAIL.decode(), PHONE.decode()})

    assert sorted(p.name for p in report.rewritten) == ["run.json", "runs.db", "validation.html"]
    assert [p.name for p in report.left] == ["plot.png"]  # binary: reported, not edited
    assert _files_with(tmp_path, EMAIL, PHONE) == ["plot.png"]
    assert (logs / "validation.html").read_bytes() == b"<td>[erased]</td><td>other@example.com</td>"
    assert (logs / "run.json").read_text() == '{"value": "[erased]"}'
    con = sqlite3.connect(store)
    assert con.execute("select event, n from event_logs order by id").fetchall() == [
        ('{"unexpected": ["[erased]", "[erased]"]}', 1),
        ("nothing here", 2),
    ]
    con.close()
