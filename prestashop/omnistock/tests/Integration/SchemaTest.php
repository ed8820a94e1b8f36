<?php

use Omnistock\Schema;
use PHPUnit\Framework\TestCase;

/** The install SQL on the real MariaDB/MySQL of the bootstrap. */
final class SchemaTest extends TestCase
{
    public function testInstallCreatesEveryTableAndIsRepeatable()
    {
        $db = TestEnv::db('pfx_');
        $this->assertTrue(Schema::install($db));
        $db->execute('INSERT INTO `pfx_omnistock_cart` VALUES (7, \'S001\', \'Paris\', NOW())');
        $this->assertTrue(Schema::install($db), 'a second install keeps going');
        $tables = TestEnv::pdo()->query(
            "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" . TestEnv::databaseName() . "' AND TABLE_NAME LIKE 'pfx_%' ORDER BY TABLE_NAME"
        )->fetchAll(\PDO::FETCH_ASSOC);
        $this->assertSame(
            ['pfx_omnistock_cart', 'pfx_omnistock_order', 'pfx_omnistock_rate', 'pfx_omnistock_reservation'],
            array_column($tables, 'TABLE_NAME')
        );
        foreach ($tables as $t) {
            $this->assertSame('InnoDB', $t['ENGINE']);
            $this->assertSame('utf8mb4_unicode_ci', $t['TABLE_COLLATION']);
        }
        $this->assertSame(1, (int) TestEnv::pdo()->query('SELECT COUNT(*) FROM `pfx_omnistock_cart`')->fetchColumn(), 'rows survive a reinstall');
    }

    public function testReservationKeysAreUnique()
    {
        $db = TestEnv::db('uq_');
        Schema::install($db);
        $insert = "INSERT INTO `uq_omnistock_reservation` (`id_product`, `quantity`, `store_id`, `pickup_id`, `email`, `idempotency_key`, `date_add`) VALUES (1, 1, 'S001', 'p', 'a@b.c', 'k1', NOW())";
        $db->execute($insert);
        $this->expectException(\PDOException::class);
        $db->execute($insert);
    }

    public function testTheZipsSqlFileMatchesTheSchema()
    {
        // sql/install.sql (shipped for hosts that apply SQL by hand) is generated from Schema.
        $file = file_get_contents(__DIR__ . '/../../sql/install.sql');
        $db = TestEnv::db('PREFIX_');
        $this->assertSame(Schema::sqlFile($db), $file, 'run: php tests/tools/write_install_sql.php');
        // And it runs as it is on MariaDB.
        $pdo = TestEnv::pdo();
        foreach (array_filter(array_map('trim', explode(";\n", str_replace('PREFIX_', 'file_', $file)))) as $statement) {
            $pdo->exec($statement);
        }
        $this->assertSame(0, (int) $pdo->query('SELECT COUNT(*) FROM `file_omnistock_order`')->fetchColumn());
    }
}
