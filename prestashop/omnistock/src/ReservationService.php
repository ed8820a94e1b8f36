<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

use Omnistock\Sql\Connection;

/**
 * "Reserve in store" from a product page: validate the form, rate-limit the visitor, create a
 * `reservation` pickup with an Idempotency-Key derived from the form's one-time request id (a
 * double submit replays the first answer), remember it for "My reservations".
 */
class ReservationService
{
    const MAX_QUANTITY = 10;

    /** @var ApiClient */
    private $api;
    /** @var Connection */
    private $db;
    /** @var RateLimiter */
    private $limiter;
    /** @var string */
    private $mode;

    public function __construct(ApiClient $api, Connection $db, RateLimiter $limiter, $mode = 'ps_key')
    {
        $this->api = $api;
        $this->db = $db;
        $this->limiter = $limiter;
        $this->mode = $mode;
    }

    /**
     * Field checks. Returns field => error code (empty when valid) and the cleaned values.
     *
     * @return array{0: array, 1: array}
     */
    public static function validate(array $input)
    {
        $errors = [];
        $clean = [];
        $clean['id_product'] = self::intIn($input, 'id_product', 1, PHP_INT_MAX, $errors);
        $clean['id_product_attribute'] = self::intIn($input, 'id_product_attribute', 0, PHP_INT_MAX, $errors, 0);
        $clean['quantity'] = self::intIn($input, 'quantity', 1, self::MAX_QUANTITY, $errors);
        $store = isset($input['store_id']) ? trim((string) $input['store_id']) : '';
        if (!preg_match('/^[A-Za-z0-9_.-]{1,32}$/', $store)) {
            $errors['store_id'] = 'required';
        }
        $clean['store_id'] = $store;
        foreach (['first_name' => 100, 'last_name' => 100] as $field => $max) {
            $value = isset($input[$field]) ? trim((string) $input[$field]) : '';
            if ($value === '' || self::length($value) > $max || preg_match('/[<>{}\x00-\x1f]/u', $value) || !preg_match('//u', $value)) {
                $errors[$field] = $value === '' ? 'required' : 'invalid';
            }
            $clean[$field] = $value;
        }
        $email = isset($input['email']) ? trim((string) $input['email']) : '';
        if ($email === '' || strlen($email) > 254 || !filter_var($email, FILTER_VALIDATE_EMAIL)) {
            $errors['email'] = $email === '' ? 'required' : 'invalid';
        }
        $clean['email'] = $email;
        $phone = isset($input['phone']) ? trim((string) $input['phone']) : '';
        if ($phone !== '' && !preg_match('/^\+?[0-9 ().-]{6,40}$/', $phone)) {
            $errors['phone'] = 'invalid';
        }
        $clean['phone'] = $phone;
        if (empty($input['consent']) || !in_array((string) $input['consent'], ['1', 'on', 'true'], true)) {
            $errors['consent'] = 'required';
        }
        $requestId = isset($input['request_id']) ? (string) $input['request_id'] : '';
        if (!preg_match('/^[A-Za-z0-9-]{16,64}$/', $requestId)) {
            $errors['request_id'] = 'invalid';
        }
        $clean['request_id'] = $requestId;

        return [$errors, $clean];
    }

    /**
     * Reserve. $visitor identifies the visitor for the rate limit (guest id, customer id or IP).
     *
     * @return array ['ok' => true, 'reservation' => [...]] or ['ok' => false, 'error' => code, 'errors' => [...], 'detail' => string]
     */
    public function reserve(array $input, $visitor, $idCustomer = 0, $reference = '', $storeName = '')
    {
        list($errors, $clean) = self::validate($input);
        if ($errors) {
            return ['ok' => false, 'error' => 'invalid', 'errors' => $errors, 'detail' => ''];
        }
        $key = 'ps-resv-' . $clean['request_id'];
        $known = $this->find($key);
        if ($known) {
            return ['ok' => true, 'reservation' => $known, 'replayed' => true];
        }
        if (!$this->limiter->hit($visitor)) {
            return ['ok' => false, 'error' => 'rate_limited', 'errors' => [], 'detail' => ''];
        }
        $line = ItemKey::line($this->mode, $clean['id_product'], $clean['id_product_attribute'], $reference);
        $line['quantity'] = $clean['quantity'];
        $body = [
            'kind' => 'reservation',
            'store_id' => $clean['store_id'],
            'customer' => array_filter([
                'email' => $clean['email'],
                'first_name' => $clean['first_name'],
                'last_name' => $clean['last_name'],
                'phone' => $clean['phone'],
            ], 'strlen'),
            'lines' => [$line],
        ];
        if ((int) $idCustomer > 0 && (int) $idCustomer <= 2147483647) {
            // a logged-in customer: omnistock links them to their Cegid customer
            $body['customer']['ps_customer_id'] = (int) $idCustomer;
        }
        try {
            $pickup = $this->api->createPickup($body, $key);
        } catch (ApiException $e) {
            $status = $e->getStatus();
            $problem = $e->getProblem();
            if ($status === 409 && strpos($e->getProblemType(), 'insufficient-stock') !== false) {
                $code = 'no_stock';
            } elseif ($status === 409 && isset($problem['services']) && is_array($problem['services']) && !in_array('reservation', $problem['services'], true)) {
                $code = 'store_refused'; // the store does not take reservations (a stale page)
            } elseif ($status === 404 || $status === 422) {
                $code = 'refused';
            } else {
                $code = 'unavailable';
            }

            return ['ok' => false, 'error' => $code, 'errors' => [], 'detail' => $e->getDetail()];
        }
        $row = [
            'id_customer' => (int) $idCustomer,
            'id_product' => $clean['id_product'],
            'id_product_attribute' => $clean['id_product_attribute'],
            'quantity' => $clean['quantity'],
            'store_id' => (string) $pickup['store_id'],
            'store_name' => substr((string) $storeName, 0, 128),
            'pickup_id' => (string) $pickup['id'],
            'pickup_code' => isset($pickup['pickup_code']) ? (string) $pickup['pickup_code'] : '',
            'email' => $clean['email'],
            'deadline' => isset($pickup['deadline']) ? (string) $pickup['deadline'] : '',
            'idempotency_key' => $key,
        ];
        $this->insert($row);

        return ['ok' => true, 'reservation' => $this->find($key) ?: $row, 'replayed' => false];
    }

    /** A customer's reservations, newest first. */
    public function forCustomer($idCustomer, $limit = 50)
    {
        return $this->db->rows(
            'SELECT * FROM ' . $this->db->table('omnistock_reservation')
            . ' WHERE `id_customer` = ' . (int) $idCustomer . ' ORDER BY `id_reservation` DESC LIMIT ' . (int) $limit
        );
    }

    public function find($idempotencyKey)
    {
        $rows = $this->db->rows(
            'SELECT * FROM ' . $this->db->table('omnistock_reservation') . ' WHERE `idempotency_key` = ' . $this->db->quote($idempotencyKey)
        );

        return $rows ? $rows[0] : null;
    }

    private function insert(array $row)
    {
        $columns = [];
        $values = [];
        foreach ($row as $name => $value) {
            $columns[] = '`' . $name . '`';
            $values[] = is_int($value) ? (string) $value : $this->db->quote($value);
        }
        $columns[] = '`date_add`';
        $values[] = $this->db->quote(gmdate('Y-m-d H:i:s'));
        // INSERT IGNORE: a concurrent double submit with the same key keeps one row.
        $this->db->execute('INSERT IGNORE INTO ' . $this->db->table('omnistock_reservation') . ' (' . implode(', ', $columns) . ') VALUES (' . implode(', ', $values) . ')');
    }

    private static function intIn(array $input, $field, $min, $max, array &$errors, $default = null)
    {
        if (!isset($input[$field]) || $input[$field] === '') {
            if ($default !== null) {
                return $default;
            }
            $errors[$field] = 'required';

            return 0;
        }
        $raw = (string) $input[$field];
        if (!preg_match('/^[0-9]{1,10}$/', $raw) || (int) $raw < $min || (int) $raw > $max) {
            $errors[$field] = 'invalid';

            return 0;
        }

        return (int) $raw;
    }

    private static function length($text)
    {
        return function_exists('mb_strlen') ? mb_strlen($text) : strlen($text);
    }
}
