<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

use Omnistock\Sql\Connection;

/**
 * The module's tables. Install creates them if missing (re-installing keeps rows); uninstall
 * never drops them: pickup codes and the order links outlive a module reinstall.
 */
class Schema
{
    const TABLES = ['omnistock_cart', 'omnistock_order', 'omnistock_reservation', 'omnistock_rate'];

    /** @return string[] */
    public static function statements(Connection $db)
    {
        $engine = preg_replace('/[^A-Za-z0-9_]/', '', $db->engine());
        $tail = ' ENGINE=' . $engine . ' DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

        return [
            // The store a cart will be collected from (chosen in the carrier's extra content).
            'CREATE TABLE IF NOT EXISTS ' . $db->table('omnistock_cart') . ' (
                `id_cart` INT UNSIGNED NOT NULL,
                `store_id` VARCHAR(32) NOT NULL,
                `store_name` VARCHAR(128) NOT NULL DEFAULT \'\',
                `date_upd` DATETIME NOT NULL,
                PRIMARY KEY (`id_cart`)
            )' . $tail,
            // One row per click-and-collect order: its pickup, or what to retry.
            'CREATE TABLE IF NOT EXISTS ' . $db->table('omnistock_order') . ' (
                `id_order` INT UNSIGNED NOT NULL,
                `id_cart` INT UNSIGNED NOT NULL DEFAULT 0,
                `store_id` VARCHAR(32) NOT NULL,
                `pickup_id` VARCHAR(64) NULL,
                `pickup_code` VARCHAR(32) NULL,
                `status` VARCHAR(16) NOT NULL,
                `payload` MEDIUMTEXT NOT NULL,
                `attempts` INT UNSIGNED NOT NULL DEFAULT 0,
                `next_attempt` DATETIME NULL,
                `last_error` VARCHAR(512) NOT NULL DEFAULT \'\',
                `date_add` DATETIME NOT NULL,
                `date_upd` DATETIME NOT NULL,
                PRIMARY KEY (`id_order`),
                KEY `omnistock_order_due` (`status`, `next_attempt`)
            )' . $tail,
            // E-reservations made from product pages ("My reservations").
            'CREATE TABLE IF NOT EXISTS ' . $db->table('omnistock_reservation') . ' (
                `id_reservation` INT UNSIGNED NOT NULL AUTO_INCREMENT,
                `id_customer` INT UNSIGNED NOT NULL DEFAULT 0,
                `id_product` INT UNSIGNED NOT NULL,
                `id_product_attribute` INT UNSIGNED NOT NULL DEFAULT 0,
                `quantity` INT UNSIGNED NOT NULL,
                `store_id` VARCHAR(32) NOT NULL,
                `store_name` VARCHAR(128) NOT NULL DEFAULT \'\',
                `pickup_id` VARCHAR(64) NOT NULL,
                `pickup_code` VARCHAR(32) NOT NULL DEFAULT \'\',
                `email` VARCHAR(254) NOT NULL,
                `deadline` VARCHAR(40) NOT NULL DEFAULT \'\',
                `idempotency_key` VARCHAR(100) NOT NULL,
                `date_add` DATETIME NOT NULL,
                PRIMARY KEY (`id_reservation`),
                UNIQUE KEY `omnistock_reservation_key` (`idempotency_key`),
                KEY `omnistock_reservation_customer` (`id_customer`)
            )' . $tail,
            // Per-visitor reservation rate limit (fixed windows).
            'CREATE TABLE IF NOT EXISTS ' . $db->table('omnistock_rate') . ' (
                `bucket` CHAR(40) NOT NULL,
                `window_start` INT UNSIGNED NOT NULL,
                `hits` INT UNSIGNED NOT NULL,
                PRIMARY KEY (`bucket`)
            )' . $tail,
        ];
    }

    /** The statements as one SQL file (sql/install.sql, table prefix written PREFIX_). */
    public static function sqlFile(Connection $db)
    {
        $out = '';
        foreach (self::statements($db) as $sql) {
            $out .= preg_replace('/^ {12}/m', '    ', $sql) . ";\n";
        }

        return $out;
    }

    public static function install(Connection $db)
    {
        foreach (self::statements($db) as $sql) {
            if (!$db->execute($sql)) {
                return false;
            }
        }

        return true;
    }
}
