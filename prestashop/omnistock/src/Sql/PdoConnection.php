<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock\Sql;

/** Connection over PDO (MySQL/MariaDB). Used by the tests and by CLI tools. */
class PdoConnection implements Connection
{
    /** @var \PDO */
    private $pdo;
    /** @var string */
    private $prefix;
    /** @var int */
    private $affected = 0;

    public function __construct(\PDO $pdo, $prefix = 'ps_')
    {
        $pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
        $this->pdo = $pdo;
        $this->prefix = (string) $prefix;
    }

    public function execute($sql)
    {
        $count = $this->pdo->exec($sql);
        $this->affected = (int) $count;

        return $count !== false;
    }

    public function rows($sql)
    {
        return $this->pdo->query($sql)->fetchAll(\PDO::FETCH_ASSOC);
    }

    public function quote($value)
    {
        return $this->pdo->quote((string) $value);
    }

    public function table($name)
    {
        return '`' . $this->prefix . $name . '`';
    }

    public function affectedRows()
    {
        return $this->affected;
    }

    public function engine()
    {
        return 'InnoDB';
    }
}
