"""The ``omnistock`` CLI as a user runs it: separate processes on the test database."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import AppFactory, bearer


def omnistock(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "OMNISTOCK_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_keys_create_list_revoke_round_trip(
    database_url: str, make_client: AppFactory
) -> None:
    created = omnistock(
        database_url,
        "keys",
        "create",
        "--role",
        "staff",
        "--store",
        "S001",
        "--store",
        "S002",
        "--label",
        "lyon till",
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("osk_") and len(key) > 40
    assert "shown once" in created.stderr

    client = await make_client()
    # the key works and is a staff key: admin routes refuse it with 403, not 401
    assert (await client.get("/v1/admin/keys", headers=bearer(key))).status == 403

    listed = omnistock(database_url, "keys", "list")
    assert listed.returncode == 0
    assert "lyon till" in listed.stdout and "S001,S002" in listed.stdout
    assert key not in listed.stdout
    key_id = listed.stdout.split()[0]

    revoked = omnistock(database_url, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/v1/admin/keys", headers=bearer(key))).status == 401
    assert "revoked" in omnistock(database_url, "keys", "list", "--all").stdout


def test_keys_create_refuses_staff_without_store(database_url: str) -> None:
    result = omnistock(database_url, "keys", "create", "--role", "staff")
    assert result.returncode == 2
    assert "stores: a staff key must name at least one store" in result.stderr


def test_migrate_command_is_idempotent(empty_database_url: str) -> None:
    first = omnistock(empty_database_url, "migrate")
    assert first.returncode == 0, first.stderr
    assert "applied 0001_foundation" in first.stdout
    second = omnistock(empty_database_url, "migrate")
    assert "0 migration(s) applied" in second.stdout
