<?php
/**
 * omnistock for PrestaShop: the checkout store chooser.
 *   GET  action=stores [lat, lng]  stores that can serve the whole cart, nearest first (HTML in JSON)
 *   POST action=choose store_id    choose a store for the cart (checked against omnistock again)
 * Both need the PrestaShop front token. Omnistock down: the chooser says so, other carriers work.
 *
 * @license MIT
 */
require_once dirname(__DIR__, 2) . '/src/autoload.php';

use Omnistock\ApiException;
use Omnistock\AvailabilityPresenter;
use Omnistock\CartStores;
use Omnistock\StoreLocator;

class OmnistockCheckoutModuleFrontController extends ModuleFrontController
{
    use \Omnistock\JsonReply;

    public $ajax = true;
    public $ssl = true;

    public function displayAjax()
    {
        if (!hash_equals($this->module->frontToken(), (string) Tools::getValue('token'))) {
            return $this->reply(403, ['error' => 'invalid token']);
        }
        $cart = $this->context->cart;
        if (!$cart || !(int) $cart->id || !$cart->nbProducts()) {
            return $this->reply(400, ['error' => 'no cart']);
        }
        $action = (string) Tools::getValue('action');
        if ($action === 'choose' && $_SERVER['REQUEST_METHOD'] === 'POST') {
            return $this->choose($cart);
        }
        if ($action === 'stores') {
            return $this->stores($cart);
        }

        return $this->reply(400, ['error' => 'unknown action']);
    }

    private function stores(Cart $cart)
    {
        $near = $this->module->nearFor(Tools::getValue('lat'), Tools::getValue('lng'), (string) Tools::getValue('postcode'));
        $cartStores = new CartStores($this->module->db());
        $chosen = $cartStores->chosen((int) $cart->id);
        $view = AvailabilityPresenter::unknown();
        $api = $this->module->api();
        if ($api) {
            try {
                $answer = $api->availability($this->module->cartLines($cart), $near, [], true, 'click_and_collect');
                $view = (new AvailabilityPresenter())->checkout($answer, $chosen ? $chosen['store_id'] : null);
            } catch (ApiException $e) {
                $view = AvailabilityPresenter::unknown();
            } catch (\InvalidArgumentException $e) {
                $view = AvailabilityPresenter::unknown();
            }
        }
        if ($chosen && $view['state'] === 'ok' && !$view['selected_serves']) {
            // The chosen store can no longer serve this cart: forget it, the shopper picks again.
            $cartStores->forget((int) $cart->id);
            $view['lost'] = $chosen;
        }
        $this->context->smarty->assign(['omnistock_view' => $view]);

        return $this->reply(200, [
            'state' => $view['state'],
            'html' => $this->module->fetch('module:omnistock/views/templates/hook/carrier_stores.tpl'),
        ]);
    }

    private function choose(Cart $cart)
    {
        $storeId = (string) Tools::getValue('store_id');
        if (!preg_match('/^[A-Za-z0-9_.-]{1,32}$/', $storeId)) {
            return $this->reply(422, ['error' => 'store_id']);
        }
        $api = $this->module->api();
        if (!$api) {
            return $this->reply(503, ['error' => 'unavailable']);
        }
        try {
            // omnistock answers the availability of a named store whatever its services: only a
            // store offering click and collect, with a position, may be chosen (never the
            // e-commerce store), or the order pickup would be refused after payment.
            if (!StoreLocator::offers($api->store($storeId), 'click_and_collect')) {
                return $this->reply(409, ['error' => 'store does not offer click and collect']);
            }
            $answer = $api->availability($this->module->cartLines($cart), null, [$storeId], false, 'click_and_collect');
        } catch (ApiException $e) {
            return $this->reply($e->getStatus() === 404 || $e->getStatus() === 422 ? 422 : 503, ['error' => 'unavailable']);
        }
        if (!AvailabilityPresenter::storeServesAll($answer, $storeId)) {
            return $this->reply(409, ['error' => 'store cannot serve the cart']);
        }
        $name = isset($answer['stores'][0]['name']) ? (string) $answer['stores'][0]['name'] : $storeId;
        (new CartStores($this->module->db()))->choose((int) $cart->id, $storeId, $name);
        $this->module->saveStore($storeId);

        return $this->reply(200, ['ok' => true, 'store_id' => $storeId, 'store_name' => $name]);
    }

}
