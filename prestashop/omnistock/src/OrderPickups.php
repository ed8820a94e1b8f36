<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

use Omnistock\Sql\Connection;

/**
 * The `order` pickup of each click-and-collect order, and the retry queue behind it.
 *
 * create() never throws: an order PrestaShop has validated must not fail because omnistock or
 * Cegid is down. A retryable refusal (timeout, 409, 429, 5xx) is recorded with its payload and
 * retried by the cron job with the same Idempotency-Key (ps-order-{id_order}); a final refusal
 * (422 unknown item...) is recorded as failed. Both show in the back office.
 *
 * Row status: created | retry | failed | cancel_retry | cancelled.
 */
class OrderPickups
{
    const MAX_ATTEMPTS = 12;

    /** @var ApiClient */
    private $api;
    /** @var Connection */
    private $db;

    public function __construct(ApiClient $api, Connection $db)
    {
        $this->api = $api;
        $this->db = $db;
    }

    /**
     * Create the pickup of an order (first attempt). Returns the row as stored.
     */
    public function create($idOrder, $idCart, $storeId, array $body, $now = null)
    {
        $now = $now === null ? time() : (int) $now;
        $existing = $this->find($idOrder);
        if ($existing && in_array($existing['status'], ['created', 'cancelled', 'cancel_retry'], true)) {
            return $existing;
        }
        $payload = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        $this->db->execute(
            'INSERT IGNORE INTO ' . $this->db->table('omnistock_order')
            . ' (`id_order`, `id_cart`, `store_id`, `status`, `payload`, `attempts`, `next_attempt`, `date_add`, `date_upd`) VALUES ('
            . (int) $idOrder . ', ' . (int) $idCart . ', ' . $this->db->quote($storeId) . ", 'retry', " . $this->db->quote($payload)
            . ', 0, ' . $this->db->quote(self::at($now)) . ', ' . $this->db->quote(self::at($now)) . ', ' . $this->db->quote(self::at($now)) . ')'
        );

        return $this->attempt($this->find($idOrder), $now);
    }

    /** @var int[] orders whose pickup the last retryDue() created */
    private $lastCreated = [];

    /** Orders whose pickup the last retryDue() created (to mail their codes). */
    public function lastCreated()
    {
        return $this->lastCreated;
    }

    /** One pass of the retry job: due creations and cancellations. Returns counts by outcome. */
    public function retryDue($limit = 50, $now = null)
    {
        $now = $now === null ? time() : (int) $now;
        $rows = $this->db->rows(
            'SELECT * FROM ' . $this->db->table('omnistock_order')
            . " WHERE `status` IN ('retry', 'cancel_retry') AND `next_attempt` <= " . $this->db->quote(self::at($now))
            . ' ORDER BY `next_attempt` LIMIT ' . (int) $limit
        );
        $counts = ['created' => 0, 'cancelled' => 0, 'retry' => 0, 'cancel_retry' => 0, 'failed' => 0];
        $this->lastCreated = [];
        foreach ($rows as $row) {
            $after = $row['status'] === 'cancel_retry' ? $this->attemptCancel($row, '', $now) : $this->attempt($row, $now);
            ++$counts[$after['status']];
            if ($after['status'] === 'created') {
                $this->lastCreated[] = (int) $after['id_order'];
            }
        }

        return $counts;
    }

    /**
     * The order was cancelled in PrestaShop: cancel its pickup (or forget a pending creation).
     */
    public function cancel($idOrder, $reason = '', $now = null)
    {
        $now = $now === null ? time() : (int) $now;
        $row = $this->find($idOrder);
        if (!$row) {
            return null;
        }
        if (in_array($row['status'], ['retry', 'failed'], true)) {
            // Not created as far as we know: stop retrying. (If an attempt that timed out did
            // reach omnistock, that pickup was never confirmed to the shopper and its hold
            // ends at its deadline.)
            $this->update($idOrder, ['status' => 'cancelled', 'last_error' => 'cancelled before creation'], $now);

            return $this->find($idOrder);
        }
        if ($row['status'] === 'cancelled') {
            return $row;
        }

        return $this->attemptCancel($row, $reason, $now);
    }

    public function find($idOrder)
    {
        $rows = $this->db->rows('SELECT * FROM ' . $this->db->table('omnistock_order') . ' WHERE `id_order` = ' . (int) $idOrder);

        return $rows ? $rows[0] : null;
    }

    /** Orders needing attention in the back office (retrying or failed). */
    public function flagged($limit = 100)
    {
        return $this->db->rows(
            'SELECT `id_order`, `status`, `attempts`, `last_error`, `next_attempt` FROM ' . $this->db->table('omnistock_order')
            . " WHERE `status` IN ('retry', 'failed', 'cancel_retry') ORDER BY `id_order` DESC LIMIT " . (int) $limit
        );
    }

    private function attempt(array $row, $now)
    {
        $body = json_decode($row['payload'], true);
        $attempts = (int) $row['attempts'] + 1;
        try {
            $pickup = $this->api->createPickup($body, OrderPickupMapper::idempotencyKey($row['id_order']));
        } catch (ApiException $e) {
            $final = !$e->isRetryable() || $attempts >= self::MAX_ATTEMPTS;
            $this->update($row['id_order'], [
                'status' => $final ? 'failed' : 'retry',
                'attempts' => $attempts,
                'next_attempt' => $final ? null : self::at($now + self::backoff($attempts)),
                'last_error' => substr($e->getMessage(), 0, 512),
            ], $now);

            return $this->find($row['id_order']);
        }
        $fields = [
            'status' => 'created',
            'attempts' => $attempts,
            'next_attempt' => null,
            'pickup_id' => (string) $pickup['id'],
            'last_error' => '',
        ];
        // The code is only in the creation answer; a replay (200) may not carry it again.
        if (!empty($pickup['pickup_code'])) {
            $fields['pickup_code'] = (string) $pickup['pickup_code'];
        }
        $this->update($row['id_order'], $fields, $now);

        return $this->find($row['id_order']);
    }

    private function attemptCancel(array $row, $reason, $now)
    {
        $attempts = (int) $row['attempts'] + 1;
        try {
            $this->api->cancelPickup($row['pickup_id'], $reason !== '' ? $reason : 'order cancelled in PrestaShop');
        } catch (ApiException $e) {
            // 409: already collected, expired or cancelled in store: nothing left to cancel.
            if ($e->getStatus() !== 409 && $e->isRetryable() && $attempts < self::MAX_ATTEMPTS) {
                $this->update($row['id_order'], [
                    'status' => 'cancel_retry',
                    'attempts' => $attempts,
                    'next_attempt' => self::at($now + self::backoff($attempts)),
                    'last_error' => substr($e->getMessage(), 0, 512),
                ], $now);

                return $this->find($row['id_order']);
            }
            if ($e->getStatus() !== 409) {
                $this->update($row['id_order'], ['status' => 'failed', 'attempts' => $attempts, 'next_attempt' => null, 'last_error' => substr('cancel: ' . $e->getMessage(), 0, 512)], $now);

                return $this->find($row['id_order']);
            }
        }
        $this->update($row['id_order'], ['status' => 'cancelled', 'attempts' => $attempts, 'next_attempt' => null, 'last_error' => ''], $now);

        return $this->find($row['id_order']);
    }

    /** Seconds before attempt n+1: 1, 2, 4 ... minutes, at most an hour. */
    public static function backoff($attempts)
    {
        return min(3600, 60 * (1 << max(0, min(10, (int) $attempts - 1))));
    }

    private function update($idOrder, array $fields, $now)
    {
        $sets = [];
        foreach ($fields as $name => $value) {
            $sets[] = '`' . $name . '` = ' . ($value === null ? 'NULL' : (is_int($value) ? (string) $value : $this->db->quote($value)));
        }
        $sets[] = '`date_upd` = ' . $this->db->quote(self::at($now));
        $this->db->execute('UPDATE ' . $this->db->table('omnistock_order') . ' SET ' . implode(', ', $sets) . ' WHERE `id_order` = ' . (int) $idOrder);
    }

    private static function at($timestamp)
    {
        return gmdate('Y-m-d H:i:s', (int) $timestamp);
    }
}
