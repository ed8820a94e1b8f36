<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/** JSON answers of the module's front controllers (status kept for tests and logs). */
trait JsonReply
{
    /** @var int the HTTP status of the last reply */
    public $replyStatus = 200;

    protected function reply($status, array $body)
    {
        $this->replyStatus = (int) $status;
        if (!headers_sent()) {
            http_response_code((int) $status);
            header('Content-Type: application/json; charset=utf-8');
            header('Cache-Control: no-store');
            header('X-Content-Type-Options: nosniff');
        }
        $this->ajaxRender(json_encode($body, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_HEX_TAG));

        return null;
    }
}
