<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/**
 * omnistock's storefront API as PHP calls. Short timeouts (a shopper is waiting), JSON in and
 * out, every failure an ApiException carrying the problem+json document. The API key is sent
 * in the Authorization header only; it never appears in an exception message.
 */
class ApiClient
{
    const USER_AGENT = 'omnistock-prestashop/1.0';

    /** @var string */
    private $baseUrl;
    /** @var string */
    private $apiKey;
    /** @var HttpTransport */
    private $transport;
    /** @var float */
    private $timeout;
    /** @var float */
    private $connectTimeout;

    /**
     * @param string $baseUrl omnistock root, e.g. https://omnistock.example.com (no /v1)
     * @param string $apiKey a storefront-role key
     * @param float $timeout seconds for one call (the product page fetches asynchronously)
     * @param float $connectTimeout seconds to connect
     */
    public function __construct($baseUrl, $apiKey, ?HttpTransport $transport = null, $timeout = 3.0, $connectTimeout = 1.0)
    {
        $baseUrl = rtrim(trim((string) $baseUrl), '/');
        if (!preg_match('~^https?://[^\s/?#]+(/[^\s?#]*)?$~i', $baseUrl)) {
            throw new \InvalidArgumentException('the omnistock URL must be an http(s) URL');
        }
        $this->baseUrl = $baseUrl;
        $this->apiKey = (string) $apiKey;
        $this->transport = $transport ?: new CurlTransport();
        $this->timeout = (float) $timeout;
        $this->connectTimeout = (float) $connectTimeout;
    }

    /** A copy with other timeouts (order creation may wait longer than a product page). */
    public function withTimeouts($timeout, $connectTimeout = null)
    {
        $copy = clone $this;
        $copy->timeout = (float) $timeout;
        if ($connectTimeout !== null) {
            $copy->connectTimeout = (float) $connectTimeout;
        }

        return $copy;
    }

    /**
     * Availability of many lines in stores near a point or named stores (POST /v1/availability).
     *
     * @param array $lines each ['ps_product' => int, 'ps_attribute' => int, 'quantity' => int] or ['sku'|'reference' => ...]
     * @param array|null $near ['lat' => float, 'lng' => float, 'radius_km' => float, 'limit' => int]
     * @param string[] $stores store codes
     */
    public function availability(array $lines, $near = null, array $stores = [], $wholeBasket = false, $service = null)
    {
        $body = ['lines' => array_values($lines)];
        if ($near !== null) {
            $body['near'] = $near;
        }
        if ($stores) {
            $body['stores'] = array_values($stores);
        }
        if ($wholeBasket) {
            $body['whole_basket'] = true;
        }
        if ($service !== null) {
            $body['service'] = $service;
        }

        return $this->request('POST', '/v1/availability', [], $body);
    }

    /** Stores nearest first (GET /v1/stores?near=). */
    public function storesNear($lat, $lng, $radiusKm = 50.0, $limit = 20, $service = null)
    {
        $query = ['near' => sprintf('%.6F,%.6F', $lat, $lng), 'radius_km' => $radiusKm, 'limit' => $limit];
        if ($service !== null) {
            $query['service'] = $service;
        }

        return $this->request('GET', '/v1/stores', $query);
    }

    /** Every store (cursor pages of 100; at most $maxPages pages). */
    public function allStores($maxPages = 20)
    {
        $stores = [];
        $cursor = null;
        for ($page = 0; $page < $maxPages; ++$page) {
            $query = ['limit' => 100];
            if ($cursor !== null) {
                $query['cursor'] = $cursor;
            }
            $answer = $this->request('GET', '/v1/stores', $query);
            foreach (isset($answer['items']) && is_array($answer['items']) ? $answer['items'] : [] as $store) {
                $stores[] = $store;
            }
            $cursor = isset($answer['next_cursor']) ? $answer['next_cursor'] : null;
            if ($cursor === null || $cursor === '') {
                break;
            }
        }

        return $stores;
    }

    public function store($storeId)
    {
        return $this->request('GET', '/v1/stores/' . rawurlencode($storeId));
    }

    /** Create a reservation or an order pickup; the same key and body replay the first answer. */
    public function createPickup(array $pickup, $idempotencyKey)
    {
        return $this->request('POST', '/v1/pickups', [], $pickup, ['Idempotency-Key' => (string) $idempotencyKey]);
    }

    public function pickup($pickupId)
    {
        return $this->request('GET', '/v1/pickups/' . rawurlencode($pickupId));
    }

    public function cancelPickup($pickupId, $reason = '')
    {
        return $this->request('POST', '/v1/pickups/' . rawurlencode($pickupId) . '/cancel', [], ['reason' => (string) $reason]);
    }

    /**
     * The pickup's QR code as SVG text, or null when this omnistock has no QR endpoint (404/405),
     * the pickup has none, or there is no code to draw. omnistock draws a QR only for the code its
     * creation answer gave ($code, sent as the `code` query parameter: it is in the URL of one
     * call to omnistock, never in an exception message); a wrong code is a 422 ApiException.
     * Other failures throw.
     */
    public function pickupQrSvg($pickupId, $code)
    {
        $code = trim((string) $code);
        if ($code === '') {
            return null;
        }
        try {
            $raw = $this->send('GET', '/v1/pickups/' . rawurlencode($pickupId) . '/qr.svg', ['code' => $code], null, ['Accept' => 'image/svg+xml']);
        } catch (ApiException $e) {
            if (in_array($e->getStatus(), [404, 405], true)) {
                return null;
            }
            throw $e;
        }

        return strpos($raw[2], '<svg') !== false ? $raw[2] : null;
    }

    /**
     * Test connection: omnistock answers, the key is accepted and may read the store directory.
     * Says what it saw: every store the key sees, and how many of them a shopper can pick for
     * each service (they offer it and have a position; the e-commerce store offers none).
     *
     * @return array ['ok' => bool, 'message' => string, 'stores' => int, 'click_and_collect' => int, 'reservation' => int]
     */
    public function testConnection()
    {
        try {
            $this->request('GET', '/readyz');
            $stores = $this->allStores();
        } catch (ApiException $e) {
            return ['ok' => false, 'message' => $e->getMessage(), 'stores' => 0, 'click_and_collect' => 0, 'reservation' => 0];
        }
        $count = count($stores);
        $collect = count(self::pickable($stores, 'click_and_collect'));
        $reserve = count(self::pickable($stores, 'reservation'));

        return [
            'ok' => true,
            'message' => sprintf(
                'connected, %d store(s) visible to this key: %d offer click and collect, %d offer reservation',
                $count,
                $collect,
                $reserve
            ),
            'stores' => $count,
            'click_and_collect' => $collect,
            'reservation' => $reserve,
        ];
    }

    /**
     * The stores a shopper can pick for a service: active, offering it (omnistock's `services`),
     * with a position. $service null: any pickup service.
     *
     * @param array[] $stores omnistock stores
     *
     * @return array[]
     */
    public static function pickable(array $stores, $service = null)
    {
        return array_values(array_filter($stores, function ($store) use ($service) {
            return is_array($store) && StoreLocator::offers($store, $service);
        }));
    }

    /**
     * One JSON call. 2xx answers decode to an array; others throw ApiException.
     */
    public function request($method, $path, array $query = [], $body = null, array $headers = [])
    {
        $raw = $this->send($method, $path, $query, $body, $headers + ['Accept' => 'application/json']);
        if ($raw[2] === '') {
            return [];
        }
        $decoded = json_decode($raw[2], true);
        if (!is_array($decoded)) {
            throw new ApiException(0, '', 'unreadable answer', sprintf('%s %s did not answer JSON', $method, $path));
        }

        return $decoded;
    }

    private function send($method, $path, array $query, $body, array $headers)
    {
        $url = $this->baseUrl . $path;
        if ($query) {
            $url .= '?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986);
        }
        $headers['Authorization'] = 'Bearer ' . $this->apiKey;
        $headers['User-Agent'] = self::USER_AGENT;
        $payload = null;
        if ($body !== null) {
            $payload = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
            if ($payload === false) {
                throw new \InvalidArgumentException('the request body cannot be encoded as JSON');
            }
            $headers['Content-Type'] = 'application/json';
        }
        $raw = $this->transport->send($method, $url, $headers, $payload, $this->timeout, $this->connectTimeout);
        $status = $raw[0];
        if ($status >= 200 && $status < 300) {
            return $raw;
        }
        throw self::problem($status, $raw[1], $raw[2]);
    }

    private static function problem($status, array $headers, $body)
    {
        $doc = json_decode((string) $body, true);
        if (!is_array($doc)) {
            $doc = [];
        }
        $title = isset($doc['title']) && is_string($doc['title']) ? $doc['title'] : 'HTTP ' . $status;
        $detail = isset($doc['detail']) && is_string($doc['detail']) ? $doc['detail'] : '';
        $type = isset($doc['type']) && is_string($doc['type']) ? $doc['type'] : '';

        return new ApiException($status, $type, $title, $detail, $doc);
    }
}
