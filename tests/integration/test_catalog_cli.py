"""``stores import`` and ``mapping import`` as a user runs them (a process on the test database),
plus the file readers' edge cases through the command functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from service.cli.catalog import import_mapping_file, import_stores_file
from service.usecases.catalog.files import PrestashopOptions

# The commands through a parser built only from add_commands (cli/main.py hooks them in later).
RUNNER = """
import argparse, sys
from service.cli.catalog import add_commands
parser = argparse.ArgumentParser(prog="omnistock")
add_commands(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""
HOURS_9_7 = "09:00AM - 07:00PM"
# PrestaShop's default demo stores as its webservice returns them, with their quirks (postcodes
# with a leading space, "Miami" as every city, multilingual fields) and some broken hours.
FLORIDA = {
    "stores": [
        {
            "id": 1,
            "id_country": "21",
            "name": "Dade County",
            "address1": "3030 SW 8th St Miami",
            "address2": "",
            "city": "Miami",
            "postcode": " 33135",
            "latitude": "25.76500500",
            "longitude": "-80.24379700",
            "hours": json.dumps([[HOURS_9_7]] * 5 + [["10:00AM - 04:00PM"]] * 2),
            "active": "1",
        },
        {
            "id": "2",
            "name": [{"id": "1", "value": "E Fort Lauderdale"}],
            "address1": [{"id": "1", "value": "1000 Northeast 4th Ave Fort Lauderdale"}],
            "city": "Miami",
            "postcode": "33304",
            "latitude": "26.13793600",
            "longitude": "-80.13943500",
            "hours": [[HOURS_9_7]] * 5 + [[""], ["Closed"]],
            "active": "1",
        },
        {
            "id": "3",
            "name": "Pembroke Pines",
            "address1": "11001 Pines Blvd Pembroke Pines",
            "city": "Miami",
            "postcode": " 33026",
            "latitude": "26.00998700",
            "longitude": "-80.29447200",
            "hours": json.dumps([["Tuesday-ish"], [HOURS_9_7], ["25:00 - 26:00"]] + [[]] * 4),
            "active": "1",
        },
        {
            "id": "4",
            "name": "Coconut Grove",
            "address1": "2999 SW 32nd Avenue",
            "city": "Miami",
            "postcode": " 33133",
            "latitude": "25.73629600",
            "longitude": "-80.24479700",
            "hours": "Mon-Fri 9-5",
            "active": "1",
        },
        {
            "id": "5",
            "name": "N Miami/Biscayne",
            "address1": "12055 Biscayne Blvd",
            "city": "Miami",
            "postcode": "33181",
            "latitude": "25.88674000",
            "longitude": "-80.16329200",
            "hours": json.dumps([[HOURS_9_7]] * 7),
            "active": "0",
        },
    ]
}


def omnistock(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "OMNISTOCK_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


async def stores_table(pool: asyncpg.Pool) -> dict[str, asyncpg.Record]:
    return {r["store_id"]: r for r in await pool.fetch("SELECT * FROM stores")}


# --------------------------------------------------------------------------- stores import
async def test_prestashop_florida_stores(database_url: str, pool, tmp_path: Path) -> None:
    codes = write(tmp_path, "codes.json", {"5": "MIA-BISCAYNE"})
    path = write(tmp_path, "stores.json", FLORIDA)
    options = ["--timezone", "America/New_York", "--country", "us", "--code-map", str(codes)]
    result = omnistock(database_url, "stores", "import", str(path), *options)
    assert result.returncode == 0, result.stderr
    assert "5 created, 0 updated, 3 warning(s)" in result.stdout
    assert "PS3: Monday: could not read ['Tuesday-ish']" in result.stdout
    assert "PS3: Wednesday: could not read ['25:00 - 26:00']" in result.stdout
    assert "PS4: opening hours are not JSON" in result.stdout
    rows = await stores_table(pool)
    assert sorted(rows) == ["MIA-BISCAYNE", "PS1", "PS2", "PS3", "PS4"]
    assert [rows[c]["postcode"] for c in ("PS1", "PS3", "PS4")] == ["33135", "33026", "33133"]
    assert {r["city"] for r in rows.values()} == {"Miami"}
    assert {(r["country"], r["timezone"]) for r in rows.values()} == {("US", "America/New_York")}
    dade = rows["PS1"]
    assert (dade["latitude"], dade["longitude"]) == (25.765005, -80.243797)
    assert dade["opening_hours"]["mon"] == [["09:00", "19:00"]]
    assert dade["opening_hours"]["sun"] == [["10:00", "16:00"]]
    assert rows["PS2"]["name"] == "E Fort Lauderdale"
    assert rows["PS2"]["address"] == "1000 Northeast 4th Ave Fort Lauderdale"
    assert rows["PS2"]["opening_hours"]["sat"] == rows["PS2"]["opening_hours"]["sun"] == []
    assert rows["PS3"]["opening_hours"]["tue"] == [["09:00", "19:00"]]
    assert rows["PS3"]["opening_hours"]["mon"] == []  # unreadable: closed, never promised
    assert not any(rows["PS4"]["opening_hours"].values())
    assert rows["MIA-BISCAYNE"]["active"] is False


async def test_prestashop_reimport_keeps_what_prestashop_does_not_know(
    pool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = [{"store_id": "PS1", "name": "Old name", "pickup_capacity_per_day": 25,
             "services": ["reservation"], "hold_hours": 72}]  # fmt: skip
    assert await import_stores_file(pool, write(tmp_path, "ours.json", ours)) == 0
    path = write(tmp_path, "ps.json", {"stores": FLORIDA["stores"][:1]})
    assert await import_stores_file(pool, path, prestashop=PrestashopOptions()) == 0
    assert "0 created, 1 updated" in capsys.readouterr().out
    row = (await stores_table(pool))["PS1"]
    assert (row["name"], row["postcode"], row["timezone"]) == (
        "Dade County",
        "33135",
        "Europe/Paris",
    )
    assert (row["pickup_capacity_per_day"], row["hold_hours"]) == (25, 72)
    assert row["services"] == ["reservation"]


async def test_prestashop_store_without_id_is_refused(
    pool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {"stores": [FLORIDA["stores"][0], {**FLORIDA["stores"][2], "id": ""}]}
    assert await import_stores_file(pool, write(tmp_path, "ps.json", broken)) == 2
    err = capsys.readouterr().err
    assert "PrestaShop store ? (PS): id: no id_store" in err
    assert "nothing was written" in err
    assert await stores_table(pool) == {}


async def test_csv_import_with_structured_hours(
    pool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_text = (
        "store_id,name,address,city,postcode,country,latitude,longitude,timezone,hours,fax\n"
        "LYO,Omni Lyon,1 rue de la Republique,Lyon,69001,FR,45.7640,4.8357,Europe/Paris,"
        '"mon=14:00-19:00;tue=09:30-12:00,14:00-19:00;sun=closed",x\n'
        "WEB,Web store,,,,,,,,,\n"
    )
    assert await import_stores_file(pool, write(tmp_path, "stores.csv", csv_text)) == 0
    out = capsys.readouterr().out
    assert "warning: ignored column(s): fax" in out and "2 created" in out
    lyon = (await stores_table(pool))["LYO"]
    assert lyon["opening_hours"]["tue"] == [["09:30", "12:00"], ["14:00", "19:00"]]
    assert lyon["opening_hours"]["mon"] == [["14:00", "19:00"]]
    assert (lyon["latitude"], lyon["postcode"]) == (45.764, "69001")


def test_invalid_csv_exits_2_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    csv_text = (
        "store_id,name,latitude,longitude,timezone,hours\n"
        "PAR,Omni Paris,48.8566,2.3522,Europe/Paris,mon=09:30-19:00\n"
        "LYO,Omni Lyon,45.7640,4.8357,Europe/Paris,monday 9 to 7\n"
        "LIL,Omni Lille,150.62,3.0573,Europe/Lille,\n"
    )
    result = omnistock(database_url, "stores", "import", str(write(tmp_path, "s.csv", csv_text)))
    assert result.returncode == 2
    assert "line 3: hours: expected 'day=HH:MM-HH:MM'" in result.stderr
    assert "line 4: latitude: Input should be less than or equal to 90" in result.stderr
    assert "line 4: timezone: Value error, unknown time zone 'Europe/Lille'" in result.stderr
    assert "nothing was written" in result.stderr
    assert "created" not in result.stdout
    listed = omnistock(database_url, "stores", "import", str(tmp_path / "missing.json"))
    assert listed.returncode == 2 and "cannot read JSON" in listed.stderr


async def test_unreadable_files_exit_2(
    pool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await import_stores_file(pool, write(tmp_path, "a.json", "{not json")) == 2
    assert await import_stores_file(pool, write(tmp_path, "b.json", {"shops": []})) == 2
    assert await import_stores_file(pool, write(tmp_path, "c.csv", "name,city\nx,y\n")) == 2
    assert await import_mapping_file(pool, write(tmp_path, "d.csv", "sku,reference\nA,B\n")) == 2
    err = capsys.readouterr().err
    assert "cannot read JSON" in err and "PrestaShop webservice shape" in err
    assert "needs a store_id column" in err and "needs columns id_product and sku or ean" in err


# --------------------------------------------------------------------------- mapping import
async def seed_items(pool: asyncpg.Pool) -> None:
    await pool.executemany(
        "INSERT INTO items (sku, ean) VALUES ($1, $2)",
        [("JEAN-32", "3760000000017"), ("JEAN-34", "3760000000024"), ("BELT", None)],
    )


async def test_mapping_csv_import_reports_duplicates_and_blanks(
    database_url: str, pool, tmp_path: Path
) -> None:
    await seed_items(pool)
    csv_text = (
        "sku,ean,id_product,id_product_attribute,reference\n"
        "JEAN-32,3760000000017,20,1,JEAN\n"
        ",3760000000024,20,2,jean\n"
        "BELT,,30,,\n"
    )
    result = omnistock(database_url, "mapping", "import", str(write(tmp_path, "m.csv", csv_text)))
    assert result.returncode == 0, result.stderr
    assert "warning: reference 'JEAN' is shared by JEAN-32, JEAN-34" in result.stdout
    assert "warning: blank reference for BELT" in result.stdout
    assert "3 updated, 0 unchanged, 1 duplicate reference(s), 1 blank reference(s)" in result.stdout
    rows = await pool.fetch("SELECT sku, ps_product_id, ps_attribute_id FROM items ORDER BY sku")
    assert [tuple(r.values()) for r in rows] == [
        ("BELT", 30, 0),
        ("JEAN-32", 20, 1),
        ("JEAN-34", 20, 2),
    ]


async def test_mapping_with_invalid_rows_exits_2_with_a_row_report(
    pool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_items(pool)
    csv_text = (
        "sku,ean,id_product,id_product_attribute,reference\n"
        "JEAN-32,3760000000017,20,1,JEAN\n"
        "JEAN-34,3760000000025,20,2,\n"
        "GHOST,,21,0,\n"
        "BELT,,20,1,\n"
    )
    assert await import_mapping_file(pool, write(tmp_path, "m.csv", csv_text)) == 2
    err = capsys.readouterr().err
    assert "3 invalid row(s): nothing was imported" in err
    assert "line 3: ean: Value error, invalid ean13 '3760000000025': check digit should be 4" in err
    assert "line 4: sku: unknown sku 'GHOST' (not created)" in err
    assert "line 5: id_product: PrestaShop key 20:1 is also row 0 (line 2)" in err
    assert await pool.fetchval("SELECT count(*) FROM items WHERE ps_product_id IS NOT NULL") == 0
    rows = [{"sku": "BELT", "id_product": 31}]
    assert await import_mapping_file(pool, write(tmp_path, "m.json", rows)) == 0
    assert await pool.fetchval("SELECT ps_product_id FROM items WHERE sku = 'BELT'") == 31


async def test_the_simulators_own_store_directory_imports(
    database_url: str, pool, tmp_path: Path
) -> None:
    """What ``GET /_sim/stores`` answers (the demo's stores), saved to a file, imports as a new
    user would re-import it; a store's capacity set since is kept (the file has none)."""
    from service.erp.simulator import generate, store_directory

    directory = store_directory(generate(seed=7, stores=3, products=4))
    path = write(tmp_path, "sim-stores.json", directory)
    result = omnistock(database_url, "stores", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "3 created, 0 updated" in result.stdout
    rows = await stores_table(pool)
    first = directory[0]
    row = rows[first["code"]]
    assert (row["name"], row["latitude"], row["longitude"], row["timezone"]) == (
        first["name"],
        first["lat"],
        first["lng"],
        first["timezone"],
    )
    day, span = next((d, s) for d, s in first["hours"].items() if s)
    assert row["opening_hours"][day] == [list(span)]
    await pool.execute("UPDATE stores SET pickup_capacity_per_day = 12")
    result = omnistock(database_url, "stores", "import", str(path))
    assert result.returncode == 0 and "0 created, 3 updated" in result.stdout, result.stderr
    assert {r["pickup_capacity_per_day"] for r in (await stores_table(pool)).values()} == {12}
