<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/**
 * Sends one HTTP request. Returns [status, headers (lower-case name => value), body]; throws
 * ApiException(0, ...) on a transport failure (timeout, refused, DNS, TLS).
 */
interface HttpTransport
{
    /**
     * @param string $method
     * @param string $url
     * @param array $headers name => value
     * @param string|null $body
     * @param float $timeout seconds for the whole exchange
     * @param float $connectTimeout seconds to connect
     *
     * @return array{0:int,1:array,2:string}
     */
    public function send($method, $url, array $headers, $body, $timeout, $connectTimeout);
}
