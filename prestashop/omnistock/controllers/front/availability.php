<?php
/**
 * omnistock for PrestaShop: per-store availability of the product page's items, one batched
 * omnistock call per page (GET, JSON: rendered and escaped HTML per item). Never an error page:
 * when omnistock does not answer, every item says its store stock is unknown.
 *
 * @license MIT
 */
require_once dirname(__DIR__, 2) . '/src/autoload.php';

use Omnistock\ApiException;
use Omnistock\AvailabilityPresenter;
use Omnistock\ItemKey;

class OmnistockAvailabilityModuleFrontController extends ModuleFrontController
{
    use \Omnistock\JsonReply;

    const MAX_ITEMS = 20;

    public $ajax = true;
    public $ssl = true;

    public function displayAjax()
    {
        if (!hash_equals($this->module->frontToken(), (string) Tools::getValue('token'))) {
            return $this->reply(403, ['error' => 'invalid token']);
        }
        $items = $this->items((string) Tools::getValue('items'));
        if (!$items) {
            return $this->reply(400, ['error' => 'items: give id_product:id_product_attribute, comma separated']);
        }
        $service = $this->service();

        return $this->reply(200, $this->answer($items, $this->near(), $service));
    }

    /**
     * The service the listed stores must offer: reservation when the shop lets shoppers reserve
     * from the product page, else click and collect (where an order can be collected). Stores
     * offering neither (the e-commerce store) are never listed.
     */
    private function service()
    {
        return Configuration::get('OMNISTOCK_RESERVATION') ? 'reservation' : 'click_and_collect';
    }

    /** @return array[] [key => [id_product, id_product_attribute]] */
    private function items($raw)
    {
        $items = [];
        foreach (array_slice(explode(',', $raw), 0, self::MAX_ITEMS) as $part) {
            if (preg_match('/^([1-9][0-9]{0,9}):([0-9]{1,10})$/', trim($part), $m)) {
                $items[$m[1] . ':' . $m[2]] = [(int) $m[1], (int) $m[2]];
            }
        }

        return $items;
    }

    /** The shopper's position, postcode, or the shop's default point. */
    private function near()
    {
        return $this->module->nearFor(Tools::getValue('lat'), Tools::getValue('lng'), (string) Tools::getValue('postcode'));
    }

    private function answer(array $items, array $near, $service)
    {
        $presenter = new AvailabilityPresenter(new DateTimeZone(Configuration::get('PS_TIMEZONE') ?: 'UTC'));
        $views = [];
        $api = $this->module->api();
        $lines = [];
        foreach ($items as $key => list($idProduct, $idAttribute)) {
            try {
                $reference = $this->module->itemKeyMode() === 'reference' ? $this->module->referenceOf($idProduct, $idAttribute) : '';
                $lines[$key] = ItemKey::line($this->module->itemKeyMode(), $idProduct, $idAttribute, $reference) + ['quantity' => 1];
            } catch (\InvalidArgumentException $e) {
                $views[$key] = AvailabilityPresenter::unknown();
            }
        }
        $state = 'ok';
        if ($lines && $api) {
            try {
                // One call for every item of the page.
                $matrix = $api->availability(array_values($lines), $near, [], false, $service);
                $keys = array_keys($lines);
                foreach ($matrix['lines'] as $i => $line) {
                    $index = isset($line['line']) ? (int) $line['line'] : $i;
                    if (!isset($keys[$index])) {
                        continue;
                    }
                    $views[$keys[$index]] = $presenter->product(['lines' => [$line]], $this->module->savedStore(), (int) Configuration::get('OMNISTOCK_MAX_STORES') ?: 5);
                }
            } catch (ApiException $e) {
                $state = 'unknown';
                foreach (array_keys($lines) as $key) {
                    $views[$key] = AvailabilityPresenter::unknown();
                }
            }
        } else {
            $state = 'unknown';
        }
        $html = [];
        foreach (array_keys($items) as $key) {
            $view = isset($views[$key]) ? $views[$key] : AvailabilityPresenter::unknown();
            $this->context->smarty->assign(['omnistock_view' => $view, 'omnistock_reservation' => (bool) Configuration::get('OMNISTOCK_RESERVATION')]);
            $html[$key] = $this->module->fetch('module:omnistock/views/templates/hook/availability.tpl');
        }

        return ['state' => $state, 'items' => $html];
    }
}
