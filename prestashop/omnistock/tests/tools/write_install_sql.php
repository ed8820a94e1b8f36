<?php
/**
 * Writes sql/install.sql from Omnistock\Schema (table prefix PREFIX_). No database needed.
 */
require __DIR__ . '/../../src/autoload.php';

$db = new class() implements \Omnistock\Sql\Connection {
    public function execute($sql) { return true; }
    public function rows($sql) { return []; }
    public function quote($value) { return "'" . addslashes($value) . "'"; }
    public function table($name) { return '`PREFIX_' . $name . '`'; }
    public function affectedRows() { return 0; }
    public function engine() { return 'InnoDB'; }
};
file_put_contents(__DIR__ . '/../../sql/install.sql', \Omnistock\Schema::sqlFile($db));
