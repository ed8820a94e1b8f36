<?php
/**
 * omnistock for PrestaShop: "My reservations" in the customer account.
 *
 * @license MIT
 */
require_once dirname(__DIR__, 2) . '/src/autoload.php';

use Omnistock\RateLimiter;
use Omnistock\ReservationService;

class OmnistockReservationsModuleFrontController extends ModuleFrontController
{
    public $auth = true;
    public $authRedirection = 'my-account';
    public $ssl = true;

    public function initContent()
    {
        parent::initContent();
        $db = $this->module->db();
        $api = $this->module->api();
        $rows = [];
        if ($api) {
            $rows = (new ReservationService($api, $db, new RateLimiter($db)))->forCustomer((int) $this->context->customer->id);
        }
        $this->context->smarty->assign(['omnistock_reservations' => $rows]);
        $this->setTemplate('module:omnistock/views/templates/front/reservations.tpl');
    }
}
