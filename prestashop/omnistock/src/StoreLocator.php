<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/**
 * Where to search for stores when the shopper gave a postcode instead of a position: omnistock
 * geocodes nothing, so the point is the store whose postcode shares the longest leading
 * characters with the shopper's (at least 2: a French département, a German region...), in the
 * same country when one is given. An approximation, said so in the README; null when no store
 * is close enough, and the module then uses its default point. Only shops count (self::offers
 * with no service: active, with a position, offering a pickup service): the e-commerce store,
 * which offers none and has no position, is never the point. The point is where to search, not
 * the store picked: a reservation-only shop locates a postcode for click and collect as well,
 * and the list around it keeps to the stores offering the service (omnistock's `service`).
 */
class StoreLocator
{
    const MIN_PREFIX = 2;

    /**
     * @param array[] $stores omnistock stores (postcode, country, latitude, longitude, active, services)
     *
     * @return array|null ['lat' => float, 'lng' => float, 'store_id' => string]
     */
    public static function centreForPostcode(array $stores, $postcode, $country = null)
    {
        $wanted = self::normalise($postcode);
        if (strlen($wanted) < self::MIN_PREFIX) {
            return null;
        }
        $best = null;
        $bestLength = self::MIN_PREFIX - 1;
        foreach ($stores as $store) {
            if (!self::offers($store)) {
                continue;
            }
            if ($country && isset($store['country']) && strcasecmp((string) $store['country'], (string) $country) !== 0) {
                continue;
            }
            if (!isset($store['postcode'])) {
                continue;
            }
            $length = self::commonPrefix($wanted, self::normalise($store['postcode']));
            if ($length > $bestLength) {
                $best = $store;
                $bestLength = $length;
            }
        }

        return $best === null ? null : [
            'lat' => (float) $best['latitude'],
            'lng' => (float) $best['longitude'],
            'store_id' => (string) $best['store_id'],
        ];
    }

    /**
     * Whether a shopper can pick this store for $service: active, with a position, and listing
     * the service in omnistock's `services` (null: any service; a store without the field, from
     * an omnistock older than services, offers both).
     */
    public static function offers(array $store, $service = null)
    {
        if (isset($store['active']) && !$store['active']) {
            return false;
        }
        if (!isset($store['latitude'], $store['longitude']) || !is_numeric($store['latitude']) || !is_numeric($store['longitude'])) {
            return false;
        }
        if (!array_key_exists('services', $store)) {
            return true;
        }
        $services = is_array($store['services']) ? $store['services'] : [];

        return $service === null ? count($services) > 0 : in_array($service, $services, true);
    }

    /** Postcodes are compared without spaces or dashes, upper-case (" 33101" and "33101" match). */
    public static function normalise($postcode)
    {
        return strtoupper(preg_replace('/[^A-Za-z0-9]/', '', (string) $postcode));
    }

    private static function commonPrefix($a, $b)
    {
        $n = min(strlen($a), strlen($b));
        $i = 0;
        while ($i < $n && $a[$i] === $b[$i]) {
            ++$i;
        }

        return $i;
    }
}
