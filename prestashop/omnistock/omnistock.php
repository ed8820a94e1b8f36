<?php
/**
 * omnistock for PrestaShop: store stock on product pages, e-reservation, click-and-collect.
 *
 * The logic lives in the plain classes under src/ (tested against a real omnistock); this class
 * is the PrestaShop glue: install, configuration page, hooks.
 *
 * @license MIT
 */
if (!defined('_PS_VERSION_')) {
    exit;
}

require_once __DIR__ . '/src/autoload.php';

use Omnistock\ApiClient;
use Omnistock\ApiException;
use Omnistock\AvailabilityPresenter;
use Omnistock\CartStores;
use Omnistock\ItemKey;
use Omnistock\OrderPickupMapper;
use Omnistock\OrderPickups;
use Omnistock\Schema;
use Omnistock\Sql\PrestaShopConnection;
use Omnistock\StoreLocator;

class Omnistock extends CarrierModule
{
    /** OMNISTOCK_STORES_CACHE's format (2: with the stores' services). */
    const STORES_CACHE_VERSION = 2;

    const CONFIG = [
        'OMNISTOCK_URL' => '',
        'OMNISTOCK_API_KEY' => '',
        'OMNISTOCK_ITEM_KEY' => 'ps_key',
        'OMNISTOCK_DEFAULT_LAT' => '48.8566',
        'OMNISTOCK_DEFAULT_LNG' => '2.3522',
        'OMNISTOCK_RADIUS_KM' => '50',
        'OMNISTOCK_MAX_STORES' => '5',
        'OMNISTOCK_RESERVATION' => '1',
        'OMNISTOCK_TIMEOUT' => '2.5',
    ];

    const HOOKS = [
        'actionFrontControllerSetMedia',
        'displayProductAdditionalInfo',
        'displayCarrierExtraContent',
        'actionValidateStepComplete',
        'actionValidateOrder',
        'actionOrderStatusPostUpdate',
        'actionCarrierUpdate',
        'displayOrderConfirmation',
        'displayOrderDetail',
        'displayAdminOrderSide',
        'displayAdminOrder',
        'displayCustomerAccount',
    ];

    /** Set by getOrderShippingCost callers in core; unused (click and collect is free). */
    public $id_carrier;

    public function __construct()
    {
        $this->name = 'omnistock';
        $this->tab = 'shipping_logistics';
        $this->version = '1.0.0';
        $this->author = 'omnistock';
        $this->need_instance = 0;
        $this->ps_versions_compliancy = ['min' => '1.7.8.0', 'max' => '9.99.99'];
        $this->bootstrap = true;
        parent::__construct();
        $this->displayName = $this->l('omnistock: store stock and click and collect');
        $this->description = $this->l('Per-store stock on product pages, reservation in store, click and collect at checkout, from omnistock (Cegid Retail Y2).');
        $this->confirmUninstall = $this->l('The carrier is deactivated; pickups and settings are kept.');
    }

    // ------------------------------------------------------------------ install

    public function install()
    {
        if (!parent::install()) {
            return false;
        }
        foreach (self::CONFIG as $key => $default) {
            if (Configuration::get($key) === false) {
                Configuration::updateValue($key, $default);
            }
        }
        if (!Configuration::get('OMNISTOCK_CRON_TOKEN')) {
            Configuration::updateValue('OMNISTOCK_CRON_TOKEN', bin2hex(random_bytes(16)));
        }

        return Schema::install(new PrestaShopConnection())
            && $this->registerHook(self::HOOKS)
            && $this->installCarrier()
            && $this->installOrderStates();
    }

    /** Keeps the tables, the settings and the order states; deactivates the carrier. */
    public function uninstall()
    {
        $this->setCarrierActive(false);

        return parent::uninstall();
    }

    /** A disabled module's carrier is not offered (shoppers could not choose a store). */
    public function disable($force_all = false)
    {
        $this->setCarrierActive(false);

        return parent::disable($force_all);
    }

    public function enable($force_all = false)
    {
        if (!parent::enable($force_all)) {
            return false;
        }
        $this->setCarrierActive(true);

        return true;
    }

    /** The module's carrier: reused when it still exists (reinstall), created otherwise. */
    public function installCarrier()
    {
        $carrier = $this->currentCarrier();
        if ($carrier) {
            $carrier->active = true;
            $carrier->deleted = false;

            return (bool) $carrier->update();
        }
        $carrier = new Carrier();
        $carrier->name = $this->l('Click and collect');
        $carrier->is_module = true;
        $carrier->shipping_external = true;
        $carrier->external_module_name = $this->name;
        $carrier->need_range = true;
        $carrier->shipping_handling = false;
        $carrier->is_free = true;
        $carrier->range_behavior = 0;
        $carrier->active = true;
        $carrier->url = '';
        $carrier->delay = [];
        foreach (Language::getLanguages(false) as $language) {
            $carrier->delay[(int) $language['id_lang']] = $this->l('Collect in store, free');
        }
        if (!$carrier->add()) {
            return false;
        }
        // id_reference is the carrier's stable identity across edits (a new id_carrier each time).
        Configuration::updateValue('OMNISTOCK_CARRIER_ID', (int) $carrier->id);
        Configuration::updateValue('OMNISTOCK_CARRIER_REF', (int) ($carrier->id_reference ?: $carrier->id));
        $groups = [];
        foreach (Group::getGroups((int) Configuration::get('PS_LANG_DEFAULT')) as $group) {
            $groups[] = (int) $group['id_group'];
        }
        $carrier->setGroups($groups);
        foreach (Zone::getZones(true) as $zone) {
            $carrier->addZone((int) $zone['id_zone']);
        }
        $range = new RangePrice();
        $range->id_carrier = (int) $carrier->id;
        $range->delimiter1 = '0';
        $range->delimiter2 = '1000000';
        $range->add();

        return true;
    }

    /** "Ready for pickup" (not shipped) and "Collected" (shipped, delivered); ids shown in the configuration for omnistock's settings. */
    public function installOrderStates()
    {
        $states = [
            'OMNISTOCK_OS_READY' => ['name' => $this->l('Ready for pickup'), 'color' => '#3498D8', 'shipped' => false, 'delivery' => false, 'template' => ''],
            'OMNISTOCK_OS_COLLECTED' => ['name' => $this->l('Collected'), 'color' => '#01B887', 'shipped' => true, 'delivery' => true, 'template' => ''],
        ];
        foreach ($states as $key => $spec) {
            $existing = (int) Configuration::get($key);
            if ($existing && Validate::isLoadedObject(new OrderState($existing))) {
                continue;
            }
            $state = new OrderState();
            $state->name = [];
            foreach (Language::getLanguages(false) as $language) {
                $state->name[(int) $language['id_lang']] = $spec['name'];
            }
            $state->module_name = $this->name;
            $state->color = $spec['color'];
            $state->send_email = false;
            $state->hidden = false;
            $state->logable = true;
            $state->invoice = true;
            $state->paid = true;
            $state->shipped = $spec['shipped'];
            $state->delivery = $spec['delivery'];
            $state->unremovable = true;
            if (!$state->add()) {
                return false;
            }
            Configuration::updateValue($key, (int) $state->id);
        }

        return true;
    }

    private function currentCarrier()
    {
        $reference = (int) Configuration::get('OMNISTOCK_CARRIER_REF');
        if ($reference) {
            $carrier = Carrier::getCarrierByReference($reference);
            if ($carrier && Validate::isLoadedObject($carrier)) {
                return $carrier;
            }
        }

        return null;
    }

    private function setCarrierActive($active)
    {
        $carrier = $this->currentCarrier();
        if ($carrier) {
            $carrier->active = (bool) $active;
            $carrier->update();
        }
    }

    /** Whether an id_carrier is this module's carrier, including ids from before an edit. */
    public function isOurCarrier($idCarrier)
    {
        $idCarrier = (int) $idCarrier;
        if ($idCarrier < 1) {
            return false;
        }
        if ($idCarrier === (int) Configuration::get('OMNISTOCK_CARRIER_ID')) {
            return true;
        }
        $carrier = new Carrier($idCarrier);

        return Validate::isLoadedObject($carrier)
            && ((int) $carrier->id_reference === (int) Configuration::get('OMNISTOCK_CARRIER_REF')
                || $carrier->external_module_name === $this->name);
    }

    public function hookActionCarrierUpdate($params)
    {
        if ((int) $params['id_carrier'] === (int) Configuration::get('OMNISTOCK_CARRIER_ID') && isset($params['carrier']->id)) {
            Configuration::updateValue('OMNISTOCK_CARRIER_ID', (int) $params['carrier']->id);
        }
    }

    public function getOrderShippingCost($params, $shipping_cost)
    {
        return 0.0;
    }

    public function getOrderShippingCostExternal($params)
    {
        return 0.0;
    }

    // ------------------------------------------------------------------ services

    /** The API client, or null while the module is not configured. */
    public function api($timeout = null)
    {
        $url = (string) Configuration::get('OMNISTOCK_URL');
        $key = (string) Configuration::get('OMNISTOCK_API_KEY');
        if ($url === '' || $key === '') {
            return null;
        }
        try {
            return new ApiClient($url, $key, null, $timeout !== null ? (float) $timeout : (float) Configuration::get('OMNISTOCK_TIMEOUT'), 1.0);
        } catch (\InvalidArgumentException $e) {
            return null;
        }
    }

    public function db()
    {
        return new PrestaShopConnection();
    }

    public function itemKeyMode()
    {
        $mode = (string) Configuration::get('OMNISTOCK_ITEM_KEY');

        return in_array($mode, ItemKey::MODES, true) ? $mode : 'ps_key';
    }

    /** The point stores are searched around when the shopper gave none. */
    public function defaultNear()
    {
        return [
            'lat' => (float) Configuration::get('OMNISTOCK_DEFAULT_LAT'),
            'lng' => (float) Configuration::get('OMNISTOCK_DEFAULT_LNG'),
            'radius_km' => max(1.0, min(1000.0, (float) Configuration::get('OMNISTOCK_RADIUS_KM'))),
            'limit' => 20,
        ];
    }

    /**
     * The point to search stores around: the shopper's position (from the browser), else a
     * postcode (given now, remembered in the cookie, or the delivery address's), matched to the
     * nearest shop's postcode (StoreLocator), else the configured default point.
     */
    public function nearFor($lat, $lng, $postcode = '', $country = null)
    {
        $near = $this->defaultNear();
        if (is_numeric($lat) && is_numeric($lng) && abs((float) $lat) <= 90 && abs((float) $lng) <= 180) {
            $near['lat'] = (float) $lat;
            $near['lng'] = (float) $lng;

            return $near;
        }
        $postcode = StoreLocator::normalise($postcode);
        if ($postcode !== '' && strlen($postcode) <= 12) {
            $this->context->cookie->omnistock_postcode = $postcode;
            $this->context->cookie->write();
        } else {
            $postcode = isset($this->context->cookie->omnistock_postcode) ? StoreLocator::normalise($this->context->cookie->omnistock_postcode) : '';
        }
        if ($postcode === '') {
            list($postcode, $country) = $this->deliveryPostcode();
        }
        if ($postcode !== '') {
            $centre = StoreLocator::centreForPostcode($this->storeDirectory(), $postcode, $country);
            if ($centre) {
                $near['lat'] = $centre['lat'];
                $near['lng'] = $centre['lng'];
            }
        }

        return $near;
    }

    /** The cart's delivery address postcode and country ISO code, if any. */
    private function deliveryPostcode()
    {
        $cart = $this->context->cart;
        if (!$cart || !(int) $cart->id_address_delivery) {
            return ['', null];
        }
        $address = new Address((int) $cart->id_address_delivery);
        $iso = $address->id_country ? Country::getIsoById((int) $address->id_country) : null;

        return [StoreLocator::normalise($address->postcode), $iso ?: null];
    }

    /**
     * omnistock's stores (postcode, position, services), cached 10 minutes in the configuration.
     * Every store the key sees, the e-commerce store too (for names); StoreLocator::offers says
     * which a shopper can pick.
     */
    public function storeDirectory()
    {
        $cached = json_decode((string) Configuration::get('OMNISTOCK_STORES_CACHE'), true);
        if (!is_array($cached) || !isset($cached['v']) || $cached['v'] !== self::STORES_CACHE_VERSION) {
            $cached = null; // written by an earlier version of the module (no services)
        }
        if (is_array($cached) && isset($cached['at'], $cached['stores']) && time() - (int) $cached['at'] < 600) {
            return $cached['stores'];
        }
        $api = $this->api();
        if (!$api) {
            return [];
        }
        try {
            $stores = [];
            foreach ($api->allStores() as $store) {
                $stores[] = array_intersect_key($store, array_flip(['store_id', 'name', 'postcode', 'country', 'latitude', 'longitude', 'active', 'services']));
            }
        } catch (ApiException $e) {
            return is_array($cached) && isset($cached['stores']) ? $cached['stores'] : [];
        }
        Configuration::updateValue('OMNISTOCK_STORES_CACHE', json_encode(['v' => self::STORES_CACHE_VERSION, 'at' => time(), 'stores' => $stores]));

        return $stores;
    }

    /** A store's name from the cached directory ('' when unknown). */
    public function storeName($storeId)
    {
        foreach ($this->storeDirectory() as $store) {
            if (isset($store['store_id'], $store['name']) && $store['store_id'] === $storeId) {
                return (string) $store['name'];
            }
        }

        return '';
    }

    public function frontToken()
    {
        return Tools::getToken(false);
    }

    /** The shopper's saved store (set when they reserve or choose a store at checkout). */
    public function savedStore()
    {
        $store = isset($this->context->cookie->omnistock_store) ? (string) $this->context->cookie->omnistock_store : '';

        return preg_match('/^[A-Za-z0-9_.-]{1,32}$/', $store) ? $store : null;
    }

    public function saveStore($storeId)
    {
        if (preg_match('/^[A-Za-z0-9_.-]{1,32}$/', (string) $storeId)) {
            $this->context->cookie->omnistock_store = (string) $storeId;
            $this->context->cookie->write();
        }
    }

    /** The reference of a product or combination, for the "reference" item key mode. */
    public function referenceOf($idProduct, $idProductAttribute)
    {
        if ((int) $idProductAttribute > 0) {
            $combination = new Combination((int) $idProductAttribute);
            if (Validate::isLoadedObject($combination) && $combination->reference !== '') {
                return (string) $combination->reference;
            }
        }
        $product = new Product((int) $idProduct);

        return Validate::isLoadedObject($product) ? (string) $product->reference : '';
    }

    // ------------------------------------------------------------------ front office

    public function hookActionFrontControllerSetMedia($params)
    {
        $controller = $this->context->controller;
        $page = isset($controller->php_self) ? $controller->php_self : '';
        if (in_array($page, ['product', 'order', 'order-confirmation'], true) || $controller instanceof ModuleFrontController) {
            $controller->registerStylesheet('module-omnistock', 'modules/' . $this->name . '/views/css/omnistock.css', ['media' => 'all', 'priority' => 150]);
        }
        if ($page === 'product') {
            $controller->registerJavascript('module-omnistock-product', 'modules/' . $this->name . '/views/js/product.js', ['position' => 'bottom', 'priority' => 150]);
        }
        if ($page === 'order') {
            $controller->registerJavascript('module-omnistock-checkout', 'modules/' . $this->name . '/views/js/checkout.js', ['position' => 'bottom', 'priority' => 150]);
        }
    }

    /**
     * Product page: a placeholder only; product.js fetches every placeholder of the page in one
     * call to the availability controller, and again on `updatedProduct` (combination change),
     * so the page never waits on omnistock.
     */
    public function hookDisplayProductAdditionalInfo($params)
    {
        if (!$this->api()) {
            return '';
        }
        $product = isset($params['product']) ? $params['product'] : null;
        $idProduct = (int) (is_array($product) || $product instanceof ArrayAccess ? $product['id_product'] : Tools::getValue('id_product'));
        $idAttribute = (int) (is_array($product) || $product instanceof ArrayAccess ? $product['id_product_attribute'] : Tools::getValue('id_product_attribute'));
        if ($idProduct < 1) {
            return '';
        }
        $this->context->smarty->assign([
            'omnistock' => [
                'id_product' => $idProduct,
                'id_product_attribute' => $idAttribute,
                'availability_url' => $this->context->link->getModuleLink($this->name, 'availability', [], true),
                'reserve_url' => $this->context->link->getModuleLink($this->name, 'reserve', [], true),
                'token' => $this->frontToken(),
                'reservation' => (bool) Configuration::get('OMNISTOCK_RESERVATION'),
                'request_id' => bin2hex(random_bytes(16)),
                'customer' => $this->customerDefaults(),
                'max_quantity' => \Omnistock\ReservationService::MAX_QUANTITY,
            ],
        ]);

        return $this->fetch('module:omnistock/views/templates/hook/product.tpl');
    }

    private function customerDefaults()
    {
        $customer = $this->context->customer;
        if ($customer && $customer->isLogged()) {
            return ['first_name' => (string) $customer->firstname, 'last_name' => (string) $customer->lastname, 'email' => (string) $customer->email];
        }

        return ['first_name' => '', 'last_name' => '', 'email' => ''];
    }

    /**
     * Checkout, under the module's carrier: a placeholder filled by checkout.js from the
     * checkout controller (stores that can serve the whole cart, nearest first).
     */
    public function hookDisplayCarrierExtraContent($params)
    {
        $chosen = (new CartStores($this->db()))->chosen((int) $this->context->cart->id);
        $this->context->smarty->assign([
            'omnistock' => [
                'checkout_url' => $this->context->link->getModuleLink($this->name, 'checkout', [], true),
                'token' => $this->frontToken(),
                'chosen' => $chosen,
                'id_carrier' => isset($params['carrier']['id']) ? (int) $params['carrier']['id'] : 0,
            ],
        ]);

        return $this->fetch('module:omnistock/views/templates/hook/carrier.tpl');
    }

    /** The cart's lines as omnistock lines (product, combination, quantity). */
    public function cartLines(Cart $cart)
    {
        $lines = [];
        foreach ($cart->getProducts() as $p) {
            $line = ItemKey::line(
                $this->itemKeyMode(),
                $p['id_product'],
                $p['id_product_attribute'],
                isset($p['reference']) ? $p['reference'] : ''
            );
            $line['quantity'] = (int) $p['cart_quantity'];
            $lines[] = $line;
        }

        return $lines;
    }

    /**
     * "Continue" on the delivery step: with our carrier, a store must be chosen and must still
     * serve the whole cart. Blocking sets completed to false and says why.
     */
    public function hookActionValidateStepComplete($params)
    {
        if (!isset($params['step_name']) || $params['step_name'] !== 'delivery') {
            return;
        }
        $cart = $this->context->cart;
        $idCarrier = $this->selectedCarrier($cart, isset($params['request_params']) ? $params['request_params'] : []);
        if (!$this->isOurCarrier($idCarrier)) {
            return;
        }
        $error = $this->checkoutError($cart);
        if ($error !== null) {
            $params['completed'] = false;
            $this->context->controller->errors[] = $error;
        }
    }

    /** Why the cart cannot go on with click and collect, or null. */
    public function checkoutError(Cart $cart)
    {
        $chosen = (new CartStores($this->db()))->chosen((int) $cart->id);
        if (!$chosen) {
            return $this->l('Please choose the store where you will collect your order.');
        }
        $api = $this->api();
        if (!$api) {
            return $this->l('Click and collect is not available right now. Please choose another delivery method.');
        }
        try {
            $answer = $api->availability($this->cartLines($cart), null, [$chosen['store_id']], false, 'click_and_collect');
        } catch (ApiException $e) {
            return $this->l('We cannot check store stock right now. Please try again in a moment or choose another delivery method.');
        } catch (\InvalidArgumentException $e) {
            return $this->l('Some products of your cart cannot be collected in store.');
        }
        if (!AvailabilityPresenter::storeServesAll($answer, $chosen['store_id'])) {
            return sprintf($this->l('%s can no longer serve your whole cart. Please choose another store.'), $chosen['store_name'] ?: $chosen['store_id']);
        }

        return null;
    }

    private function selectedCarrier(Cart $cart, array $request)
    {
        if (isset($request['delivery_option']) && is_array($request['delivery_option'])) {
            $option = reset($request['delivery_option']);

            return (int) rtrim((string) $option, ',');
        }
        $options = $cart->getDeliveryOption(null, true);
        if (is_array($options) && $options) {
            return (int) rtrim((string) reset($options), ',');
        }

        return (int) $cart->id_carrier;
    }

    /**
     * Order validated: create its `order` pickup. Never throws (PrestaShop cannot undo the
     * order): failures are recorded for the cron retry and flagged in the back office.
     */
    public function hookActionValidateOrder($params)
    {
        try {
            $order = isset($params['order']) ? $params['order'] : null;
            if (!$order || !$this->isOurCarrier((int) $order->id_carrier)) {
                return;
            }
            $chosen = (new CartStores($this->db()))->chosen((int) $order->id_cart);
            $status = isset($params['orderStatus']) ? $params['orderStatus'] : null;
            $customer = isset($params['customer']) ? $params['customer'] : new Customer((int) $order->id_customer);
            $currency = isset($params['currency']) ? $params['currency'] : new Currency((int) $order->id_currency);
            $address = new Address((int) $order->id_address_delivery);
            $body = (new OrderPickupMapper($this->itemKeyMode()))->map(
                [
                    'id_order' => (int) $order->id,
                    'reference' => (string) $order->reference,
                    'paid' => $status && !empty($status->paid),
                    'currency' => (string) $currency->iso_code,
                ],
                $this->orderProducts($order),
                [
                    'email' => (string) $customer->email,
                    'firstname' => (string) $customer->firstname,
                    'lastname' => (string) $customer->lastname,
                    'phone' => (string) ($address->phone_mobile ?: $address->phone),
                    'id_customer' => !empty($customer->is_guest) ? 0 : (int) $customer->id,
                ],
                $chosen ? $chosen['store_id'] : ''
            );
            $api = $this->api(10.0) ?: new ApiClient('http://omnistock.invalid', '-');
            $row = (new OrderPickups($api, $this->db()))->create((int) $order->id, (int) $order->id_cart, $chosen ? $chosen['store_id'] : '', $body);
            if ($row && $row['status'] === 'created') {
                $this->mailPickupCode($order, $customer, $row, $chosen);
            }
        } catch (\Throwable $e) {
            if (class_exists('PrestaShopLogger')) {
                PrestaShopLogger::addLog('omnistock: order pickup not created: ' . $e->getMessage(), 3, null, 'Order', isset($order->id) ? (int) $order->id : 0, true);
            }
        }
    }

    private function orderProducts($order)
    {
        $rows = [];
        foreach ($order->getProducts() as $p) {
            $rows[] = [
                'product_id' => (int) $p['product_id'],
                'product_attribute_id' => (int) $p['product_attribute_id'],
                'product_quantity' => (int) $p['product_quantity'],
                'unit_price_tax_incl' => $p['unit_price_tax_incl'],
                'product_name' => (string) $p['product_name'],
                'product_reference' => (string) $p['product_reference'],
            ];
        }

        return $rows;
    }

    /** The order's pickup code by e-mail (module template mails/<iso>/omnistock_pickup). */
    public function mailPickupCode($order, $customer, array $row, $chosen)
    {
        if (empty($row['pickup_code']) || !class_exists('Mail')) {
            return false;
        }

        return (bool) Mail::Send(
            (int) $order->id_lang,
            'omnistock_pickup',
            sprintf($this->l('Your click and collect code for order %s'), $order->reference),
            [
                '{firstname}' => $customer->firstname,
                '{lastname}' => $customer->lastname,
                '{order_name}' => $order->reference,
                '{pickup_code}' => $row['pickup_code'],
                '{store_name}' => $chosen && $chosen['store_name'] ? $chosen['store_name'] : $row['store_id'],
            ],
            $customer->email,
            trim($customer->firstname . ' ' . $customer->lastname),
            null,
            null,
            null,
            null,
            __DIR__ . '/mails/'
        );
    }

    /** The reservation's confirmation e-mail (module template mails/<iso>/omnistock_reservation). */
    public function mailReservation(array $reservation, $firstName, $lastName)
    {
        if (empty($reservation['pickup_code']) || !class_exists('Mail')) {
            return false;
        }
        $idLang = isset($this->context->language->id) ? (int) $this->context->language->id : (int) Configuration::get('PS_LANG_DEFAULT');

        return (bool) Mail::Send(
            $idLang,
            'omnistock_reservation',
            $this->l('Your reservation in store'),
            [
                '{firstname}' => $firstName,
                '{lastname}' => $lastName,
                '{pickup_code}' => $reservation['pickup_code'],
                '{store_name}' => $reservation['store_name'] !== '' ? $reservation['store_name'] : $reservation['store_id'],
                '{quantity}' => (int) $reservation['quantity'],
                '{deadline}' => $reservation['deadline'],
            ],
            $reservation['email'],
            trim($firstName . ' ' . $lastName),
            null,
            null,
            null,
            null,
            __DIR__ . '/mails/'
        );
    }

    /** Order cancelled in PrestaShop: cancel its pickup (retried by cron when omnistock is down). */
    public function hookActionOrderStatusPostUpdate($params)
    {
        try {
            $state = isset($params['newOrderStatus']) ? $params['newOrderStatus'] : null;
            if (!$state || (int) $state->id !== (int) Configuration::get('PS_OS_CANCELED')) {
                return;
            }
            $api = $this->api(10.0);
            if ($api) {
                (new OrderPickups($api, $this->db()))->cancel((int) $params['id_order'], 'order cancelled in PrestaShop');
            }
        } catch (\Throwable $e) {
            if (class_exists('PrestaShopLogger')) {
                PrestaShopLogger::addLog('omnistock: pickup not cancelled: ' . $e->getMessage(), 3, null, 'Order', (int) $params['id_order'], true);
            }
        }
    }

    /** Order confirmation page: the pickup code and QR (or why there is none yet). */
    public function hookDisplayOrderConfirmation($params)
    {
        $order = isset($params['order']) ? $params['order'] : null;

        return $order ? $this->renderOrderPickup((int) $order->id, 'front') : '';
    }

    /** Customer's order detail page: the same block. */
    public function hookDisplayOrderDetail($params)
    {
        $order = isset($params['order']) ? $params['order'] : null;

        return $order ? $this->renderOrderPickup((int) $order->id, 'front') : '';
    }

    public function renderOrderPickup($idOrder, $side)
    {
        $row = (new OrderPickups($this->api() ?: new ApiClient('http://omnistock.invalid', '-'), $this->db()))->find($idOrder);
        if (!$row) {
            return '';
        }
        $this->context->smarty->assign(['omnistock' => [
            'row' => $row,
            'qr' => $row['status'] === 'created' ? $this->qrDataUri($row['pickup_id'], $row['pickup_code']) : null,
        ]]);

        return $this->fetch('module:omnistock/views/templates/hook/order_pickup.tpl');
    }

    /**
     * omnistock's QR for a pickup as an <img> data URI (an SVG in an <img> runs no script), or
     * null when this omnistock has no QR endpoint or there is no code: the page then shows the
     * code only. $code is the pickup code omnistock gave at creation (omnistock draws no QR
     * without it); it goes to omnistock only, and is never logged.
     */
    public function qrDataUri($pickupId, $code)
    {
        $api = $this->api();
        if (!$api || !$pickupId || (string) $code === '') {
            return null;
        }
        try {
            $svg = $api->pickupQrSvg($pickupId, $code);
        } catch (ApiException $e) {
            return null;
        }

        return $svg ? 'data:image/svg+xml;base64,' . base64_encode($svg) : null;
    }

    public function hookDisplayCustomerAccount($params)
    {
        if (!Configuration::get('OMNISTOCK_RESERVATION')) {
            return '';
        }
        $this->context->smarty->assign(['omnistock' => [
            'url' => $this->context->link->getModuleLink($this->name, 'reservations', [], true),
        ]]);

        return $this->fetch('module:omnistock/views/templates/hook/my_account.tpl');
    }

    // ------------------------------------------------------------------ back office

    /** PrestaShop 1.7.7+ order page (side column). */
    public function hookDisplayAdminOrderSide($params)
    {
        return $this->renderAdminOrder((int) $params['id_order']);
    }

    /** Older order pages. */
    public function hookDisplayAdminOrder($params)
    {
        if (version_compare(_PS_VERSION_, '1.7.7.0', '>=')) {
            return '';
        }

        return $this->renderAdminOrder((int) $params['id_order']);
    }

    public function renderAdminOrder($idOrder)
    {
        $row = (new OrderPickups($this->api() ?: new ApiClient('http://omnistock.invalid', '-'), $this->db()))->find($idOrder);
        if (!$row) {
            return '';
        }
        $pickup = null;
        $error = '';
        $api = $this->api();
        if ($api && $row['pickup_id']) {
            try {
                $pickup = $api->pickup($row['pickup_id']);
            } catch (ApiException $e) {
                $error = $e->getMessage();
            }
        }
        $this->context->smarty->assign(['omnistock' => ['row' => $row, 'pickup' => $pickup, 'error' => $error]]);

        return $this->display(__FILE__, 'views/templates/admin/order.tpl');
    }

    // ------------------------------------------------------------------ configuration page

    public function getContent()
    {
        $messages = '';
        if (Tools::isSubmit('submitOmnistock')) {
            $messages .= $this->saveConfiguration();
        }
        if (Tools::isSubmit('testOmnistock')) {
            $api = $this->api(5.0);
            $result = $api ? $api->testConnection() : ['ok' => false, 'message' => $this->l('Set the omnistock URL and API key first.')];
            $messages .= $result['ok'] ? $this->displayConfirmation($result['message']) : $this->displayError($result['message']);
        }
        $flagged = (new OrderPickups($this->api() ?: new ApiClient('http://omnistock.invalid', '-'), $this->db()))->flagged(20);
        $this->context->smarty->assign(['omnistock' => [
            'carrier_id' => (int) Configuration::get('OMNISTOCK_CARRIER_ID'),
            'carrier_ref' => (int) Configuration::get('OMNISTOCK_CARRIER_REF'),
            'ready_state' => (int) Configuration::get('OMNISTOCK_OS_READY'),
            'collected_state' => (int) Configuration::get('OMNISTOCK_OS_COLLECTED'),
            'cron_url' => $this->context->link->getModuleLink($this->name, 'cron', ['token' => Configuration::get('OMNISTOCK_CRON_TOKEN')], true),
            'flagged' => $flagged,
        ]]);

        return $messages . $this->renderForm() . $this->display(__FILE__, 'views/templates/admin/configure.tpl');
    }

    private function saveConfiguration()
    {
        $url = trim((string) Tools::getValue('OMNISTOCK_URL'));
        if ($url !== '' && !preg_match('~^https?://[^\s/?#]+(/[^\s?#]*)?$~i', $url)) {
            return $this->displayError($this->l('The omnistock URL must start with https:// or http://'));
        }
        Configuration::updateValue('OMNISTOCK_URL', rtrim($url, '/'));
        // The key is never printed back: an empty field keeps the stored key.
        $key = trim((string) Tools::getValue('OMNISTOCK_API_KEY'));
        if ($key !== '') {
            Configuration::updateValue('OMNISTOCK_API_KEY', $key);
        }
        $mode = (string) Tools::getValue('OMNISTOCK_ITEM_KEY');
        Configuration::updateValue('OMNISTOCK_ITEM_KEY', in_array($mode, ItemKey::MODES, true) ? $mode : 'ps_key');
        foreach (['OMNISTOCK_DEFAULT_LAT' => [-90, 90], 'OMNISTOCK_DEFAULT_LNG' => [-180, 180], 'OMNISTOCK_RADIUS_KM' => [1, 1000], 'OMNISTOCK_TIMEOUT' => [0.5, 10], 'OMNISTOCK_MAX_STORES' => [1, 20]] as $field => $range) {
            $value = (float) str_replace(',', '.', (string) Tools::getValue($field));
            Configuration::updateValue($field, (string) max($range[0], min($range[1], $value)));
        }
        Configuration::updateValue('OMNISTOCK_RESERVATION', Tools::getValue('OMNISTOCK_RESERVATION') ? '1' : '0');
        foreach (['OMNISTOCK_OS_READY', 'OMNISTOCK_OS_COLLECTED'] as $field) {
            $id = (int) Tools::getValue($field);
            if ($id > 0) {
                Configuration::updateValue($field, $id);
            }
        }

        return $this->displayConfirmation($this->l('Settings saved.'));
    }

    private function renderForm()
    {
        $states = OrderState::getOrderStates((int) $this->context->language->id);
        $yesNo = [['id' => 'on', 'value' => 1, 'label' => $this->l('Yes')], ['id' => 'off', 'value' => 0, 'label' => $this->l('No')]];
        $form = ['form' => [
            'legend' => ['title' => $this->l('omnistock connection')],
            'input' => [
                ['type' => 'text', 'name' => 'OMNISTOCK_URL', 'label' => $this->l('omnistock URL'), 'desc' => $this->l('For example https://omnistock.example.com'), 'required' => true],
                ['type' => 'password', 'name' => 'OMNISTOCK_API_KEY', 'label' => $this->l('API key (storefront role)'), 'desc' => Configuration::get('OMNISTOCK_API_KEY') ? $this->l('A key is stored. Leave empty to keep it.') : $this->l('No key stored yet.')],
                ['type' => 'select', 'name' => 'OMNISTOCK_ITEM_KEY', 'label' => $this->l('Products are known to omnistock by'), 'options' => ['query' => [['id' => 'ps_key', 'name' => $this->l('product and combination ids (omnistock mapping import)')], ['id' => 'reference', 'name' => $this->l('reference (= Cegid SKU)')]], 'id' => 'id', 'name' => 'name']],
                ['type' => 'text', 'name' => 'OMNISTOCK_DEFAULT_LAT', 'label' => $this->l('Default latitude'), 'desc' => $this->l('Stores are searched around this point when the shopper gives no location.')],
                ['type' => 'text', 'name' => 'OMNISTOCK_DEFAULT_LNG', 'label' => $this->l('Default longitude')],
                ['type' => 'text', 'name' => 'OMNISTOCK_RADIUS_KM', 'label' => $this->l('Search radius (km)')],
                ['type' => 'text', 'name' => 'OMNISTOCK_MAX_STORES', 'label' => $this->l('Stores shown on a product page')],
                ['type' => 'text', 'name' => 'OMNISTOCK_TIMEOUT', 'label' => $this->l('omnistock timeout (seconds)')],
                ['type' => 'switch', 'name' => 'OMNISTOCK_RESERVATION', 'label' => $this->l('Reserve in store'), 'values' => $yesNo, 'is_bool' => true],
                ['type' => 'select', 'name' => 'OMNISTOCK_OS_READY', 'label' => $this->l('"Ready for pickup" order state'), 'options' => ['query' => $states, 'id' => 'id_order_state', 'name' => 'name']],
                ['type' => 'select', 'name' => 'OMNISTOCK_OS_COLLECTED', 'label' => $this->l('"Collected" order state'), 'options' => ['query' => $states, 'id' => 'id_order_state', 'name' => 'name']],
            ],
            'submit' => ['title' => $this->l('Save'), 'name' => 'submitOmnistock'],
            'buttons' => [['type' => 'submit', 'name' => 'testOmnistock', 'title' => $this->l('Test connection'), 'icon' => 'process-icon-refresh']],
        ]];
        $helper = new HelperForm();
        $helper->module = $this;
        $helper->name_controller = $this->name;
        $helper->token = Tools::getAdminTokenLite('AdminModules');
        $helper->currentIndex = AdminController::$currentIndex . '&configure=' . $this->name;
        $helper->default_form_language = (int) Configuration::get('PS_LANG_DEFAULT');
        $helper->submit_action = 'submitOmnistock';
        $values = [];
        foreach (array_keys(self::CONFIG) as $key) {
            $values[$key] = Configuration::get($key);
        }
        $values['OMNISTOCK_API_KEY'] = ''; // never sent back to the browser
        $values['OMNISTOCK_OS_READY'] = Configuration::get('OMNISTOCK_OS_READY');
        $values['OMNISTOCK_OS_COLLECTED'] = Configuration::get('OMNISTOCK_OS_COLLECTED');
        $helper->fields_value = $values;

        return $helper->generateForm([$form]);
    }
}
