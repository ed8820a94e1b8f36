CREATE TABLE IF NOT EXISTS `PREFIX_omnistock_cart` (
        `id_cart` INT UNSIGNED NOT NULL,
        `store_id` VARCHAR(32) NOT NULL,
        `store_name` VARCHAR(128) NOT NULL DEFAULT '',
        `date_upd` DATETIME NOT NULL,
        PRIMARY KEY (`id_cart`)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `PREFIX_omnistock_order` (
        `id_order` INT UNSIGNED NOT NULL,
        `id_cart` INT UNSIGNED NOT NULL DEFAULT 0,
        `store_id` VARCHAR(32) NOT NULL,
        `pickup_id` VARCHAR(64) NULL,
        `pickup_code` VARCHAR(32) NULL,
        `status` VARCHAR(16) NOT NULL,
        `payload` MEDIUMTEXT NOT NULL,
        `attempts` INT UNSIGNED NOT NULL DEFAULT 0,
        `next_attempt` DATETIME NULL,
        `last_error` VARCHAR(512) NOT NULL DEFAULT '',
        `date_add` DATETIME NOT NULL,
        `date_upd` DATETIME NOT NULL,
        PRIMARY KEY (`id_order`),
        KEY `omnistock_order_due` (`status`, `next_attempt`)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `PREFIX_omnistock_reservation` (
        `id_reservation` INT UNSIGNED NOT NULL AUTO_INCREMENT,
        `id_customer` INT UNSIGNED NOT NULL DEFAULT 0,
        `id_product` INT UNSIGNED NOT NULL,
        `id_product_attribute` INT UNSIGNED NOT NULL DEFAULT 0,
        `quantity` INT UNSIGNED NOT NULL,
        `store_id` VARCHAR(32) NOT NULL,
        `store_name` VARCHAR(128) NOT NULL DEFAULT '',
        `pickup_id` VARCHAR(64) NOT NULL,
        `pickup_code` VARCHAR(32) NOT NULL DEFAULT '',
        `email` VARCHAR(254) NOT NULL,
        `deadline` VARCHAR(40) NOT NULL DEFAULT '',
        `idempotency_key` VARCHAR(100) NOT NULL,
        `date_add` DATETIME NOT NULL,
        PRIMARY KEY (`id_reservation`),
        UNIQUE KEY `omnistock_reservation_key` (`idempotency_key`),
        KEY `omnistock_reservation_customer` (`id_customer`)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `PREFIX_omnistock_rate` (
        `bucket` CHAR(40) NOT NULL,
        `window_start` INT UNSIGNED NOT NULL,
        `hits` INT UNSIGNED NOT NULL,
        PRIMARY KEY (`bucket`)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
