<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock\Sql;

/** Connection over PrestaShop's Db::getInstance(). */
class PrestaShopConnection implements Connection
{
    public function execute($sql)
    {
        return (bool) \Db::getInstance()->execute($sql, false);
    }

    public function rows($sql)
    {
        $rows = \Db::getInstance()->executeS($sql, true, false);

        return is_array($rows) ? $rows : [];
    }

    public function quote($value)
    {
        return "'" . \Db::getInstance()->escape((string) $value, false, true) . "'";
    }

    public function table($name)
    {
        return '`' . _DB_PREFIX_ . $name . '`';
    }

    public function affectedRows()
    {
        return (int) \Db::getInstance()->Affected_Rows();
    }

    public function engine()
    {
        return defined('_MYSQL_ENGINE_') ? _MYSQL_ENGINE_ : 'InnoDB';
    }
}
