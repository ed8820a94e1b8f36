"""Pickup codes stored under the deployment's key: keyed hashes, a rotated key, a missing one,
and the PBKDF2 fallback (and older hashes) where no key is shared."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from service.api.app import pickup_settings
from service.domain.pickup_codes import hash_pickup_code
from service.settings import Settings
from tests.api.stock_fixtures import seed
from tests.api.test_pickups import create, reservation
from tests.conftest import AppFactory, KeyFactory, bearer


@pytest.fixture
async def keys(pool, make_key: KeyFactory) -> dict[str, str]:
    await seed(pool)
    return {"storefront": await make_key("storefront"), "staff": await make_key("staff", ["PAR"])}


async def _server(make_client: AppFactory, key: str, previous: str = ""):
    return await make_client(replay_key=SecretStr(key), replay_key_previous=SecretStr(previous))


async def _ready_pickup(client, keys) -> dict:
    p = await create(client, keys["storefront"], reservation(("JEANS-32", 1)))
    resp = await client.post(f"/v1/pickups/{p['id']}/ready", headers=bearer(keys["staff"]))
    assert resp.status == 200
    return p


async def _collect(client, keys, p: dict, code: str | None = None):
    return await client.post(
        f"/v1/pickups/{p['id']}/collect",
        json={"code": code or p["pickup_code"]},
        headers=bearer(keys["staff"]),
    )


async def test_codes_are_stored_keyed_and_collected(make_client, keys, pool) -> None:
    client = await _server(make_client, "key one")
    p = await _ready_pickup(client, keys)
    stored = bytes(await pool.fetchval("SELECT code_hash FROM pickups")).decode()
    assert stored.startswith("hmac_sha256$") and p["pickup_code"] not in stored
    resp = await _collect(client, keys, p)
    assert resp.status == 200 and (await resp.json())["state"] == "collected"


async def test_a_server_without_the_key_says_so_and_counts_no_attempt(
    make_client, keys, pool
) -> None:
    p = await _ready_pickup(await _server(make_client, "key one"), keys)
    rotated = await _server(make_client, "key two")  # rotated, the former key forgotten
    resp = await _collect(rotated, keys, p)
    problem = await resp.json()
    assert resp.status == 409 and problem["type"].endswith(":pickup-code-key-missing")
    assert "OMNISTOCK_REPLAY_KEY_PREVIOUS" in problem["detail"]
    assert await pool.fetchval("SELECT code_failures FROM pickups") == 0
    qr = await rotated.get(
        f"/v1/pickups/{p['id']}/qr.svg?code={p['pickup_code']}",
        headers=bearer(keys["storefront"]),
    )
    assert qr.status == 409
    assert await pool.fetchval("SELECT state FROM pickups") == "ready"
    # given the former key, the same server checks the code
    kept = await _server(make_client, "key two", previous="key zero, key one")
    assert (await _collect(kept, keys, p, "X" * 8)).status == 422  # a wrong code still counts
    assert await pool.fetchval("SELECT code_failures FROM pickups") == 1
    resp = await _collect(kept, keys, p)
    assert resp.status == 200 and (await resp.json())["state"] == "collected"


async def test_older_pbkdf2_codes_are_still_collected(make_client, keys, pool) -> None:
    client = await _server(make_client, "key one")
    p = await _ready_pickup(client, keys)
    salt = bytes(await pool.fetchval("SELECT code_salt FROM pickups"))
    older = hash_pickup_code(p["pickup_code"], salt, iterations=1000)
    await pool.execute("UPDATE pickups SET code_hash = $1", older.encode())
    assert (await _collect(client, keys, p, "y" * 8)).status == 422
    assert (await _collect(client, keys, p)).status == 200


def test_a_key_of_this_process_alone_keys_nothing(tmp_path: Path) -> None:
    """When the data folder cannot hold a shared key file, the key would be this process's own:
    a code keyed with it could not be checked by another replica or after a restart."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    alone = pickup_settings(Settings(replay_key=SecretStr(""), data_dir=not_a_folder / "x"))
    assert not alone.code_hasher.keyed
    assert alone.code_hasher.hash("ABCDEFGH", b"s" * 16).startswith("pbkdf2_sha256$1000$")
    shared = pickup_settings(Settings(replay_key=SecretStr(""), data_dir=tmp_path / "data"))
    assert shared.code_hasher.keyed
    configured = pickup_settings(
        Settings(replay_key=SecretStr("k8s secret"), data_dir=not_a_folder)
    )
    assert configured.code_hasher.keyed
