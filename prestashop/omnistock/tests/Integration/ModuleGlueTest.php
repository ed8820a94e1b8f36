<?php

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/../standins/prestashop.php';
require_once __DIR__ . '/../../omnistock.php';
require_once __DIR__ . '/../../controllers/front/availability.php';
require_once __DIR__ . '/../../controllers/front/checkout.php';
require_once __DIR__ . '/../../controllers/front/reserve.php';
require_once __DIR__ . '/../../controllers/front/cron.php';

/**
 * The module's PrestaShop glue against the STAND-IN core classes (tests/standins, see its
 * README for what that proves and what not), the real omnistock and the real MariaDB.
 */
final class ModuleGlueTest extends TestCase
{
    /** @var Omnistock */
    private $module;

    protected function setUp(): void
    {
        StandIn::reset(TestEnv::pdo());
        foreach (\Omnistock\Schema::TABLES as $table) {
            TestEnv::pdo()->exec('DROP TABLE IF EXISTS `ps_' . $table . '`');
        }
        $this->module = new Omnistock();
        $this->assertTrue($this->module->install());
        Configuration::updateValue('OMNISTOCK_URL', TestEnv::url());
        Configuration::updateValue('OMNISTOCK_API_KEY', TestEnv::key());
        Configuration::updateValue('OMNISTOCK_RADIUS_KM', '1000'); // the demo's stores span France
        $_SERVER['REQUEST_METHOD'] = 'GET';
    }

    private function cart(array $lines, $id = null)
    {
        $cart = Context::getContext()->cart;
        $cart->id = $id ?: random_int(1000, 2000000000);
        $cart->products = [];
        foreach ($lines as $l) {
            $cart->products[] = ['id_product' => $l[0], 'id_product_attribute' => $l[1], 'cart_quantity' => $l[2], 'reference' => ''];
        }
        $cart->deliveryOption = [1 => Configuration::get('OMNISTOCK_CARRIER_ID') . ','];

        return $cart;
    }

    private function run_(ModuleFrontController $controller, array $request, $method = 'GET')
    {
        StandIn::$request = $request;
        $_SERVER['REQUEST_METHOD'] = $method;
        ob_start();
        $controller->run();
        $body = ob_get_clean();

        return [$controller->replyStatus, json_decode($body, true)];
    }

    public function testInstallCreatesTheCarrierStatesTablesAndHooks()
    {
        $carrier = new Carrier((int) Configuration::get('OMNISTOCK_CARRIER_ID'));
        $this->assertTrue($carrier->is_module);
        $this->assertTrue($carrier->shipping_external);
        $this->assertSame('omnistock', $carrier->external_module_name);
        $this->assertTrue($carrier->active);
        $this->assertSame([1, 2, 3], $carrier->groups);
        $this->assertSame([1, 9], $carrier->zones);
        $ready = new OrderState((int) Configuration::get('OMNISTOCK_OS_READY'));
        $collected = new OrderState((int) Configuration::get('OMNISTOCK_OS_COLLECTED'));
        $this->assertSame(['Ready for pickup', false, false], [$ready->name[1], $ready->shipped, $ready->delivery]);
        $this->assertSame(['Collected', true, true], [$collected->name[1], $collected->shipped, $collected->delivery]);
        $this->assertGreaterThanOrEqual(14, $ready->id, 'after the 13 core states');
        foreach (['displayProductAdditionalInfo', 'displayCarrierExtraContent', 'actionValidateStepComplete', 'actionValidateOrder', 'actionOrderStatusPostUpdate', 'actionCarrierUpdate', 'displayAdminOrderSide'] as $hook) {
            $this->assertContains($hook, Module::$hooks['omnistock']);
        }
        $tables = TestEnv::pdo()->query("SHOW TABLES LIKE 'ps_omnistock_%'")->fetchAll(\PDO::FETCH_COLUMN);
        $this->assertCount(4, $tables);
        $this->assertMatchesRegularExpression('/^[0-9a-f]{32}$/', Configuration::get('OMNISTOCK_CRON_TOKEN'));
    }

    public function testUninstallKeepsDataAndDeactivatesTheCarrierReinstallReusesIt()
    {
        $id = (int) Configuration::get('OMNISTOCK_CARRIER_ID');
        (new \Omnistock\CartStores($this->module->db()))->choose(5, 'S001', 'Paris');
        $this->assertTrue($this->module->uninstall());
        $this->assertFalse((new Carrier($id))->active);
        $this->assertSame(1, (int) TestEnv::pdo()->query('SELECT COUNT(*) FROM ps_omnistock_cart')->fetchColumn());
        $states = count(OrderState::$rows);
        $this->assertTrue($this->module->install());
        $this->assertTrue((new Carrier($id))->active);
        $this->assertCount(1, Carrier::$rows, 'no second carrier');
        $this->assertCount($states, OrderState::$rows, 'no second set of states');
    }

    public function testDisablingTheModuleDisablesTheCarrier()
    {
        $id = (int) Configuration::get('OMNISTOCK_CARRIER_ID');
        $this->module->disable();
        $this->assertFalse((new Carrier($id))->active);
        $this->module->enable();
        $this->assertTrue((new Carrier($id))->active);
    }

    public function testAnEditedCarrierIsStillOurs()
    {
        $old = (int) Configuration::get('OMNISTOCK_CARRIER_ID');
        $new = Carrier::editInBackOffice($old);
        $this->assertNotSame($old, (int) $new->id);
        $this->assertSame((int) $new->id, (int) Configuration::get('OMNISTOCK_CARRIER_ID'));
        $this->assertTrue($this->module->isOurCarrier($old), 'orders placed before the edit');
        $this->assertTrue($this->module->isOurCarrier($new->id));
        $other = new Carrier();
        $other->name = 'Home delivery';
        $other->add();
        $this->assertFalse($this->module->isOurCarrier($other->id));
        $this->module->disable();
        $this->assertFalse((new Carrier($new->id))->active, 'the current copy is the one disabled');
    }

    public function testConfigurationNeverSendsTheKeyToTheBrowser()
    {
        $html = $this->module->getContent();
        $this->assertStringNotContainsString(TestEnv::key(), $html);
        $this->assertStringContainsString('OMNISTOCK_PRESTASHOP_READY_STATE = ' . Configuration::get('OMNISTOCK_OS_READY'), $html);
        StandIn::$request = ['testOmnistock' => '1'];
        // What it saw: the 12 shops and the e-commerce store, S003 offering reservation only.
        $this->assertStringContainsString('connected, 13 store(s) visible to this key: 11 offer click and collect, 12 offer reservation', $this->module->getContent());
        StandIn::$request = ['submitOmnistock' => '1', 'OMNISTOCK_URL' => TestEnv::url() . '/', 'OMNISTOCK_API_KEY' => '', 'OMNISTOCK_ITEM_KEY' => 'nope', 'OMNISTOCK_RADIUS_KM' => '5000'];
        $this->module->getContent();
        $this->assertSame(TestEnv::key(), Configuration::get('OMNISTOCK_API_KEY'), 'an empty key field keeps the key');
        $this->assertSame('ps_key', Configuration::get('OMNISTOCK_ITEM_KEY'));
        $this->assertSame('1000', Configuration::get('OMNISTOCK_RADIUS_KM'));
        StandIn::$request = ['submitOmnistock' => '1', 'OMNISTOCK_URL' => 'javascript:alert(1)'];
        $this->assertStringContainsString('alert-danger', $this->module->getContent());
        $this->assertSame(TestEnv::url(), Configuration::get('OMNISTOCK_URL'));
    }

    public function testProductHookRendersAnEscapedPlaceholderWithoutCallingOmnistock()
    {
        Configuration::updateValue('OMNISTOCK_URL', 'http://127.0.0.1:9'); // nothing listens: must not matter
        $html = $this->module->hookDisplayProductAdditionalInfo(['product' => ['id_product' => 1, 'id_product_attribute' => 2]]);
        $this->assertStringContainsString('data-id-product="1"', $html);
        $this->assertStringContainsString('data-id-product-attribute="2"', $html);
        $this->assertStringContainsString('data-token="standin-static-token"', $html);
        Context::getContext()->customer->logged = true;
        Context::getContext()->customer->firstname = '"><script>alert(1)</script>';
        $html = $this->module->hookDisplayProductAdditionalInfo(['product' => ['id_product' => 1, 'id_product_attribute' => 2]]);
        $this->assertStringNotContainsString('<script>alert(1)', $html);
        $this->assertStringContainsString('&quot;&gt;&lt;script&gt;', $html);
    }

    public function testAvailabilityControllerBatchesItemsInOneAnswer()
    {
        list($status, $body) = $this->run_(new OmnistockAvailabilityModuleFrontController(), ['token' => StandIn::$token, 'items' => '1:1,1:2,2:0,bogus']);
        $this->assertSame(200, $status);
        $this->assertSame('ok', $body['state']);
        $this->assertSame(['1:1', '1:2', '2:0'], array_keys($body['items']));
        $this->assertStringContainsString('data-store-id="S001"', $body['items']['1:1']);
        $this->assertStringContainsString('Only 2 left', $body['items']['1:1']);
        $this->assertMatchesRegularExpression('/Omnistock Lyon.*Only 2 left|Only 2 left.*Omnistock Lyon/s', $body['items']['1:1']);
        $this->assertStringContainsString('omnistock-out_of_stock" data-store-id="S001"', $body['items']['1:2']);
    }

    public function testAPostcodeOrTheDeliveryAddressPutsTheNearestStoresFirst()
    {
        list(, $body) = $this->run_(new OmnistockAvailabilityModuleFrontController(), ['token' => StandIn::$token, 'items' => '1:1', 'postcode' => '69007']);
        preg_match_all('/data-store-id="(S\d+)"/', $body['items']['1:1'], $m);
        $this->assertSame('S002', $m[1][0], 'Lyon first for a Lyon postcode');
        $this->assertSame('69007', Context::getContext()->cookie->omnistock_postcode, 'remembered');
        list(, $body) = $this->run_(new OmnistockAvailabilityModuleFrontController(), ['token' => StandIn::$token, 'items' => '1:1']);
        preg_match_all('/data-store-id="(S\d+)"/', $body['items']['1:1'], $m);
        $this->assertSame('S002', $m[1][0], 'the remembered postcode');

        // Checkout: the delivery address's postcode (Marseille): Lyon, then Toulouse, then Paris.
        $cart = $this->cart([[1, 1, 1]]);
        Address::$rows[5] = ['postcode' => '13008', 'id_country' => 8];
        $cart->id_address_delivery = 5;
        unset(Context::getContext()->cookie->omnistock_postcode);
        list(, $body) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'stores']);
        preg_match_all('/data-store-id="(S\d+)"/', $body['html'], $m);
        $this->assertSame(['S002', 'S004', 'S001'], $m[1]);
        $this->assertNotFalse(Configuration::get('OMNISTOCK_STORES_CACHE'), 'the store directory is cached');
    }

    public function testStoreListsKeepToTheStoresOfferingTheService()
    {
        // S003 (Marseille) offers reservation only; the e-commerce store offers nothing.
        $web = array_values(array_filter(TestEnv::client()->allStores(), function ($s) {
            return $s['services'] === [];
        }))[0]['store_id'];
        $ids = function ($html) {
            preg_match_all('/data-store-id="([^"]+)"/', $html, $m);

            return array_values(array_unique($m[1])); // a store's row and its button
        };
        // Product page, reservation on: S003 first for a Marseille postcode, never the web store.
        Configuration::updateValue('OMNISTOCK_MAX_STORES', '20');
        list(, $body) = $this->run_(new OmnistockAvailabilityModuleFrontController(), ['token' => StandIn::$token, 'items' => '2:0', 'postcode' => '13008']);
        $listed = $ids($body['items']['2:0']);
        $this->assertSame('S003', $listed[0]);
        $this->assertCount(12, $listed, 'every shop offers reservation');
        $this->assertNotContains($web, $listed);
        // Reservation off: the stores where an order can be collected, so not S003.
        Configuration::updateValue('OMNISTOCK_RESERVATION', '0');
        list(, $body) = $this->run_(new OmnistockAvailabilityModuleFrontController(), ['token' => StandIn::$token, 'items' => '2:0', 'postcode' => '13008']);
        $listed = $ids($body['items']['2:0']);
        $this->assertNotContains('S003', $listed);
        $this->assertNotContains($web, $listed);
        $this->assertSame('S002', $listed[0], 'still searched around Marseille: Lyon first');

        // Checkout: 2:0 is in stock in S001..S004, but S003 cannot take an order pickup.
        $cart = $this->cart([[2, 0, 1]]);
        list(, $body) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'stores', 'postcode' => '13008']);
        $this->assertSame(['S002', 'S004', 'S001'], $ids($body['html']));
        foreach (['S003', $web] as $store) {
            list($status, $body) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'choose', 'store_id' => $store], 'POST');
            $this->assertSame(409, $status, $store);
            $this->assertSame('store does not offer click and collect', $body['error']);
        }
        $this->assertNull((new \Omnistock\CartStores($this->module->db()))->chosen($cart->id));
        list($status) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'choose', 'store_id' => 'S002'], 'POST');
        $this->assertSame(200, $status);
    }

    public function testAvailabilityControllerChecksTheToken()
    {
        list($status) = $this->run_(new OmnistockAvailabilityModuleFrontController(), ['token' => 'forged', 'items' => '1:1']);
        $this->assertSame(403, $status);
    }

    public function testAvailabilityWithOmnistockDownSaysUnknown()
    {
        Configuration::updateValue('OMNISTOCK_URL', TestEnv::deadClient() ? 'http://127.0.0.1:9' : '');
        list($status, $body) = $this->run_(new OmnistockAvailabilityModuleFrontController(), ['token' => StandIn::$token, 'items' => '1:1']);
        $this->assertSame(200, $status);
        $this->assertSame('unknown', $body['state']);
        $this->assertStringContainsString('Store stock is unknown right now', $body['items']['1:1']);
    }

    public function testCheckoutListsWholeBasketStoresAndChoosingChecksAgain()
    {
        $cart = $this->cart([[1, 1, 3], [2, 0, 1]]);
        list($status, $body) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'stores']);
        $this->assertSame(200, $status);
        preg_match_all('/data-store-id="(S\d+)"/', $body['html'], $m);
        $this->assertSame(['S001', 'S004'], $m[1], 'only stores with 3 x 1:1 and 1 x 2:0, nearest first');
        list($status) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'choose', 'store_id' => 'S002'], 'POST');
        $this->assertSame(409, $status, 'S002 has only 2 of 1:1');
        list($status, $body) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'choose', 'store_id' => 'S004'], 'POST');
        $this->assertSame(200, $status);
        $this->assertSame('S004', (new \Omnistock\CartStores($this->module->db()))->chosen($cart->id)['store_id']);
        $this->assertSame('S004', Context::getContext()->cookie->omnistock_store);
        list($status) = $this->run_(new OmnistockCheckoutModuleFrontController(), ['token' => StandIn::$token, 'action' => 'choose', 'store_id' => 'S004'], 'GET');
        $this->assertSame(400, $status, 'choosing needs a POST');
    }

    public function testContinueIsBlockedWithoutAStoreOrWhenTheStoreCannotServe()
    {
        $cart = $this->cart([[1, 1, 2]]);
        $completed = true;
        $params = ['step_name' => 'delivery', 'request_params' => [], 'completed' => &$completed];
        $this->module->hookActionValidateStepComplete($params);
        $this->assertFalse($completed);
        $this->assertStringContainsString('choose the store', Context::getContext()->controller->errors[0]);

        (new \Omnistock\CartStores($this->module->db()))->choose($cart->id, 'S003', 'Omnistock Marseille');
        $completed = true;
        Context::getContext()->controller->errors = [];
        $this->module->hookActionValidateStepComplete($params);
        $this->assertFalse($completed, 'S003 has none of 1:1');
        $this->assertStringContainsString('Omnistock Marseille can no longer serve', Context::getContext()->controller->errors[0]);

        (new \Omnistock\CartStores($this->module->db()))->choose($cart->id, 'S001', 'Omnistock Paris');
        $completed = true;
        Context::getContext()->controller->errors = [];
        $this->module->hookActionValidateStepComplete($params);
        $this->assertTrue($completed);
        $this->assertSame([], Context::getContext()->controller->errors);

        // Another carrier: none of our business.
        (new \Omnistock\CartStores($this->module->db()))->forget($cart->id);
        $cart->deliveryOption = [1 => '999,'];
        $this->module->hookActionValidateStepComplete($params);
        $this->assertTrue($completed);
    }

    private function order($idCart, $store, $quantity = 1)
    {
        (new \Omnistock\CartStores($this->module->db()))->choose($idCart, $store, 'Omnistock Paris');
        $order = new Order();
        $order->id = random_int(100000, 2000000000);
        $order->id_cart = $idCart;
        $order->id_carrier = (int) Configuration::get('OMNISTOCK_CARRIER_ID');
        $order->reference = 'ABCDEFGHI';
        $order->products = [['product_id' => 1, 'product_attribute_id' => 1, 'product_quantity' => $quantity, 'unit_price_tax_incl' => '49.000000', 'product_name' => 'Sneaker', 'product_reference' => '']];
        $customer = new Customer(3);
        $customer->email = 'carla@example.com';
        $customer->firstname = 'Carla';
        $customer->lastname = 'Petit';
        $status = new OrderState();
        $status->paid = true;

        return [$order, ['order' => $order, 'cart' => Context::getContext()->cart, 'customer' => $customer, 'currency' => new Currency(), 'orderStatus' => $status]];
    }

    public function testValidateOrderCreatesThePickupMailsTheCodeAndShowsIt()
    {
        list($order, $params) = $this->order(77, 'S001');
        $this->module->hookActionValidateOrder($params);
        $row = (new \Omnistock\OrderPickups(TestEnv::client(), $this->module->db()))->find($order->id);
        $this->assertSame('created', $row['status'], $row['last_error']);
        $pickup = TestEnv::client()->pickup($row['pickup_id']);
        $this->assertSame([$order->id, 'ABCDEFGHI', 'paid', '49.00'], [$pickup['ps_order_id'], $pickup['ps_order_reference'], $pickup['payment_status'], $pickup['lines'][0]['unit_price']]);
        $this->assertSame(3, $pickup['customer']['ps_customer_id'], 'the PrestaShop customer, for the Cegid customer link');
        $this->assertSame('omnistock_pickup', StandIn::$mails[0]['template']);
        $this->assertSame($row['pickup_code'], StandIn::$mails[0]['templateVars']['{pickup_code}']);
        $html = $this->module->hookDisplayOrderConfirmation(['order' => $order]);
        $this->assertStringContainsString($row['pickup_code'], $html);
        $this->assertStringContainsString('class="omnistock-qr" src="data:image/svg+xml;base64,', $html, "omnistock's QR of the code");
        $admin = $this->module->hookDisplayAdminOrderSide(['id_order' => $order->id]);
        $this->assertStringContainsString('confirmed', $admin);
        $this->assertStringContainsString('storefront', $admin, 'the history actor');

        // Cancelling the order in PrestaShop cancels the pickup.
        $cancelled = new OrderState();
        $cancelled->id = 6;
        $this->module->hookActionOrderStatusPostUpdate(['newOrderStatus' => $cancelled, 'id_order' => $order->id]);
        $this->assertSame('cancelled', TestEnv::client()->pickup($row['pickup_id'])['state']);
    }

    public function testValidateOrderNeverThrowsAndFlagsTheOrderWhenOmnistockIsDown()
    {
        Configuration::updateValue('OMNISTOCK_URL', 'http://127.0.0.1:9');
        list($order, $params) = $this->order(78, 'S001');
        $this->module->hookActionValidateOrder($params);
        $row = (new \Omnistock\OrderPickups(TestEnv::client(), $this->module->db()))->find($order->id);
        $this->assertSame('retry', $row['status']);
        $this->assertSame([], StandIn::$mails);
        $this->assertStringContainsString('Your collection code will follow', $this->module->hookDisplayOrderConfirmation(['order' => $order]));
        $this->assertStringContainsString('retrying', $this->module->hookDisplayAdminOrderSide(['id_order' => $order->id]));
        $this->assertStringContainsString('Orders waiting for omnistock', $this->module->getContent());

        // Garbage in the hook (a broken order object) is logged, not thrown.
        $this->module->hookActionValidateOrder(['order' => (object) ['id_carrier' => Configuration::get('OMNISTOCK_CARRIER_ID'), 'id_cart' => 1, 'id' => 5]]);
        $this->assertNotEmpty(StandIn::$logs);

        // omnistock is back: the cron job creates the pickup with the same key and mails the code.
        Configuration::updateValue('OMNISTOCK_URL', TestEnv::url());
        TestEnv::pdo()->exec('UPDATE ps_omnistock_order SET next_attempt = UTC_TIMESTAMP() - INTERVAL 1 MINUTE');
        list($status, $body) = $this->run_(new OmnistockCronModuleFrontController(), ['token' => Configuration::get('OMNISTOCK_CRON_TOKEN')]);
        $this->assertSame(200, $status);
        $this->assertGreaterThanOrEqual(1, $body['counts']['created']);
        $this->assertSame('created', (new \Omnistock\OrderPickups(TestEnv::client(), $this->module->db()))->find($order->id)['status']);
        list($status) = $this->run_(new OmnistockCronModuleFrontController(), ['token' => 'nope']);
        $this->assertSame(403, $status);
    }

    public function testOrdersOfOtherCarriersAreLeftAlone()
    {
        list($order, $params) = $this->order(79, 'S001');
        $order->id_carrier = 999;
        $this->module->hookActionValidateOrder($params);
        $this->assertNull((new \Omnistock\OrderPickups(TestEnv::client(), $this->module->db()))->find($order->id));
    }

    public function testReserveControllerCreatesAReservationAndAnswersTheCode()
    {
        $form = ['token' => StandIn::$token, 'id_product' => '2', 'id_product_attribute' => '0', 'quantity' => '1', 'store_id' => 'S002', 'first_name' => 'Léa', 'last_name' => "O'Brien <b>", 'email' => 'lea@example.com', 'consent' => '1', 'request_id' => bin2hex(random_bytes(10))];
        list($status, $body) = $this->run_(new OmnistockReserveModuleFrontController(), $form, 'POST');
        $this->assertSame(422, $status, 'a name with markup is refused');
        $this->assertSame(['last_name'], $body['errors']);
        $form['last_name'] = "O'Brien";
        list($status, $body) = $this->run_(new OmnistockReserveModuleFrontController(), $form, 'POST');
        $this->assertSame(200, $status, json_encode($body));
        $this->assertMatchesRegularExpression('/class="omnistock-code js-omnistock-code">[A-Z0-9]{6,12}</', $body['html']);
        $this->assertSame('S002', Context::getContext()->cookie->omnistock_store);
        $this->assertSame('omnistock_reservation', StandIn::$mails[0]['template']);
        $this->assertSame('lea@example.com', StandIn::$mails[0]['to']);
        $this->assertStringContainsString(StandIn::$mails[0]['templateVars']['{pickup_code}'], $body['html']);
        $this->assertStringContainsString('class="omnistock-qr" src="data:image/svg+xml;base64,', $body['html']);
        preg_match('/base64,([^"]+)"/', $body['html'], $qr);
        $this->assertStringContainsString('<svg', base64_decode(html_entity_decode($qr[1])));
        $guest = TestEnv::pdo()->query("SELECT pickup_id FROM ps_omnistock_reservation WHERE email = 'lea@example.com' ORDER BY id_reservation DESC LIMIT 1")->fetchColumn();
        $this->assertArrayNotHasKey('ps_customer_id', array_filter(TestEnv::client()->pickup($guest)['customer']), 'a guest has no PrestaShop customer id');
        list($status, $again) = $this->run_(new OmnistockReserveModuleFrontController(), $form, 'POST');
        $this->assertSame($body['html'], $again['html'], 'a double submit shows the same reservation');
        $this->assertCount(1, StandIn::$mails, 'and mails once');

        // "My reservations" lists a logged-in customer's reservations, not the guest's.
        $customer = Context::getContext()->customer;
        $customer->id = random_int(1000, 2000000000);
        $customer->logged = true;
        list($status, $mine) = $this->run_(new OmnistockReserveModuleFrontController(), ['request_id' => bin2hex(random_bytes(10))] + $form, 'POST');
        $this->assertSame(200, $status);
        require_once __DIR__ . '/../../controllers/front/reservations.php';
        $page = new OmnistockReservationsModuleFrontController();
        $page->run();
        $this->assertSame('module:omnistock/views/templates/front/reservations.tpl', $page->template);
        $rows = Context::getContext()->smarty->getTemplateVars('omnistock_reservations');
        $this->assertCount(1, $rows);
        $this->assertStringContainsString($rows[0]['pickup_code'], $mine['html']);
        $this->assertSame('Omnistock Lyon', $rows[0]['store_name']);
        $this->assertSame($customer->id, TestEnv::client()->pickup($rows[0]['pickup_id'])['customer']['ps_customer_id']);
        list($status) = $this->run_(new OmnistockReserveModuleFrontController(), ['token' => 'forged'] + $form, 'POST');
        $this->assertSame(403, $status);
        list($status) = $this->run_(new OmnistockReserveModuleFrontController(), $form, 'GET');
        $this->assertSame(405, $status);
    }
}
