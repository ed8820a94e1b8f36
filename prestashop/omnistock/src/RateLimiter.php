<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

use Omnistock\Sql\Connection;

/**
 * At most $limit hits per visitor in a fixed window of $windowSeconds, counted in SQL so it
 * holds across PHP workers. The visitor key is hashed (no IP address stored in clear).
 */
class RateLimiter
{
    /** @var Connection */
    private $db;
    /** @var int */
    private $limit;
    /** @var int */
    private $window;

    public function __construct(Connection $db, $limit = 5, $windowSeconds = 600)
    {
        $this->db = $db;
        $this->limit = max(1, (int) $limit);
        $this->window = max(1, (int) $windowSeconds);
    }

    /** Count a hit; false when the visitor is over the limit (the hit is then not counted). */
    public function hit($visitor, $now = null)
    {
        $now = $now === null ? time() : (int) $now;
        $start = $now - ($now % $this->window);
        $bucket = $this->db->quote(sha1('omnistock|' . $visitor));
        $table = $this->db->table('omnistock_rate');
        // A new window resets the count; else count the hit while under the limit.
        $this->db->execute(
            'INSERT INTO ' . $table . ' (`bucket`, `window_start`, `hits`) VALUES (' . $bucket . ', ' . $start . ', 1)'
            . ' ON DUPLICATE KEY UPDATE'
            . ' `hits` = IF(`window_start` <> ' . $start . ', 1, IF(`hits` < ' . $this->limit . ', `hits` + 1, `hits`)),'
            . ' `window_start` = ' . $start
        );
        $rows = $this->db->rows('SELECT `hits`, `window_start` FROM ' . $table . ' WHERE `bucket` = ' . $bucket);
        if (!$rows) {
            return true;
        }
        // affectedRows: 1 inserted, 2 updated, 0 unchanged (already at the limit).
        return $this->db->affectedRows() !== 0;
    }

    /** Drop finished windows (called by the cron job). */
    public function purge($now = null)
    {
        $now = $now === null ? time() : (int) $now;

        return $this->db->execute('DELETE FROM ' . $this->db->table('omnistock_rate') . ' WHERE `window_start` < ' . ($now - $this->window));
    }
}
