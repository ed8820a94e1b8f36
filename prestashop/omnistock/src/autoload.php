<?php
/**
 * omnistock PrestaShop module: autoloader of the Omnistock\ classes under src/ (no Composer needed).
 *
 * @license MIT
 */
spl_autoload_register(function ($class) {
    if (strpos($class, 'Omnistock\\') !== 0) {
        return;
    }
    $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen('Omnistock\\'))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
