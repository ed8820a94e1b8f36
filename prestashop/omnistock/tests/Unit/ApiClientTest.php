<?php

use Omnistock\ApiClient;
use Omnistock\ApiException;
use PHPUnit\Framework\TestCase;

/** The API client against the real omnistock started by the bootstrap. */
final class ApiClientTest extends TestCase
{
    public function testAvailabilityByPrestaShopKeyReadsTheScenarioStock()
    {
        $item = TestEnv::item(1, 1);
        $answer = TestEnv::client()->availability(
            [['ps_product' => 1, 'ps_attribute' => 1, 'quantity' => 1]],
            null,
            ['S001', 'S002', 'S003']
        );
        $this->assertSame($item['sku'], $answer['lines'][0]['item']['sku']);
        $byStore = [];
        foreach ($answer['lines'][0]['stores'] as $cell) {
            $byStore[$cell['store_id']] = $cell['available'];
        }
        $this->assertSame(['S001' => 8, 'S002' => 2, 'S003' => 0], $byStore);
    }

    public function testWholeBasketListsOnlyStoresServingEveryLine()
    {
        $answer = TestEnv::client()->availability(
            [['ps_product' => 1, 'ps_attribute' => 1, 'quantity' => 2], ['ps_product' => 2, 'ps_attribute' => 0, 'quantity' => 1]],
            ['lat' => 48.8566, 'lng' => 2.3522, 'radius_km' => 1000, 'limit' => 12],
            [],
            true
        );
        $ids = array_map(function ($s) {
            return $s['store_id'];
        }, $answer['whole_basket']);
        sort($ids);
        // 1:1 x2 in S001 (8), S002 (2), S004 (6); 2:0 in S001..S004.
        $this->assertSame(['S001', 'S002', 'S004'], $ids);
    }

    public function testValidationErrorIsAProblemWithFieldErrors()
    {
        try {
            TestEnv::client()->request('POST', '/v1/availability', [], ['lines' => []]);
            $this->fail('expected a 422');
        } catch (ApiException $e) {
            $this->assertSame(422, $e->getStatus());
            $this->assertStringContainsString('validation', $e->getProblemType());
            $this->assertNotEmpty($e->getFieldErrors());
            $this->assertFalse($e->isRetryable());
        }
    }

    public function testUnknownPrestaShopKeyIs404()
    {
        try {
            TestEnv::client()->availability([['ps_product' => 999, 'ps_attribute' => 9]], null, ['S001']);
            $this->fail('expected a 404');
        } catch (ApiException $e) {
            $this->assertSame(404, $e->getStatus());
            $this->assertStringContainsString('999:9', $e->getDetail());
        }
    }

    public function testWrongKeyIs401AndTheKeyIsNotInTheMessage()
    {
        $client = new ApiClient(TestEnv::url(), 'osk_not-a-real-key-1234567890', null, 5.0);
        try {
            $client->availability([['ps_product' => 1, 'ps_attribute' => 1]], null, ['S001']);
            $this->fail('expected a 401');
        } catch (ApiException $e) {
            $this->assertSame(401, $e->getStatus());
            $this->assertStringNotContainsString('osk_not-a-real-key', $e->getMessage());
        }
    }

    public function testUnreachableOmnistockIsStatusZeroAndRetryable()
    {
        $started = microtime(true);
        try {
            TestEnv::deadClient()->availability([['ps_product' => 1]], null, ['S001']);
            $this->fail('expected a transport failure');
        } catch (ApiException $e) {
            $this->assertSame(0, $e->getStatus());
            $this->assertTrue($e->isUnreachable());
            $this->assertTrue($e->isRetryable());
        }
        $this->assertLessThan(2.0, microtime(true) - $started);
    }

    public function testASilentServerIsCutAtTheTimeout()
    {
        // Accepts connections (kernel backlog) and never answers.
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $client = new ApiClient('http://' . stream_socket_get_name($server, false), 'k', null, 0.5, 0.5);
        $started = microtime(true);
        try {
            $client->availability([['ps_product' => 1]], null, ['S001']);
            $this->fail('expected a timeout');
        } catch (ApiException $e) {
            $this->assertSame(0, $e->getStatus());
            $this->assertStringContainsString('timeout', $e->getMessage());
        } finally {
            fclose($server);
        }
        $elapsed = microtime(true) - $started;
        $this->assertGreaterThan(0.4, $elapsed);
        $this->assertLessThan(1.5, $elapsed);
    }

    public function testConnectionTestSaysWhatItSaw()
    {
        $ok = TestEnv::client()->testConnection();
        $this->assertTrue($ok['ok']);
        // 12 shops and the e-commerce store (no service); S003 offers reservation only.
        $shops = count(TestEnv::info()['stores']);
        $this->assertSame([$shops + 1, $shops - 1, $shops], [$ok['stores'], $ok['click_and_collect'], $ok['reservation']]);
        $this->assertSame(
            sprintf('connected, %d store(s) visible to this key: %d offer click and collect, %d offer reservation', $shops + 1, $shops - 1, $shops),
            $ok['message']
        );
        $bad = (new ApiClient(TestEnv::url(), 'osk_wrong'))->testConnection();
        $this->assertFalse($bad['ok']);
        $this->assertStringContainsString('401', $bad['message']);
        $this->assertFalse(TestEnv::deadClient()->testConnection()['ok']);
    }

    public function testRejectsANonHttpUrl()
    {
        $this->expectException(\InvalidArgumentException::class);
        new ApiClient('file:///etc/passwd', 'k');
    }

    public function testQrIsSvgOrNullWhenThisOmnistockHasNoQrEndpoint()
    {
        $pickup = TestEnv::client()->createPickup([
            'kind' => 'reservation',
            'store_id' => 'S002',
            'customer' => ['email' => 'qr@example.com'],
            'lines' => [['ps_product' => 2, 'ps_attribute' => 0, 'quantity' => 1]],
        ], 'phpunit-qr-' . bin2hex(random_bytes(4)));
        // This omnistock has the endpoint: it draws the QR of the code its creation answer gave.
        $svg = TestEnv::client()->pickupQrSvg($pickup['id'], $pickup['pickup_code']);
        $this->assertStringContainsString('<svg', $svg);
        $this->assertNull(TestEnv::client()->pickupQrSvg($pickup['id'], ''), 'no code: no QR, no call');
        try {
            TestEnv::client()->pickupQrSvg($pickup['id'], 'WRONG1234');
            $this->fail('a wrong code must not draw a QR');
        } catch (ApiException $e) {
            $this->assertSame(422, $e->getStatus());
            $this->assertStringNotContainsString('WRONG1234', $e->getMessage(), 'the code is not in the message');
        }
        // The wrong code counted no attempt: the right one still works, then the pickup goes.
        $this->assertStringContainsString('<svg', TestEnv::client()->pickupQrSvg($pickup['id'], $pickup['pickup_code']));
        TestEnv::client()->cancelPickup($pickup['id'], 'test');
        // An unknown pickup (or an omnistock without the endpoint): 404, null.
        $this->assertNull(TestEnv::client()->pickupQrSvg('00000000-0000-4000-8000-000000000000', $pickup['pickup_code']));
    }
}
