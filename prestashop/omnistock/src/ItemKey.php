<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/**
 * How a PrestaShop product (id_product, id_product_attribute) is named to omnistock:
 * "ps_key" (the pair, after omnistock's mapping import; the default and the reliable one) or
 * "reference" (the combination's or product's reference, when references are the Cegid SKUs).
 */
class ItemKey
{
    const MODES = ['ps_key', 'reference'];

    /**
     * @return array a line fragment for POST /v1/availability or /v1/pickups
     */
    public static function line($mode, $idProduct, $idProductAttribute, $reference = '')
    {
        $idProduct = (int) $idProduct;
        $idProductAttribute = max(0, (int) $idProductAttribute);
        if ($idProduct < 1) {
            throw new \InvalidArgumentException('id_product must be a positive integer');
        }
        if ($mode === 'reference') {
            $reference = trim((string) $reference);
            if ($reference === '') {
                throw new \InvalidArgumentException(sprintf('product %d:%d has no reference', $idProduct, $idProductAttribute));
            }

            return ['reference' => $reference];
        }

        return ['ps_product' => $idProduct, 'ps_attribute' => $idProductAttribute];
    }
}
