<?php
/**
 * PHPUnit bootstrap: a REAL omnistock (the repository's `omnistock demo`: Cegid simulator, sync,
 * API, with a known PrestaShop scenario, see tests/prestashop/omnistock_server.py) and a REAL
 * MariaDB/MySQL database created for this run and dropped after it.
 *
 * Environment:
 *   OMNISTOCK_TEST_INFO  JSON printed by omnistock_server.py (a running omnistock to reuse);
 *                        unset: this bootstrap starts one with the repository's .venv
 *   OMNISTOCK_TEST_MYSQL PDO DSN of the server (default mysql:host=127.0.0.1;port=3306), user
 *                        OMNISTOCK_TEST_MYSQL_USER (root), password OMNISTOCK_TEST_MYSQL_PASSWORD ('')
 */
require __DIR__ . '/../src/autoload.php';
require __DIR__ . '/TestEnv.php';

TestEnv::boot();
