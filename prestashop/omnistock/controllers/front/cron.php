<?php
/**
 * omnistock for PrestaShop: the retry job. Call it every few minutes from the server's cron:
 *   curl -fsS 'https://shop.example.com/module/omnistock/cron?token=...'
 * (the URL with its token is shown on the module's configuration page).
 *
 * @license MIT
 */
require_once dirname(__DIR__, 2) . '/src/autoload.php';

use Omnistock\CartStores;
use Omnistock\OrderPickups;
use Omnistock\RateLimiter;

class OmnistockCronModuleFrontController extends ModuleFrontController
{
    use \Omnistock\JsonReply;

    public $ajax = true;

    public function displayAjax()
    {
        $expected = (string) Configuration::get('OMNISTOCK_CRON_TOKEN');
        if ($expected === '' || !hash_equals($expected, (string) Tools::getValue('token'))) {
            return $this->reply(403, ['error' => 'invalid token']);
        }
        $api = $this->module->api(10.0);
        if (!$api) {
            return $this->reply(503, ['error' => 'not configured']);
        }
        $db = $this->module->db();
        $pickups = new OrderPickups($api, $db);
        $counts = $pickups->retryDue(50);
        foreach ($pickups->lastCreated() as $idOrder) {
            $order = new Order($idOrder);
            $row = $pickups->find($idOrder);
            $this->module->mailPickupCode($order, new Customer((int) $order->id_customer), $row, (new CartStores($db))->chosen((int) $order->id_cart));
        }
        (new RateLimiter($db))->purge();
        return $this->reply(200, ['ok' => true, 'counts' => $counts]);
    }
}
