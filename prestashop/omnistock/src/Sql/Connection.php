<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock\Sql;

/**
 * The little SQL the module needs. In PrestaShop it is Db::getInstance() (PrestaShopConnection);
 * the tests use PDO on a real MariaDB (PdoConnection). Table names are given without prefix and
 * written as {prefix}name by the callers via table().
 */
interface Connection
{
    /** Run a statement; false on failure. */
    public function execute($sql);

    /** @return array[] rows as associative arrays */
    public function rows($sql);

    /** Quote a string value for SQL, quotes included. */
    public function quote($value);

    /** The table name with the shop's prefix (e.g. ps_omnistock_order). */
    public function table($name);

    /** Rows changed by the last execute(). */
    public function affectedRows();

    /** MySQL engine for new tables (PrestaShop's _MYSQL_ENGINE_). */
    public function engine();
}
