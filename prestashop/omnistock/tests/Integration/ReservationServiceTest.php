<?php

use Omnistock\RateLimiter;
use Omnistock\ReservationService;
use Omnistock\Schema;
use PHPUnit\Framework\TestCase;

/** E-reservation: real omnistock pickups, real MariaDB rows. */
final class ReservationServiceTest extends TestCase
{
    private $db;

    protected function setUp(): void
    {
        $this->db = TestEnv::db('resv_');
        Schema::install($this->db);
    }

    private function form(array $over = [])
    {
        return $over + [
            'id_product' => '2',
            'id_product_attribute' => '0',
            'quantity' => '1',
            'store_id' => 'S003',
            'first_name' => 'Ana',
            'last_name' => 'Martin',
            'email' => 'ana@example.com',
            'phone' => '+33 6 12 34 56 78',
            'consent' => '1',
            'request_id' => bin2hex(random_bytes(12)),
        ];
    }

    private function service($client = null, $limit = 5)
    {
        return new ReservationService($client ?: TestEnv::client(), $this->db, new RateLimiter($this->db, $limit, 600));
    }

    public function testValidationNamesEveryBadField()
    {
        list($errors) = ReservationService::validate([
            'id_product' => '-1', 'quantity' => '11', 'store_id' => 'S0 01', 'first_name' => '<b>',
            'email' => 'not-an-email', 'phone' => 'call me', 'request_id' => 'short',
        ]);
        $this->assertSame(
            ['consent', 'email', 'first_name', 'id_product', 'last_name', 'phone', 'quantity', 'request_id', 'store_id'],
            self::sortedKeys($errors)
        );
        list($none, $clean) = ReservationService::validate($this->form());
        $this->assertSame([], $none);
        $this->assertSame(2, $clean['id_product']);
    }

    private static function sortedKeys(array $a)
    {
        $k = array_keys($a);
        sort($k);

        return $k;
    }

    public function testALoggedInCustomerIsLinkedToTheirCegidCustomer()
    {
        $idCustomer = random_int(100000, 2000000000);
        $email = 'ps-link-' . bin2hex(random_bytes(5)) . '@example.com';
        $done = $this->service()->reserve($this->form(['email' => $email]), 'visitor-link', $idCustomer);
        $this->assertTrue($done['ok'], json_encode($done));
        $pickup = TestEnv::client()->pickup($done['reservation']['pickup_id']);
        $this->assertSame($idCustomer, $pickup['customer']['ps_customer_id']);

        // omnistock's outbox resolves the Cegid customer when it posts the reservation, and
        // remembers the PrestaShop id: the customer is then found by it.
        $customer = null;
        $deadline = microtime(true) + 30;
        while ($customer === null && microtime(true) < $deadline) {
            try {
                $customer = TestEnv::client()->request('GET', '/v1/customers/ps:' . $idCustomer);
            } catch (\Omnistock\ApiException $e) {
                $this->assertSame(404, $e->getStatus(), $e->getMessage());
                usleep(300000);
            }
        }
        $this->assertNotNull($customer, 'the shopper was never linked to a Cegid customer');
        $this->assertSame('ps_customer_id', $customer['resolved_by']);
        $links = array_column($customer['links'], 'ps_customer_id', 'email');
        $this->assertSame($idCustomer, $links[$email]);

        // A guest (no customer id) sends none.
        $guest = $this->service()->reserve($this->form(['email' => 'guest-' . $email]), 'visitor-guest', 0);
        $this->assertTrue($guest['ok'], json_encode($guest));
        $this->assertNull(TestEnv::client()->pickup($guest['reservation']['pickup_id'])['customer']['ps_customer_id'] ?? null);
        foreach ([$done, $guest] as $r) {
            TestEnv::client()->cancelPickup($r['reservation']['pickup_id'], 'test');
        }
    }

    public function testReserveCreatesAReservationPickupAndReplaysADoubleSubmit()
    {
        $form = $this->form();
        $first = $this->service()->reserve($form, 'visitor-a', 42);
        $this->assertTrue($first['ok'], json_encode($first));
        $this->assertFalse($first['replayed']);
        $r = $first['reservation'];
        $this->assertMatchesRegularExpression('/^[A-Z0-9]{6,12}$/', $r['pickup_code']);
        $this->assertSame('S003', $r['store_id']);
        $pickup = TestEnv::client()->pickup($r['pickup_id']);
        $this->assertSame('reservation', $pickup['kind']);
        $this->assertSame('ana@example.com', $pickup['customer']['email']);
        $this->assertSame(TestEnv::item(2, 0)['sku'], $pickup['lines'][0]['sku']);

        $again = $this->service()->reserve($form, 'visitor-a', 42);
        $this->assertTrue($again['replayed']);
        $this->assertSame($r['pickup_id'], $again['reservation']['pickup_id']);
        $this->assertCount(1, $this->service()->forCustomer(42));
        TestEnv::client()->cancelPickup($r['pickup_id'], 'test');
    }

    public function testOmnistockSideIdempotencyWhenTheRowWasLost()
    {
        // The same request id reaching omnistock twice (our row lost in between) is one pickup.
        $form = $this->form();
        $first = $this->service()->reserve($form, 'v', 0);
        $this->db->execute('DELETE FROM `resv_omnistock_reservation`');
        $second = $this->service()->reserve($form, 'v', 0);
        $this->assertSame($first['reservation']['pickup_id'], $second['reservation']['pickup_id']);
        TestEnv::client()->cancelPickup($first['reservation']['pickup_id'], 'test');
    }

    public function testNotEnoughStockIsSaidPlainly()
    {
        $out = $this->service()->reserve($this->form(['store_id' => 'S005']), 'v2', 0);
        $this->assertFalse($out['ok']);
        $this->assertSame('no_stock', $out['error']);
    }

    public function testAStoreTakingNoReservationIsSaidPlainly()
    {
        // The e-commerce store is in the directory but offers no service (a forged or stale form).
        $web = array_values(array_filter(TestEnv::client()->allStores(), function ($s) {
            return $s['services'] === [];
        }))[0]['store_id'];
        $form = $this->form(['store_id' => $web]);
        $out = $this->service()->reserve($form, 'visitor-web');
        $this->assertFalse($out['ok']);
        $this->assertSame('store_refused', $out['error']);
        $this->assertStringContainsString('does not offer reservation', $out['detail']);
        $this->assertNull($this->service()->find('ps-resv-' . $form['request_id']), 'nothing recorded');
    }

    public function testOmnistockDownIsUnavailableNotAnException()
    {
        $out = $this->service(TestEnv::deadClient())->reserve($this->form(), 'v3', 0);
        $this->assertSame(['ok' => false, 'error' => 'unavailable'], array_intersect_key($out, ['ok' => 0, 'error' => 0]));
    }

    public function testRateLimitPerVisitor()
    {
        $service = $this->service(TestEnv::deadClient(), 3);
        $errors = [];
        for ($i = 0; $i < 5; ++$i) {
            $errors[] = $service->reserve($this->form(), 'busy-visitor', 0)['error'];
        }
        $this->assertSame(['unavailable', 'unavailable', 'unavailable', 'rate_limited', 'rate_limited'], $errors);
        $this->assertSame('unavailable', $service->reserve($this->form(), 'other-visitor', 0)['error']);
    }

    public function testRateLimitWindowResets()
    {
        $limiter = new RateLimiter($this->db, 2, 60);
        $this->assertTrue($limiter->hit('w', 1200));
        $this->assertTrue($limiter->hit('w', 1201));
        $this->assertFalse($limiter->hit('w', 1202));
        $this->assertTrue($limiter->hit('w', 1260), 'a new window');
        $limiter->purge(2000);
        $this->assertSame([], $this->db->rows('SELECT * FROM `resv_omnistock_rate` WHERE `window_start` < 1900'));
    }
}
