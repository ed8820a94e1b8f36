<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/**
 * A validated PrestaShop order (as plain arrays) to omnistock's `order` pickup body.
 * Unit prices are the tax-included prices the shopper paid, as decimal strings.
 */
class OrderPickupMapper
{
    /** @var string */
    private $mode;

    public function __construct($mode = 'ps_key')
    {
        if (!in_array($mode, ItemKey::MODES, true)) {
            throw new \InvalidArgumentException('unknown item key mode ' . $mode);
        }
        $this->mode = $mode;
    }

    public static function idempotencyKey($idOrder)
    {
        return 'ps-order-' . (int) $idOrder;
    }

    /**
     * @param array $order id_order, reference, paid (bool), currency (ISO code)
     * @param array[] $products rows of Order::getProducts(): product_id, product_attribute_id,
     *                          product_quantity, unit_price_tax_incl, product_name, product_reference
     * @param array $customer email, firstname, lastname, phone, id_customer (a registered
     *                        customer's id, 0 for a guest: sent as ps_customer_id, so omnistock
     *                        links the shopper to their Cegid customer)
     * @param string $storeId the chosen store
     */
    public function map(array $order, array $products, array $customer, $storeId)
    {
        $idOrder = (int) $order['id_order'];
        if ($idOrder < 1) {
            throw new \InvalidArgumentException('id_order must be a positive integer');
        }
        if (!$products) {
            throw new \InvalidArgumentException('the order has no products');
        }
        $lines = [];
        foreach ($products as $p) {
            $quantity = (int) $p['product_quantity'];
            if ($quantity < 1) {
                continue;
            }
            $line = ItemKey::line(
                $this->mode,
                $p['product_id'],
                isset($p['product_attribute_id']) ? $p['product_attribute_id'] : 0,
                isset($p['product_reference']) ? $p['product_reference'] : ''
            );
            $line['quantity'] = $quantity;
            $line['unit_price'] = self::decimal(isset($p['unit_price_tax_incl']) ? $p['unit_price_tax_incl'] : 0);
            $line['label'] = self::cut(isset($p['product_name']) ? (string) $p['product_name'] : '', 200);
            $lines[] = $line;
        }
        $body = [
            'kind' => 'order',
            'store_id' => (string) $storeId,
            'customer' => array_filter([
                'email' => (string) $customer['email'],
                'first_name' => self::cut(isset($customer['firstname']) ? $customer['firstname'] : '', 100),
                'last_name' => self::cut(isset($customer['lastname']) ? $customer['lastname'] : '', 100),
                'phone' => self::cut(isset($customer['phone']) ? $customer['phone'] : '', 40),
            ], 'strlen'),
            'lines' => $lines,
            'ps_order_id' => $idOrder,
            'payment_status' => !empty($order['paid']) ? 'paid' : 'pending',
            'currency' => strtoupper((string) (isset($order['currency']) ? $order['currency'] : 'EUR')),
        ];
        $idCustomer = isset($customer['id_customer']) ? (int) $customer['id_customer'] : 0;
        if ($idCustomer > 0 && $idCustomer <= 2147483647) {
            $body['customer']['ps_customer_id'] = $idCustomer;
        }
        $reference = isset($order['reference']) ? strtoupper(trim((string) $order['reference'])) : '';
        if (preg_match('/^[A-Z]{9}$/', $reference)) {
            $body['ps_order_reference'] = $reference;
        }

        return $body;
    }

    /** A price as a decimal string with 2 decimals ("12.50"); never float noise. */
    public static function decimal($value)
    {
        $value = round((float) $value, 2);

        return number_format(max(0.0, $value), 2, '.', '');
    }

    private static function cut($text, $max)
    {
        $text = trim((string) $text);

        return function_exists('mb_substr') ? mb_substr($text, 0, $max) : substr($text, 0, $max);
    }
}
