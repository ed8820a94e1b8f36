<?php

use Omnistock\ApiClient;
use Omnistock\ApiException;
use Omnistock\HttpTransport;
use PHPUnit\Framework\TestCase;

/**
 * What the client writes and how it reads answers that the real omnistock does not give on
 * demand (a proxy's HTML 502, a 2xx that is not JSON): a recording transport, no network.
 */
final class ApiClientWireTest extends TestCase
{
    private function client(array $answer, &$sent)
    {
        $transport = new class($answer, $sent) implements HttpTransport {
            private $answer;
            private $sent;

            public function __construct(array $answer, &$sent)
            {
                $this->answer = $answer;
                $this->sent = &$sent;
            }

            public function send($method, $url, array $headers, $body, $timeout, $connectTimeout)
            {
                $this->sent = compact('method', 'url', 'headers', 'body', 'timeout', 'connectTimeout');

                return $this->answer;
            }
        };

        return new ApiClient('https://omnistock.example.com/', 'osk_secret', $transport, 2.5, 0.8);
    }

    public function testWritesAuthIdempotencyJsonAndTimeouts()
    {
        $sent = null;
        $this->client([201, [], '{"id":"p1","pickup_code":"ABCD1234"}'], $sent)
            ->createPickup(['kind' => 'order', 'lines' => [['ps_product' => 1, 'quantity' => 2, 'unit_price' => '12.50', 'label' => 'Été']]], 'ps-order-42');
        $this->assertSame('POST', $sent['method']);
        $this->assertSame('https://omnistock.example.com/v1/pickups', $sent['url']);
        $this->assertSame('Bearer osk_secret', $sent['headers']['Authorization']);
        $this->assertSame('ps-order-42', $sent['headers']['Idempotency-Key']);
        $this->assertSame('application/json', $sent['headers']['Content-Type']);
        $this->assertSame('{"kind":"order","lines":[{"ps_product":1,"quantity":2,"unit_price":"12.50","label":"Été"}]}', $sent['body']);
        $this->assertSame([2.5, 0.8], [$sent['timeout'], $sent['connectTimeout']]);
    }

    public function testQueryIsEncoded()
    {
        $sent = null;
        $this->client([200, [], '{"items":[],"next_cursor":null}'], $sent)->storesNear(48.85, 2.35, 30, 5, 'reservation');
        $this->assertSame('https://omnistock.example.com/v1/stores?near=48.850000%2C2.350000&radius_km=30&limit=5&service=reservation', $sent['url']);
    }

    public function testAProxyHtmlErrorIsAnApiExceptionWithItsStatus()
    {
        $sent = null;
        try {
            $this->client([502, ['content-type' => 'text/html'], '<html>Bad gateway</html>'], $sent)->pickup('p1');
            $this->fail('expected a 502');
        } catch (ApiException $e) {
            $this->assertSame(502, $e->getStatus());
            $this->assertSame('omnistock answered 502 HTTP 502', $e->getMessage());
            $this->assertTrue($e->isRetryable());
        }
    }

    public function testA2xxThatIsNotJsonIsUnreadable()
    {
        $sent = null;
        try {
            $this->client([200, [], 'OK'], $sent)->pickup('p1');
            $this->fail('expected an unreadable answer');
        } catch (ApiException $e) {
            $this->assertSame(0, $e->getStatus());
            $this->assertStringContainsString('unreadable answer', $e->getMessage());
        }
    }

    public function testPathSegmentsAreEncoded()
    {
        $sent = null;
        $this->client([200, [], '{}'], $sent)->cancelPickup('../admin/keys', 'x');
        $this->assertSame('https://omnistock.example.com/v1/pickups/..%2Fadmin%2Fkeys/cancel', $sent['url']);
    }

    public function testQrSvgWhenServedNullWhenThisOmnistockHasNone()
    {
        $sent = null;
        $svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><path d="M0 0h7v7H0z"/></svg>';
        $this->assertSame($svg, $this->client([200, ['content-type' => 'image/svg+xml'], $svg], $sent)->pickupQrSvg('p1', 'AB CD/12'));
        $this->assertSame('https://omnistock.example.com/v1/pickups/p1/qr.svg?code=AB%20CD%2F12', $sent['url'], 'the code, encoded');
        $this->assertSame('image/svg+xml', $sent['headers']['Accept']);
        $this->assertNull($this->client([404, [], '{"type":"urn:omnistock:problem:not-found","title":"Not found","status":404}'], $sent)->pickupQrSvg('p1', 'ABCD1234'));
        $this->assertNull($this->client([200, [], 'not an svg'], $sent)->pickupQrSvg('p1', 'ABCD1234'));
        $sent = null;
        $this->assertNull($this->client([200, [], $svg], $sent)->pickupQrSvg('p1', ' '), 'no code');
        $this->assertNull($sent, 'and no call');
        $this->expectException(ApiException::class);
        $this->client([503, [], ''], $sent)->pickupQrSvg('p1', 'ABCD1234');
    }
}
