<?php

use Omnistock\OrderPickupMapper;
use Omnistock\OrderPickups;
use Omnistock\Schema;
use PHPUnit\Framework\TestCase;

/** Order pickups and the retry queue: real omnistock, real MariaDB. */
final class OrderPickupsTest extends TestCase
{
    private $db;

    protected function setUp(): void
    {
        $this->db = TestEnv::db('ord_');
        Schema::install($this->db);
    }

    private static function orderId()
    {
        return random_int(100000, 2000000000);
    }

    private function body($idOrder, $quantity = 1, $store = 'S001')
    {
        return (new OrderPickupMapper())->map(
            ['id_order' => $idOrder, 'reference' => 'XKBKNABJK', 'paid' => true, 'currency' => 'eur'],
            [
                ['product_id' => 1, 'product_attribute_id' => 1, 'product_quantity' => $quantity, 'unit_price_tax_incl' => '29.900000', 'product_name' => 'Sneaker - Red, 38', 'product_reference' => 'PS-1-1'],
                ['product_id' => 2, 'product_attribute_id' => 0, 'product_quantity' => 1, 'unit_price_tax_incl' => 12.5, 'product_name' => 'Socks', 'product_reference' => 'PS-2-0'],
            ],
            ['email' => 'bob@example.com', 'firstname' => 'Bob', 'lastname' => 'Durand', 'phone' => ''],
            $store
        );
    }

    public function testMapperWritesOmnistocksOrderShape()
    {
        $body = $this->body(77);
        $this->assertSame('order', $body['kind']);
        $this->assertSame(77, $body['ps_order_id']);
        $this->assertSame('XKBKNABJK', $body['ps_order_reference']);
        $this->assertSame('paid', $body['payment_status']);
        $this->assertSame('EUR', $body['currency']);
        $this->assertSame(['ps_product' => 1, 'ps_attribute' => 1, 'quantity' => 1, 'unit_price' => '29.90', 'label' => 'Sneaker - Red, 38'], $body['lines'][0]);
        $this->assertSame('12.50', $body['lines'][1]['unit_price']);
        $this->assertSame(['email' => 'bob@example.com', 'first_name' => 'Bob', 'last_name' => 'Durand'], $body['customer']);
        $this->assertSame('ps-order-77', OrderPickupMapper::idempotencyKey(77));
        $ref = (new OrderPickupMapper('reference'))->map(['id_order' => 1, 'reference' => 'bad'], [['product_id' => 1, 'product_attribute_id' => 1, 'product_quantity' => 1, 'product_reference' => 'PS-1-1']], ['email' => 'a@b.c'], 'S001');
        $this->assertSame('PS-1-1', $ref['lines'][0]['reference']);
        $this->assertArrayNotHasKey('ps_order_reference', $ref);
        $this->assertArrayNotHasKey('ps_customer_id', $ref['customer'], 'no id_customer: none');
        $guest = (new OrderPickupMapper())->map(['id_order' => 1], [['product_id' => 1, 'product_quantity' => 1]], ['email' => 'a@b.c', 'id_customer' => 0], 'S001');
        $this->assertArrayNotHasKey('ps_customer_id', $guest['customer'], 'a guest: none');
        $known = (new OrderPickupMapper())->map(['id_order' => 1], [['product_id' => 1, 'product_quantity' => 1]], ['email' => 'a@b.c', 'id_customer' => '17'], 'S001');
        $this->assertSame(17, $known['customer']['ps_customer_id']);
    }

    public function testCreateStoresThePickupAndItsCode()
    {
        $id = self::orderId();
        $row = (new OrderPickups(TestEnv::client(), $this->db))->create($id, 5, 'S001', $this->body($id));
        $this->assertSame('created', $row['status'], $row['last_error']);
        $this->assertMatchesRegularExpression('/^[A-Z0-9]{6,12}$/', $row['pickup_code']);
        $pickup = TestEnv::client()->pickup($row['pickup_id']);
        $this->assertSame($id, $pickup['ps_order_id']);
        $this->assertSame('order', $pickup['kind']);
        $this->assertSame('29.90', $pickup['lines'][0]['unit_price']);
        // PrestaShop calling the hook twice for the same order makes no second pickup.
        $again = (new OrderPickups(TestEnv::client(), $this->db))->create($id, 5, 'S001', $this->body($id));
        $this->assertSame($row['pickup_id'], $again['pickup_id']);
        TestEnv::client()->cancelPickup($row['pickup_id'], 'test');
    }

    public function testOmnistockDownIsRecordedThenTheCronRetryCreatesTheSamePickup()
    {
        $id = self::orderId();
        $down = new OrderPickups(TestEnv::deadClient(), $this->db);
        $t0 = 1800000000;
        $row = $down->create($id, 6, 'S001', $this->body($id), $t0);
        $this->assertSame('retry', $row['status']);
        $this->assertSame('1', (string) $row['attempts']);
        $this->assertStringContainsString('unreachable', $row['last_error']);
        $this->assertSame([(string) $id], array_map('strval', array_column($down->flagged(), 'id_order')));

        $up = new OrderPickups(TestEnv::client(), $this->db);
        $this->assertSame(0, array_sum($up->retryDue(50, $t0 + 30)), 'not due before its backoff');
        $counts = $up->retryDue(50, $t0 + 61);
        $this->assertSame(1, $counts['created']);
        $row = $up->find($id);
        $this->assertSame('created', $row['status']);
        $this->assertNotEmpty($row['pickup_code']);
        $this->assertSame([], $up->flagged());
        TestEnv::client()->cancelPickup($row['pickup_id'], 'test');
    }

    public function testInsufficientStockIs409AndRetried()
    {
        $id = self::orderId();
        $row = (new OrderPickups(TestEnv::client(), $this->db))->create($id, 7, 'S002', $this->body($id, 50, 'S002'));
        $this->assertSame('retry', $row['status']);
        $this->assertStringContainsString('409', $row['last_error']);
    }

    public function testAnUnknownItemFailsForGoodAndIsFlagged()
    {
        $id = self::orderId();
        $body = $this->body($id);
        $body['lines'][0]['ps_product'] = 999;
        $row = (new OrderPickups(TestEnv::client(), $this->db))->create($id, 8, 'S001', $body);
        $this->assertSame('failed', $row['status']);
        $this->assertStringContainsString('404', $row['last_error']);
        $this->assertContains((string) $id, array_map('strval', array_column((new OrderPickups(TestEnv::client(), $this->db))->flagged(), 'id_order')));
    }

    public function testCancellingTheOrderCancelsThePickupEvenAfterAnOutage()
    {
        $id = self::orderId();
        $pickups = new OrderPickups(TestEnv::client(), $this->db);
        $row = $pickups->create($id, 9, 'S001', $this->body($id));
        $t0 = time();
        $down = (new OrderPickups(TestEnv::deadClient(), $this->db))->cancel($id, 'customer changed mind', $t0);
        $this->assertSame('cancel_retry', $down['status']);
        $this->assertSame('confirmed', TestEnv::client()->pickup($row['pickup_id'])['state']);
        $pickups->retryDue(50, $t0 + 3600);
        $this->assertSame('cancelled', $pickups->find($id)['status']);
        $this->assertSame('cancelled', TestEnv::client()->pickup($row['pickup_id'])['state']);
        // Cancelling again is a no-op.
        $this->assertSame('cancelled', $pickups->cancel($id)['status']);
    }

    public function testBackoffGrowsToAnHour()
    {
        $this->assertSame([60, 120, 240, 3600], [OrderPickups::backoff(1), OrderPickups::backoff(2), OrderPickups::backoff(3), OrderPickups::backoff(12)]);
    }
}
