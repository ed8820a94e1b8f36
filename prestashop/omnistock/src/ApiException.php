<?php
/**
 * omnistock PrestaShop module.
 *
 * @license MIT
 */

namespace Omnistock;

/**
 * A failed omnistock call: a transport failure (status 0) or an RFC 9457 problem+json answer.
 */
class ApiException extends \RuntimeException
{
    /** @var int HTTP status, 0 when omnistock could not be reached or answered garbage */
    private $status;
    /** @var string problem type URI ("" when none) */
    private $problemType;
    /** @var string */
    private $detail;
    /** @var array the whole problem document (extra members such as "shortfalls" or "errors") */
    private $problem;

    public function __construct($status, $problemType, $title, $detail, array $problem = [], ?\Throwable $previous = null)
    {
        $message = $status > 0 ? sprintf('omnistock answered %d %s', $status, $title) : 'omnistock unreachable: ' . $title;
        if ($detail !== '') {
            $message .= ': ' . $detail;
        }
        parent::__construct($message, (int) $status, $previous);
        $this->status = (int) $status;
        $this->problemType = (string) $problemType;
        $this->detail = (string) $detail;
        $this->problem = $problem;
    }

    public function getStatus()
    {
        return $this->status;
    }

    public function getProblemType()
    {
        return $this->problemType;
    }

    public function getDetail()
    {
        return $this->detail;
    }

    public function getProblem()
    {
        return $this->problem;
    }

    /** Field errors of a 422 (loc, msg, type), if any. */
    public function getFieldErrors()
    {
        return isset($this->problem['errors']) && is_array($this->problem['errors']) ? $this->problem['errors'] : [];
    }

    /** Transport failure: timeout, refused connection, TLS error, unreadable answer. */
    public function isUnreachable()
    {
        return $this->status === 0;
    }

    /**
     * Worth trying again later with the same Idempotency-Key: omnistock or Cegid down (0, 502,
     * 503, 504), throttled (429), or a conflict that time may resolve (409: stock moved, a
     * concurrent request with the same key).
     */
    public function isRetryable()
    {
        return in_array($this->status, [0, 409, 429, 500, 502, 503, 504], true);
    }
}
