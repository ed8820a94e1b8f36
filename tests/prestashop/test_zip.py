"""``./dev prestashop-zip``: the installable zip's contents, and its SQL installed on MariaDB."""

from __future__ import annotations

import subprocess
import uuid
import zipfile
from pathlib import Path

from tests.prestashop.conftest import MODULE, mysql, need
from tests.prestashop.omnistock_server import ROOT

REQUIRED = {
    "omnistock/omnistock.php",
    "omnistock/config.xml",
    "omnistock/logo.png",
    "omnistock/index.php",
    "omnistock/sql/install.sql",
    "omnistock/src/autoload.php",
    "omnistock/src/ApiClient.php",
    "omnistock/src/Schema.php",
    "omnistock/controllers/front/availability.php",
    "omnistock/controllers/front/checkout.php",
    "omnistock/controllers/front/reserve.php",
    "omnistock/controllers/front/reservations.php",
    "omnistock/controllers/front/cron.php",
    "omnistock/views/templates/hook/product.tpl",
    "omnistock/views/templates/hook/carrier.tpl",
    "omnistock/views/js/product.js",
    "omnistock/views/js/checkout.js",
    "omnistock/views/css/omnistock.css",
    "omnistock/mails/en/omnistock_pickup.html",
    "omnistock/mails/en/omnistock_pickup.txt",
}


def build(tmp_path: Path) -> Path:
    done = subprocess.run(
        [str(ROOT / "dev"), "prestashop-zip", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def test_zip_contents(tmp_path: Path) -> None:
    target = build(tmp_path)
    assert target.name == "omnistock-1.0.0.zip"
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        assert zf.testzip() is None
    assert names >= REQUIRED, REQUIRED - names
    assert all(n.startswith("omnistock/") for n in names), "one top folder named as the module"
    assert not [n for n in names if "/tests/" in n or n.endswith("phpunit.xml")]
    # Every folder has PrestaShop's index.php guard.
    folders = {n.rsplit("/", 1)[0] for n in names}
    assert {f for f in folders if f"{f}/index.php" not in names} == set()
    # Every module file of the sources is in the zip (nothing forgotten).
    sources = {
        f"omnistock/{p.relative_to(MODULE).as_posix()}"
        for p in MODULE.rglob("*")
        if p.is_file() and p.relative_to(MODULE).parts[0] != "tests" and p.name != "phpunit.xml"
    }
    assert names == sources
    # Same sources, same bytes.
    again = build(tmp_path / "again")
    assert again.read_bytes() == target.read_bytes()


def test_zip_installs_its_sql_on_mariadb(tmp_path: Path) -> None:
    target = build(tmp_path)
    with zipfile.ZipFile(target) as zf:
        zf.extractall(tmp_path / "x")
    module = tmp_path / "x" / "omnistock"
    sql_file = str(module / "sql/install.sql")
    database = f"omnistock_zip_{uuid.uuid4().hex[:10]}"
    mysql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    try:
        # The extracted module's own classes install its tables (what install() runs), twice.
        code = f"""
            require {str(module / "src/autoload.php")!r};
            $pdo = new PDO("mysql:host=127.0.0.1;port=3306;dbname={database}", "root", "");
            $db = new Omnistock\\Sql\\PdoConnection($pdo, "ps_");
            if (!Omnistock\\Schema::install($db) || !Omnistock\\Schema::install($db)) exit(1);
            $sql = str_replace("PREFIX_", "file_", file_get_contents({sql_file!r}));
            foreach (array_filter(array_map("trim", explode(";\\n", $sql))) as $s) $pdo->exec($s);
            $t = $pdo->query("SHOW TABLES")->fetchAll(PDO::FETCH_COLUMN);
            sort($t);
            echo implode(",", $t);
        """
        done = subprocess.run([need("php"), "-r", code], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        tables = done.stdout.split(",")
        expected = ["omnistock_cart", "omnistock_order", "omnistock_rate", "omnistock_reservation"]
        assert tables == [f"file_{t}" for t in expected] + [f"ps_{t}" for t in expected]
    finally:
        mysql(f"DROP DATABASE IF EXISTS `{database}`")
