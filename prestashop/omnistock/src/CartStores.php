<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

use Omnistock\Sql\Connection;

/** The store chosen for a cart at checkout (kept when the shopper switches carrier and back). */
class CartStores
{
    /** @var Connection */
    private $db;

    public function __construct(Connection $db)
    {
        $this->db = $db;
    }

    public function choose($idCart, $storeId, $storeName = '')
    {
        if ((int) $idCart < 1 || !preg_match('/^[A-Za-z0-9_.-]{1,32}$/', (string) $storeId)) {
            return false;
        }

        return $this->db->execute(
            'REPLACE INTO ' . $this->db->table('omnistock_cart') . ' (`id_cart`, `store_id`, `store_name`, `date_upd`) VALUES ('
            . (int) $idCart . ', ' . $this->db->quote($storeId) . ', ' . $this->db->quote(substr((string) $storeName, 0, 128)) . ', '
            . $this->db->quote(gmdate('Y-m-d H:i:s')) . ')'
        );
    }

    /** @return array|null store_id, store_name */
    public function chosen($idCart)
    {
        $rows = $this->db->rows('SELECT `store_id`, `store_name` FROM ' . $this->db->table('omnistock_cart') . ' WHERE `id_cart` = ' . (int) $idCart);

        return $rows ? $rows[0] : null;
    }

    public function forget($idCart)
    {
        return $this->db->execute('DELETE FROM ' . $this->db->table('omnistock_cart') . ' WHERE `id_cart` = ' . (int) $idCart);
    }
}
