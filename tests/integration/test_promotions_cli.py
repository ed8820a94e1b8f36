"""``promotions import`` as a user runs it (a process on the test database), its all-or-nothing
errors, and the API's rule cache noticing writes made by other processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from service.cli.promotions import import_promotions_file
from service.usecases.promotions.rulebook import RuleCache
from stores import promotions as repo
from tests.api.stock_fixtures import seed

# The command through a parser built only from add_commands (cli/main.py hooks it in later).
RUNNER = """
import argparse, sys
from service.cli.promotions import add_commands
parser = argparse.ArgumentParser(prog="omnistock")
add_commands(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""
SUMMER = {
    "id": "SUMMER",
    "name": "Summer tops",
    "kind": "percentage",
    "percent": "20",
    "targets": {"categories": ["tops"], "label": "Tops"},
    "channel": "store",
    "store_ids": ["PAR", "LYO"],
    "starts_at": "2030-06-01T00:00:00+02:00",
    "ends_at": "2030-09-01T00:00:00+02:00",
}
B2G1 = {
    "id": "B2G1",
    "name": "Jeans 3 for 2",
    "kind": "buy_x_get_y",
    "buy_x": 2,
    "get_y": 1,
    "targets": {"skus": ["JEANS-32"]},
    "exclusive": True,
}
SPEND = {"id": "SPEND", "name": "5 off 50", "kind": "threshold", "threshold": "50.00",
         "amount": "5", "targets": {"all_items": True}, "loyalty_only": True}  # fmt: skip
CATEGORIES = {"TSHIRT-RED-M": ["tops", "sale"], "TSHIRT-RED-L": ["tops"]}


def write(tmp_path: Path, document: Any, name: str = "promotions.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


async def omnistock(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "OMNISTOCK_LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUNNER, *args, env=env, stdout=-1, stderr=-1
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def snapshot(pool: asyncpg.Pool) -> tuple[list[Any], list[Any]]:
    rules = await pool.fetch("SELECT rule_id, rule, updated_at FROM promotion_rules ORDER BY 1")
    cats = await pool.fetch("SELECT sku, category FROM item_categories ORDER BY 1, 2")
    return [tuple(r) for r in rules], [tuple(r) for r in cats]


async def test_import_writes_everything_or_nothing(pool, database_url, tmp_path) -> None:
    await seed(pool)
    good = write(tmp_path, {"rules": [SUMMER, B2G1], "item_categories": CATEGORIES})
    code, out, err = await omnistock(database_url, "promotions", "import", str(good))
    assert (code, err) == (0, ""), err
    assert "2 rule(s) created, 0 replaced, 0 deleted; categories set for 2 item(s)" in out
    stored = await pool.fetch("SELECT rule_id FROM promotion_rules ORDER BY 1")
    assert [r["rule_id"] for r in stored] == ["B2G1", "SUMMER"]
    async with pool.acquire() as conn:
        summer = await repo.get_rule(conn, "SUMMER")
    assert summer is not None and summer.rule["store_ids"] == ["PAR", "LYO"]
    assert summer.rule["starts_at"] == "2030-06-01T00:00:00+02:00"
    before = await snapshot(pool)
    assert before[1] == [
        ("TSHIRT-RED-L", "tops"),
        ("TSHIRT-RED-M", "sale"),
        ("TSHIRT-RED-M", "tops"),
    ]

    bad_rules = [
        {**SUMMER, "percent": "150"},  # changed, but invalid
        {**B2G1, "get_y": None},
        {**SPEND, "kind": "bogo"},
        {"name": "no id", "kind": "percentage", "percent": 5, "targets": {"all_items": True}},
        {**SPEND, "id": "B2G1"},
    ]
    bad = write(tmp_path, {"rules": bad_rules, "item_categories": {"JEANS-32": ["denim"]}})
    code, out, err = await omnistock(database_url, "promotions", "import", str(bad))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert "  rules[0].percent (rule 'SUMMER'): must be between 0.01 and 100" in lines
    assert "  rules[1].get_y (rule 'B2G1'): required" in lines
    assert any(x.startswith("  rules[2].kind (rule 'SPEND'): unknown kind 'bogo'") for x in lines)
    assert "  rules[3].id: Field required" in lines
    assert "  rules[4].id (rule 'B2G1'): rule 'B2G1' is also rules[1]" in lines
    assert lines[-1] == "nothing was written"
    assert await snapshot(pool) == before


async def test_unknown_items_bad_files_and_replace(pool, tmp_path, capsys, monkeypatch) -> None:
    await seed(pool)
    first = write(tmp_path, {"rules": [SUMMER, B2G1], "item_categories": CATEGORIES})
    assert await import_promotions_file(pool, first) == 0
    before = await snapshot(pool)

    async def fail(*_: Any) -> None:
        raise asyncpg.PostgresError("the database went away")

    with monkeypatch.context() as patch:  # a failure after the rules were written
        patch.setattr(repo, "set_categories", fail)
        valid = {"rules": [SPEND], "item_categories": {"JEANS-32": ["denim"]}}
        with pytest.raises(asyncpg.PostgresError):
            await import_promotions_file(pool, write(tmp_path, valid), replace=True)
    assert await snapshot(pool) == before  # SUMMER and B2G1 not deleted, SPEND not written

    unknown = {"rules": [SPEND], "item_categories": {"JEANS-32": ["denim"], "NOPE-1": ["x"]}}
    assert await import_promotions_file(pool, write(tmp_path, unknown)) == 2
    assert "  item_categories.NOPE-1: no item with SKU 'NOPE-1'" in capsys.readouterr().err
    assert await snapshot(pool) == before  # SPEND and JEANS-32's categories not written either
    broken_files: list[Any] = ["{not json", '["a list"]', {"rules": {"S": SPEND}}, {"rule": []}]
    for broken in broken_files:
        assert await import_promotions_file(pool, write(tmp_path, broken)) == 2
        assert "nothing was written" in capsys.readouterr().err
    assert await import_promotions_file(pool, tmp_path / "missing.json") == 2
    assert "cannot read" in capsys.readouterr().err

    replace = {"rules": [{**B2G1, "priority": 5}, SPEND], "item_categories": {"TSHIRT-RED-M": []}}
    assert await import_promotions_file(pool, write(tmp_path, replace), replace=True) == 0
    out = capsys.readouterr().out
    assert "1 rule(s) created, 1 replaced, 1 deleted" in out and "deleted rule SUMMER" in out
    rules, categories = await snapshot(pool)
    assert [r[0] for r in rules] == ["B2G1", "SPEND"] and rules[0][1]["priority"] == 5
    assert categories == [("TSHIRT-RED-L", "tops")]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _write(pool: asyncpg.Pool, rule_id: str, rule: dict[str, Any] | None) -> None:
    """A write as another process makes it (this process's cache is not told)."""
    async with pool.acquire() as conn, conn.transaction():
        await repo.lock_rules(conn)
        if rule is None:
            await repo.delete_rule(conn, rule_id)
        else:
            await repo.save_rule(conn, rule_id, rule)


async def test_rule_cache_reloads_when_the_rules_change(pool) -> None:
    clock, refresh_s = FakeClock(), 5.0
    cache = RuleCache(refresh_s, clock=clock)
    first = await cache.current(pool)
    assert (len(first.book), first.version) == (0, 1)
    spend = {k: v for k, v in SPEND.items() if k != "id"}
    await _write(pool, "SPEND", spend)
    assert await cache.current(pool) is first  # checked less than refresh_s ago
    clock.now += refresh_s
    second = await cache.current(pool)
    assert (second.version, [r.id for r in second.book.rules]) == (2, ["SPEND"])
    clock.now += refresh_s
    assert await cache.current(pool) is second  # signature unchanged: not reloaded

    await _write(pool, "B2G1", {k: v for k, v in B2G1.items() if k != "id"})
    cache.invalidate()  # what the API does after its own writes: seen at once
    third = await cache.current(pool)
    assert (third.version, [r.id for r in third.book.rules]) == (3, ["B2G1", "SPEND"])
    await _write(pool, "B2G1", None)  # max(updated_at) unchanged, the count tells
    clock.now += refresh_s
    fourth = await cache.current(pool)
    assert (fourth.version, [r.id for r in fourth.book.rules]) == (4, ["SPEND"])

    await pool.execute(
        "INSERT INTO promotion_rules (rule_id, rule) VALUES ('HAND', '{\"kind\": \"bogus\"}')"
    )
    cache.invalidate()
    loaded = await cache.current(pool)  # a rule written around validation is skipped, logged
    assert ([r.id for r in loaded.book.rules], loaded.unreadable) == (["SPEND"], ("HAND",))
    results = await asyncio.gather(*(cache.current(pool) for _ in range(20)))
    assert {id(r) for r in results} == {id(loaded)}
