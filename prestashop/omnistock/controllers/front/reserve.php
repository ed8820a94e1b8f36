<?php
/**
 * omnistock for PrestaShop: "Reserve in store" (POST, PrestaShop front token, per-visitor rate
 * limit, the form's one-time request id as Idempotency-Key). Answers JSON with the rendered
 * confirmation (pickup code, and omnistock's QR when it has one) or the field errors.
 *
 * @license MIT
 */
require_once dirname(__DIR__, 2) . '/src/autoload.php';

use Omnistock\RateLimiter;
use Omnistock\ReservationService;

class OmnistockReserveModuleFrontController extends ModuleFrontController
{
    use \Omnistock\JsonReply;

    public $ajax = true;
    public $ssl = true;

    public function displayAjax()
    {
        if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
            return $this->reply(405, ['ok' => false, 'error' => 'method']);
        }
        if (!hash_equals($this->module->frontToken(), (string) Tools::getValue('token'))) {
            return $this->reply(403, ['ok' => false, 'error' => 'token', 'message' => $this->module->l('Your session has expired. Please reload the page.', 'reserve')]);
        }
        $api = $this->module->api(8.0);
        if (!$api || !Configuration::get('OMNISTOCK_RESERVATION')) {
            return $this->reply(503, ['ok' => false, 'error' => 'unavailable', 'message' => $this->messages()['unavailable']]);
        }
        $db = $this->module->db();
        $input = [];
        foreach (['id_product', 'id_product_attribute', 'quantity', 'store_id', 'first_name', 'last_name', 'email', 'phone', 'consent', 'request_id'] as $field) {
            $input[$field] = Tools::getValue($field, '');
        }
        $reference = $this->module->itemKeyMode() === 'reference' ? $this->module->referenceOf((int) $input['id_product'], (int) $input['id_product_attribute']) : '';
        $customer = $this->context->customer;
        $idCustomer = $customer && $customer->isLogged() ? (int) $customer->id : 0;
        $visitor = $idCustomer ? 'c' . $idCustomer : 'ip' . Tools::getRemoteAddr();
        $service = new ReservationService($api, $db, new RateLimiter($db, 5, 600), $this->module->itemKeyMode());
        try {
            $result = $service->reserve($input, $visitor, $idCustomer, $reference, $this->module->storeName((string) $input['store_id']));
        } catch (\InvalidArgumentException $e) {
            $result = ['ok' => false, 'error' => 'refused', 'errors' => []];
        }
        if (!$result['ok']) {
            $status = ['invalid' => 422, 'rate_limited' => 429, 'no_stock' => 409, 'store_refused' => 409, 'refused' => 422, 'unavailable' => 503][$result['error']];

            return $this->reply($status, ['ok' => false, 'error' => $result['error'], 'errors' => array_keys($result['errors']), 'message' => $this->messages()[$result['error']]]);
        }
        $reservation = $result['reservation'];
        $this->module->saveStore($reservation['store_id']);
        if (empty($result['replayed'])) {
            $this->module->mailReservation($reservation, (string) $input['first_name'], (string) $input['last_name']);
        }
        $this->context->smarty->assign(['omnistock_reservation' => $reservation, 'omnistock_qr' => $this->module->qrDataUri($reservation['pickup_id'], $reservation['pickup_code'])]);

        return $this->reply(200, ['ok' => true, 'html' => $this->module->fetch('module:omnistock/views/templates/hook/reservation_done.tpl')]);
    }

    private function messages()
    {
        return [
            'invalid' => $this->module->l('Please check the highlighted fields.', 'reserve'),
            'rate_limited' => $this->module->l('Too many reservations in a short time. Please try again later.', 'reserve'),
            'no_stock' => $this->module->l('This store no longer has enough stock. Please choose another store.', 'reserve'),
            'refused' => $this->module->l('This product cannot be reserved in store.', 'reserve'),
            'store_refused' => $this->module->l('This store does not take reservations. Please choose another store.', 'reserve'),
            'unavailable' => $this->module->l('Reservation is not available right now. Please try again in a moment.', 'reserve'),
        ];
    }

}
