<?php
/**
 * Browser-test harness (`php -S 127.0.0.1:PORT tests/harness/router.php`): fixture pages of a
 * "shop" built from the module's REAL templates, JS and CSS, the module's REAL front controllers
 * and hooks running on the stand-in core classes (tests/standins, see its README), the REAL
 * omnistock of the test run and a REAL MariaDB database.
 *
 * Environment: OMNISTOCK_TEST_INFO (omnistock_server.py's JSON), HARNESS_DB (MariaDB database),
 * HARNESS_STATE (a writable folder: the "omnistock is down" switch).
 *
 * Pages:  /product?id_product=&id_product_attribute=   /checkout?cart=P:A:Q,...
 * Core emulation: /product/refresh (what ProductController's refresh answers), /checkout/continue
 * (the delivery step's "Continue": runs actionValidateStepComplete), /__down?on=1|0.
 */
require __DIR__ . '/../../src/autoload.php';
require __DIR__ . '/../standins/prestashop.php';
require __DIR__ . '/../../omnistock.php';

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$moduleDir = dirname(__DIR__, 2);

// Static files of the module, as a shop serves /modules/omnistock/views/...
if (preg_match('#^/modules/omnistock/(views/(js|css)/[a-z_-]+\.(js|css))$#', $path, $m)) {
    header('Content-Type: ' . ($m[3] === 'js' ? 'application/javascript' : 'text/css'));
    readfile($moduleDir . '/' . $m[1]);

    return true;
}
if (preg_match('#^/harness/([a-z-]+\.(js|css))$#', $path, $m) && is_file(__DIR__ . '/' . $m[1])) {
    header('Content-Type: ' . ($m[2] === 'js' ? 'application/javascript' : 'text/css'));
    readfile(__DIR__ . '/' . $m[1]);

    return true;
}

$info = json_decode(getenv('OMNISTOCK_TEST_INFO'), true);
$state = getenv('HARNESS_STATE');
$pdo = new PDO('mysql:host=127.0.0.1;port=3306;dbname=' . getenv('HARNESS_DB'), 'root', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);

if ($path === '/__down') {
    $on = isset($_GET['on']) && $_GET['on'] === '1';
    $on ? touch($state . '/down') : @unlink($state . '/down');
    header('Content-Type: text/plain');
    echo $on ? 'omnistock down' : 'omnistock up';

    return true;
}

session_start();
StandIn::reset($pdo);
StandIn::$request = $_GET + $_POST;
$module = new Omnistock();
$module->install();
$down = is_file($state . '/down');
Configuration::updateValue('OMNISTOCK_URL', $down ? 'http://127.0.0.1:9' : $info['url']);
Configuration::updateValue('OMNISTOCK_API_KEY', $info['keys']['storefront']);
Configuration::updateValue('OMNISTOCK_RADIUS_KM', '1000');
Configuration::updateValue('OMNISTOCK_MAX_STORES', '4');

/** The stand-in cookie backed by a real browser cookie. */
class HarnessCookie extends Cookie
{
    public function write()
    {
        parent::write();
        if (isset($this->omnistock_store)) {
            setcookie('omnistock_store', $this->omnistock_store, 0, '/');
        }
    }
}
$context = Context::getContext();
$context->cookie = new HarnessCookie();
if (isset($_COOKIE['omnistock_store'])) {
    $context->cookie->omnistock_store = $_COOKIE['omnistock_store'];
}
$context->cart->id = isset($_SESSION['id_cart']) ? $_SESSION['id_cart'] : ($_SESSION['id_cart'] = random_int(1000, 2000000000));
$context->cart->products = isset($_SESSION['products']) ? $_SESSION['products'] : [];

function page($title, $body, array $scripts)
{
    header('Content-Type: text/html; charset=utf-8');
    $tags = '';
    foreach (array_merge(['/harness/prestashop-bus.js'], $scripts) as $src) {
        $tags .= '<script src="' . htmlspecialchars($src) . '" defer></script>';
    }
    echo '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>' . htmlspecialchars($title) . '</title>'
        . '<meta name="viewport" content="width=device-width, initial-scale=1">'
        . '<link rel="stylesheet" href="/harness/theme.css"><link rel="stylesheet" href="/modules/omnistock/views/css/omnistock.css">'
        . $tags . '</head><body><header class="shop-header">Demo shop <small>(fixture page: module templates on stand-in PrestaShop)</small></header><main>'
        . $body . '</main></body></html>';
}

switch ($path) {
    case '/product':
    case '/product/refresh':
        $idProduct = (int) $_GET['id_product'];
        $idAttribute = (int) (isset($_GET['id_product_attribute']) ? $_GET['id_product_attribute'] : 0);
        $hook = $module->hookDisplayProductAdditionalInfo(['product' => ['id_product' => $idProduct, 'id_product_attribute' => $idAttribute]]);
        if ($path === '/product/refresh') {
            header('Content-Type: application/json');
            echo json_encode(['product_additional_info' => $hook, 'id_product_attribute' => $idAttribute]);
            break;
        }
        $options = '';
        $combinations = $idProduct === 1 ? [1 => 'Red, size 38', 2 => 'Red, size 39'] : [0 => 'One size'];
        foreach ($combinations as $id => $label) {
            $options .= '<option value="' . $id . '"' . ($id === $idAttribute ? ' selected' : '') . '>' . htmlspecialchars($label) . '</option>';
        }
        page('Product', '<div class="product" data-id-product="' . $idProduct . '">'
            . '<div class="product-cover" aria-hidden="true"></div><div class="product-info">'
            . '<h1>' . ($idProduct === 1 ? 'Canvas sneaker' : 'Cotton socks') . '</h1><p class="price">49,00 €</p>'
            . '<label>Combination <select class="js-combination" name="group[1]">' . $options . '</select></label>'
            . '<button class="btn btn-primary add-to-cart" type="button">Add to cart</button>'
            . '<div class="product-additional-info js-product-additional-info">' . $hook . '</div></div></div>',
            ['/harness/core-product.js', '/modules/omnistock/views/js/product.js']);
        break;

    case '/checkout':
        if (isset($_GET['cart']) && (!isset($_SESSION['cart_param']) || $_SESSION['cart_param'] !== $_GET['cart'])) {
            // A new cart (a reload of the same URL keeps the cart and its chosen store).
            $_SESSION['cart_param'] = $_GET['cart'];
            $_SESSION['products'] = [];
            foreach (explode(',', $_GET['cart']) as $line) {
                list($p, $a, $q) = array_map('intval', explode(':', $line));
                $_SESSION['products'][] = ['id_product' => $p, 'id_product_attribute' => $a, 'cart_quantity' => $q, 'reference' => ''];
            }
            $_SESSION['id_cart'] = random_int(1000, 2000000000);
            $context->cart->id = $_SESSION['id_cart'];
            $context->cart->products = $_SESSION['products'];
        }
        $ours = (int) Configuration::get('OMNISTOCK_CARRIER_ID');
        $extra = $module->hookDisplayCarrierExtraContent(['carrier' => ['id' => $ours]]);
        $lines = '';
        foreach ($context->cart->products as $p) {
            $lines .= '<li>' . (int) $p['cart_quantity'] . ' × product ' . (int) $p['id_product'] . ' / combination ' . (int) $p['id_product_attribute'] . '</li>';
        }
        page('Checkout', '<section id="checkout-delivery-step" class="checkout-step"><h2>3 · Shipping method</h2>'
            . '<ul class="cart-summary">' . $lines . '</ul>'
            . '<div class="js-checkout-errors alert" role="alert" hidden></div>'
            . '<form id="js-delivery" method="post" action="/checkout/continue"><div class="delivery-options">'
            . '<div class="delivery-option"><label><input type="radio" name="delivery_option[1]" value="999,"> <strong>Home delivery</strong> <span>2-3 days · 4,90 €</span></label></div>'
            . '<div class="carrier-extra-content" data-carrier="999" hidden></div>'
            . '<div class="delivery-option"><label><input type="radio" name="delivery_option[1]" value="' . $ours . ',"> <strong>Click and collect</strong> <span>Collect in store, free</span></label></div>'
            . '<div class="carrier-extra-content" data-carrier="' . $ours . '" hidden>' . $extra . '</div>'
            . '</div><button type="submit" class="btn btn-primary" name="confirmDeliveryOption">Continue</button></form>'
            . '<div class="js-next-step" hidden><h2>4 · Payment</h2></div></section>',
            ['/harness/core-checkout.js', '/modules/omnistock/views/js/checkout.js']);
        break;

    case '/checkout/continue':
        $option = isset($_POST['delivery_option']) ? $_POST['delivery_option'] : [];
        $context->cart->deliveryOption = $option;
        $completed = true;
        $params = ['step_name' => 'delivery', 'request_params' => $_POST, 'completed' => &$completed];
        $context->controller->errors = [];
        if (!$option) {
            $completed = false;
            $context->controller->errors[] = 'Please choose a shipping method.';
        } else {
            Hook::exec('actionValidateStepComplete', $params);
        }
        header('Content-Type: application/json');
        echo json_encode(['completed' => $completed, 'errors' => $context->controller->errors]);
        break;

    default:
        if (preg_match('#^/module/omnistock/(availability|checkout|reserve)$#', $path, $m)) {
            require_once $moduleDir . '/controllers/front/' . $m[1] . '.php';
            $class = 'Omnistock' . ucfirst($m[1]) . 'ModuleFrontController';
            (new $class())->run();
            break;
        }
        http_response_code(404);
        echo 'not found';
}

return true;
