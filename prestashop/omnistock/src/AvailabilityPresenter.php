<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/**
 * Turns omnistock availability answers into what the product page and the checkout show:
 * the shopper's saved store first, then stores with stock nearest first, then the others;
 * low-stock and "as of" facts; a state of "unknown" when omnistock could not answer.
 * Output is data only (no HTML): templates word and escape it.
 */
class AvailabilityPresenter
{
    /** @var \DateTimeZone */
    private $timezone;

    public function __construct(?\DateTimeZone $timezone = null)
    {
        $this->timezone = $timezone ?: new \DateTimeZone('UTC');
    }

    /**
     * The product page: one line's cells.
     *
     * @param array $matrix a POST /v1/availability answer with one line
     * @param string|null $savedStore the shopper's store code, shown first when present
     * @param int $max most stores shown
     */
    public function product(array $matrix, $savedStore = null, $max = 5)
    {
        $line = isset($matrix['lines'][0]) ? $matrix['lines'][0] : null;
        if (!is_array($line) || !isset($line['stores']) || !is_array($line['stores'])) {
            return self::unknown();
        }
        $stores = [];
        foreach ($line['stores'] as $cell) {
            $stores[] = $this->cell($cell, $savedStore);
        }
        usort($stores, function ($a, $b) {
            if ($a['saved'] !== $b['saved']) {
                return $a['saved'] ? -1 : 1;
            }
            if ($a['in_stock'] !== $b['in_stock']) {
                return $a['in_stock'] ? -1 : 1;
            }

            return self::distanceOrder($a, $b);
        });
        $stores = array_slice($stores, 0, max(1, (int) $max));
        $inStock = array_values(array_filter($stores, function ($s) {
            return $s['in_stock'];
        }));

        return [
            'state' => 'ok',
            'stores' => $stores,
            'in_stock_count' => count($inStock),
            'sku' => isset($line['item']['sku']) ? (string) $line['item']['sku'] : '',
        ];
    }

    /**
     * The checkout: stores that can serve every cart line at its quantity, nearest first.
     *
     * @param array $matrix a POST /v1/availability answer asked with whole_basket
     * @param string|null $selected the cart's chosen store
     */
    public function checkout(array $matrix, $selected = null)
    {
        if (!isset($matrix['whole_basket']) || !is_array($matrix['whole_basket'])) {
            return self::unknown();
        }
        $stores = [];
        foreach ($matrix['whole_basket'] as $ref) {
            $id = (string) $ref['store_id'];
            $stores[] = [
                'store_id' => $id,
                'name' => isset($ref['name']) ? (string) $ref['name'] : $id,
                'distance_km' => isset($ref['distance_km']) ? round((float) $ref['distance_km'], 1) : null,
                'selected' => $selected !== null && $id === (string) $selected,
                'stale' => $this->anyStale($matrix, $id),
            ];
        }
        usort($stores, [self::class, 'distanceOrder']);
        $selectedServes = false;
        foreach ($stores as $s) {
            $selectedServes = $selectedServes || $s['selected'];
        }

        return [
            'state' => 'ok',
            'stores' => $stores,
            'selected_serves' => $selectedServes,
            'excluded' => max(0, count(isset($matrix['stores']) ? $matrix['stores'] : []) - count($stores)),
        ];
    }

    /** Whether one store can serve every line of the answer (the step check). */
    public static function storeServesAll(array $matrix, $storeId)
    {
        if (!isset($matrix['lines']) || !is_array($matrix['lines']) || !$matrix['lines']) {
            return false;
        }
        foreach ($matrix['lines'] as $line) {
            $ok = false;
            foreach (isset($line['stores']) ? $line['stores'] : [] as $cell) {
                if ((string) $cell['store_id'] === (string) $storeId && !empty($cell['enough'])) {
                    $ok = true;
                }
            }
            if (!$ok) {
                return false;
            }
        }

        return true;
    }

    public static function unknown()
    {
        return ['state' => 'unknown', 'stores' => [], 'in_stock_count' => 0, 'sku' => ''];
    }

    private function cell(array $cell, $savedStore)
    {
        $available = max(0, (int) $cell['available']);
        $offered = !empty($cell['offered_for_pickup']);
        $status = in_array($cell['status'], ['in_stock', 'low_stock', 'out_of_stock'], true) ? $cell['status'] : 'out_of_stock';
        if (!$offered || $available === 0) {
            $status = 'out_of_stock';
        }
        $asOf = null;
        if (!empty($cell['as_of'])) {
            try {
                $asOf = (new \DateTimeImmutable((string) $cell['as_of']))->setTimezone($this->timezone);
            } catch (\Exception $e) {
                $asOf = null;
            }
        }

        return [
            'store_id' => (string) $cell['store_id'],
            'name' => isset($cell['name']) && $cell['name'] !== null ? (string) $cell['name'] : (string) $cell['store_id'],
            'distance_km' => isset($cell['distance_km']) ? round((float) $cell['distance_km'], 1) : null,
            'available' => $status === 'out_of_stock' ? 0 : $available,
            'status' => $status,
            'in_stock' => $status !== 'out_of_stock',
            'low' => $status === 'low_stock',
            'enough' => !empty($cell['enough']),
            'as_of' => $asOf ? $asOf->format(DATE_ATOM) : '',
            'as_of_time' => $asOf ? $asOf->format('H:i') : '',
            'as_of_date' => $asOf ? $asOf->format('Y-m-d') : '',
            'stale' => !empty($cell['stale']),
            'saved' => $savedStore !== null && (string) $cell['store_id'] === (string) $savedStore,
        ];
    }

    private function anyStale(array $matrix, $storeId)
    {
        foreach (isset($matrix['lines']) ? $matrix['lines'] : [] as $line) {
            foreach (isset($line['stores']) ? $line['stores'] : [] as $cell) {
                if ((string) $cell['store_id'] === $storeId && !empty($cell['stale'])) {
                    return true;
                }
            }
        }

        return false;
    }

    private static function distanceOrder(array $a, array $b)
    {
        $da = $a['distance_km'] === null ? INF : $a['distance_km'];
        $db = $b['distance_km'] === null ? INF : $b['distance_km'];
        if ($da == $db) {
            return strcmp($a['store_id'], $b['store_id']);
        }

        return $da < $db ? -1 : 1;
    }
}
