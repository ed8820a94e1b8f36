<?php
/**
 * STAND-INS for the PrestaShop core classes the module touches (see README.md here).
 * Not PrestaShop: just enough behaviour, written from PrestaShop's public sources and docs, to
 * run the module's glue against a real omnistock and a real MariaDB.
 */
if (!defined('_PS_VERSION_')) {
    define('_PS_VERSION_', '8.1.7');
}
define('_DB_PREFIX_', 'ps_');
define('_MYSQL_ENGINE_', 'InnoDB');
define('_PS_MODULE_DIR_', dirname(__DIR__, 3) . '/');

require_once '/usr/share/php/smarty4/bootstrap.php';

/** The stand-ins' shared state (one "shop"). */
final class StandIn
{
    /** @var \PDO */
    public static $pdo;
    public static $request = [];
    public static $logs = [];
    public static $mails = [];
    public static $token = 'standin-static-token';

    public static function reset(\PDO $pdo)
    {
        self::$pdo = $pdo;
        self::$request = [];
        self::$logs = [];
        self::$mails = [];
        Configuration::$values = ['PS_LANG_DEFAULT' => '1', 'PS_OS_CANCELED' => '6', 'PS_TIMEZONE' => 'Europe/Paris'];
        Carrier::$rows = [];
        OrderState::$rows = [];
        Module::$hooks = [];
        Module::$instances = [];
        Context::$instance = null;
        Address::$rows = [];
    }
}

class Db
{
    private static $instance;

    public static function getInstance()
    {
        return self::$instance ?: (self::$instance = new self());
    }

    private $affected = 0;

    public function execute($sql, $useCache = true)
    {
        $this->affected = StandIn::$pdo->exec($sql);

        return $this->affected !== false;
    }

    public function executeS($sql, $array = true, $useCache = true)
    {
        return StandIn::$pdo->query($sql)->fetchAll(\PDO::FETCH_ASSOC);
    }

    public function escape($string, $htmlOk = false, $bqSql = false)
    {
        return substr(StandIn::$pdo->quote((string) $string), 1, -1);
    }

    public function Affected_Rows()
    {
        return (int) $this->affected;
    }
}

class Configuration
{
    public static $values = [];

    public static function get($key, $idLang = null, $idShopGroup = null, $idShop = null, $default = false)
    {
        return array_key_exists($key, self::$values) ? self::$values[$key] : $default;
    }

    public static function updateValue($key, $value, $html = false, $idShopGroup = null, $idShop = null)
    {
        self::$values[$key] = (string) $value;

        return true;
    }
}

class Validate
{
    public static function isLoadedObject($object)
    {
        return is_object($object) && !empty($object->id);
    }
}

class Tools
{
    public static function getValue($key, $default = false)
    {
        return array_key_exists($key, StandIn::$request) ? StandIn::$request[$key] : $default;
    }

    public static function isSubmit($key)
    {
        return array_key_exists($key, StandIn::$request);
    }

    /** PrestaShop: a hash of the cookie key and the visitor; here a fixed value per "session". */
    public static function getToken($page = true)
    {
        return StandIn::$token;
    }

    public static function getRemoteAddr()
    {
        return isset($_SERVER['REMOTE_ADDR']) ? $_SERVER['REMOTE_ADDR'] : '127.0.0.1';
    }

    public static function getAdminTokenLite($tab)
    {
        return 'admintoken';
    }
}

class Language
{
    public static function getLanguages($active = true)
    {
        return [['id_lang' => 1, 'iso_code' => 'en'], ['id_lang' => 2, 'iso_code' => 'fr']];
    }
}

class Group
{
    public static function getGroups($idLang)
    {
        return [['id_group' => 1], ['id_group' => 2], ['id_group' => 3]];
    }
}

class Zone
{
    public static function getZones($active = false)
    {
        return [['id_zone' => 1], ['id_zone' => 9]];
    }
}

class RangePrice
{
    public static $added = [];
    public $id_carrier;
    public $delimiter1;
    public $delimiter2;

    public function add()
    {
        self::$added[] = [$this->id_carrier, $this->delimiter1, $this->delimiter2];

        return true;
    }
}

/** In-memory carriers. An edit in the back office copies the carrier (new id, same id_reference). */
class Carrier
{
    public static $rows = [];
    public $id;
    public $id_reference;
    public $name;
    public $is_module = false;
    public $shipping_external = false;
    public $external_module_name = '';
    public $need_range = false;
    public $shipping_handling = true;
    public $is_free = false;
    public $range_behavior = 0;
    public $active = false;
    public $deleted = false;
    public $url = '';
    public $delay = [];
    public $groups = [];
    public $zones = [];

    public function __construct($id = null)
    {
        if ($id && isset(self::$rows[(int) $id])) {
            foreach (get_object_vars(self::$rows[(int) $id]) as $k => $v) {
                $this->$k = $v;
            }
        }
    }

    public function add()
    {
        $this->id = count(self::$rows) + 1;
        $this->id_reference = $this->id_reference ?: $this->id;
        self::$rows[$this->id] = clone $this;

        return true;
    }

    public function update()
    {
        self::$rows[$this->id] = clone $this;

        return true;
    }

    public function setGroups($groups)
    {
        $this->groups = $groups;
        $this->update();
    }

    public function addZone($idZone)
    {
        $this->zones[] = $idZone;
        $this->update();
    }

    public static function getCarrierByReference($reference)
    {
        foreach (array_reverse(self::$rows, true) as $row) {
            if ((int) $row->id_reference === (int) $reference && !$row->deleted) {
                return new self($row->id);
            }
        }

        return false;
    }

    /** What AdminCarriersController does on an edit: the old one deleted, a copy with a new id. */
    public static function editInBackOffice($id)
    {
        $old = new self($id);
        $old->deleted = true;
        $old->update();
        $new = new self($id);
        $new->deleted = false;
        $new->add();
        Hook::exec('actionCarrierUpdate', ['id_carrier' => (int) $id, 'carrier' => $new]);

        return $new;
    }
}

class OrderState
{
    public static $rows = [];
    public $id;
    public $name = [];
    public $module_name;
    public $color;
    public $send_email;
    public $hidden;
    public $logable;
    public $invoice;
    public $paid = false;
    public $shipped = false;
    public $delivery = false;
    public $unremovable;

    public function __construct($id = null)
    {
        if ($id && isset(self::$rows[(int) $id])) {
            foreach (get_object_vars(self::$rows[(int) $id]) as $k => $v) {
                $this->$k = $v;
            }
        }
    }

    public function add()
    {
        $this->id = 14 + count(self::$rows); // PrestaShop ships states 1..13
        self::$rows[$this->id] = clone $this;

        return true;
    }

    public static function getOrderStates($idLang)
    {
        $out = [];
        foreach (self::$rows as $row) {
            $out[] = ['id_order_state' => $row->id, 'name' => $row->name[$idLang]];
        }

        return $out;
    }
}

class Hook
{
    /** Calls the hook on every registered module, as Hook::exec does. */
    public static function exec($name, array $params = [])
    {
        $out = '';
        foreach (Module::$hooks as $moduleName => $hooks) {
            if (in_array($name, $hooks, true)) {
                $module = Module::getInstanceByName($moduleName);
                $method = 'hook' . ucfirst($name);
                $out .= (string) $module->$method($params);
            }
        }

        return $out;
    }
}

/** PrestaShop's Cookie keeps its values in an array behind __get/__set/__isset/__unset. */
class Cookie
{
    public $written = 0;
    private $content = [];

    public function __get($key)
    {
        return isset($this->content[$key]) ? $this->content[$key] : false;
    }

    public function __set($key, $value)
    {
        $this->content[$key] = (string) $value;
    }

    public function __isset($key)
    {
        return isset($this->content[$key]);
    }

    public function __unset($key)
    {
        unset($this->content[$key]);
    }

    public function write()
    {
        ++$this->written;
    }
}

class Link
{
    public function getModuleLink($module, $controller, array $params = [], $ssl = null)
    {
        return '/module/' . $module . '/' . $controller . ($params ? '?' . http_build_query($params) : '');
    }
}

class Customer
{
    public $id = 0;
    public $firstname = '';
    public $lastname = '';
    public $email = '';
    public $is_guest = 0;
    public $logged = false;

    public function __construct($id = null)
    {
        if ($id) {
            $this->id = (int) $id;
        }
    }

    public function isLogged()
    {
        return $this->logged;
    }
}

class Cart
{
    public $id;
    public $id_carrier = 0;
    public $id_address_delivery = 0;
    /** rows as Cart::getProducts() gives them: id_product, id_product_attribute, cart_quantity, reference */
    public $products = [];
    public $deliveryOption = [];

    public function getProducts()
    {
        return $this->products;
    }

    public function nbProducts()
    {
        return array_sum(array_column($this->products, 'cart_quantity'));
    }

    public function getDeliveryOption($defaultCountry = null, $dontAutoSelectOptions = false)
    {
        return $this->deliveryOption;
    }
}

class Currency
{
    public $iso_code = 'EUR';
}

class Address
{
    /** Addresses by id, set by the tests. */
    public static $rows = [];
    public $phone = '';
    public $phone_mobile = '';
    public $postcode = '';
    public $id_country = 0;

    public function __construct($id = null)
    {
        if ($id && isset(self::$rows[(int) $id])) {
            foreach (self::$rows[(int) $id] as $k => $v) {
                $this->$k = $v;
            }
        }
    }
}

class Country
{
    public static function getIsoById($idCountry)
    {
        return [8 => 'FR', 1 => 'DE'][(int) $idCountry] ?? false;
    }
}

class Order
{
    public $id;
    public $id_cart;
    public $id_carrier;
    public $id_customer = 0;
    public $id_currency = 1;
    public $id_address_delivery = 0;
    public $id_lang = 1;
    public $reference;
    public $products = [];

    public function getProducts()
    {
        return $this->products;
    }
}

class Combination
{
    public $reference = '';
}

class Product
{
    public $id;
    public $reference = '';
}

class PrestaShopLogger
{
    public static function addLog($message, $severity = 1, $errorCode = null, $objectType = null, $objectId = null, $allowDuplicate = false)
    {
        StandIn::$logs[] = $message;
    }
}

class Mail
{
    public static function Send($idLang, $template, $subject, $templateVars, $to, $toName = null, $from = null, $fromName = null, $fileAttachment = null, $mode_smtp = null, $templatePath = _PS_MAIL_DIR_)
    {
        StandIn::$mails[] = compact('template', 'subject', 'templateVars', 'to', 'templatePath');

        return true;
    }
}
define('_PS_MAIL_DIR_', '/nonexistent/mails/');

/** Debian's Smarty 4, configured as PrestaShop's front office configures its Smarty. */
class StandInSmarty extends Smarty
{
    public function __construct()
    {
        parent::__construct();
        $this->escape_html = true;
        $dir = sys_get_temp_dir() . '/omnistock-smarty-' . getmypid();
        $this->setCompileDir($dir);
        $this->setCacheDir($dir);
        static $cleanup = false;
        if (!$cleanup && PHP_SAPI === 'cli') { // not per request under `php -S` (cli-server)
            $cleanup = true;
            register_shutdown_function(function () use ($dir) {
                foreach (glob($dir . '/*') ?: [] as $file) {
                    @unlink($file);
                }
                @rmdir($dir);
            });
        }
        $smarty = $this;
        // config/smarty.config.inc.php: {l} and the escape override (auto-escape already applies).
        $this->registerPlugin('function', 'l', function ($params) {
            $text = $params['s'];
            if (isset($params['sprintf']) && is_array($params['sprintf'])) {
                $text = vsprintf($text, $params['sprintf']);
            }

            return $text;
        });
        $this->registerPlugin('modifier', 'escape', function ($string, $type = 'html', $charset = null, $double = true) use ($smarty) {
            if (($type === 'html' || $type === 'htmlall') && $smarty->escape_html) {
                return $string;
            }
            require_once SMARTY_PLUGINS_DIR . 'modifier.escape.php';

            return smarty_modifier_escape($string, $type, $charset ?: 'UTF-8', $double);
        });
        // PrestaShop 8.0.4+ registers the PHP functions its templates use as modifiers.
        foreach (['intval', 'date_format'] as $name) {
            if ($name === 'intval') {
                $this->registerPlugin('modifier', 'intval', 'intval');
            }
        }
    }
}

class Context
{
    public static $instance;
    public $cart;
    public $customer;
    public $cookie;
    public $link;
    public $smarty;
    public $controller;
    public $language;

    public static function getContext()
    {
        if (!self::$instance) {
            $c = new self();
            $c->cart = new Cart();
            $c->customer = new Customer();
            $c->cookie = new Cookie();
            $c->link = new Link();
            $c->smarty = new StandInSmarty();
            $c->controller = new stdClass();
            $c->controller->errors = [];
            $c->language = (object) ['id' => 1];
            self::$instance = $c;
        }

        return self::$instance;
    }
}

abstract class Module
{
    public static $hooks = [];
    public static $instances = [];
    public $name;
    public $tab;
    public $version;
    public $author;
    public $need_instance;
    public $ps_versions_compliancy;
    public $bootstrap;
    public $displayName;
    public $description;
    public $confirmUninstall;
    public $active = false;
    public $installed = false;
    /** @var Context */
    public $context;

    public function __construct()
    {
        $this->context = Context::getContext();
        self::$instances[$this->name] = $this;
    }

    public static function getInstanceByName($name)
    {
        return isset(self::$instances[$name]) ? self::$instances[$name] : null;
    }

    public function install()
    {
        $this->installed = true;
        $this->active = true;

        return true;
    }

    public function uninstall()
    {
        $this->installed = false;
        unset(self::$hooks[$this->name]);

        return true;
    }

    public function enable($force_all = false)
    {
        $this->active = true;

        return true;
    }

    public function disable($force_all = false)
    {
        $this->active = false;

        return true;
    }

    public function registerHook($names)
    {
        foreach ((array) $names as $name) {
            self::$hooks[$this->name][] = $name;
        }

        return true;
    }

    public function l($string, $specific = false, $locale = null)
    {
        return $string;
    }

    /** 'module:omnistock/views/...' as PrestaShop resolves it (theme override not modelled). */
    public function fetch($templatePath, $cacheId = null, $compileId = null)
    {
        $file = _PS_MODULE_DIR_ . preg_replace('#^module:#', '', $templatePath);

        return $this->context->smarty->fetch($file);
    }

    public function display($file, $template, $cacheId = null, $compileId = null)
    {
        return $this->context->smarty->fetch(dirname($file) . '/' . $template);
    }

    public function displayConfirmation($string)
    {
        return '<div class="alert alert-success">' . htmlspecialchars($string) . '</div>';
    }

    public function displayError($error)
    {
        return '<div class="alert alert-danger">' . htmlspecialchars($error) . '</div>';
    }
}

abstract class CarrierModule extends Module
{
    abstract public function getOrderShippingCost($params, $shipping_cost);

    abstract public function getOrderShippingCostExternal($params);
}

/** A front controller as Controller::run() drives one: init, then displayAjax() when ajax. */
abstract class ModuleFrontController
{
    public $module;
    public $context;
    public $ajax = false;
    public $ssl = false;
    public $auth = false;
    public $authRedirection;
    public $template;

    public function __construct()
    {
        $this->context = Context::getContext();
        $this->module = Module::getInstanceByName(strtolower(preg_replace('/^(\w+?)[A-Z]\w*ModuleFrontController$/', '$1', get_class($this))));
    }

    public function run()
    {
        if ($this->ajax && method_exists($this, 'displayAjax')) {
            $this->displayAjax();
        } else {
            $this->initContent();
        }
    }

    public function initContent()
    {
    }

    public function ajaxRender($value = null, $controller = null, $method = null)
    {
        echo $value;
    }

    public function setTemplate($template, $params = [], $locale = null)
    {
        $this->template = $template;
    }
}

class HelperForm
{
    public $module;
    public $name_controller;
    public $token;
    public $currentIndex;
    public $default_form_language;
    public $submit_action;
    public $fields_value = [];

    /** The real one renders a Bootstrap form; this one shows the fields and values it was given. */
    public function generateForm($forms)
    {
        $out = '<form id="standin-helperform">';
        foreach ($forms[0]['form']['input'] as $input) {
            $value = isset($this->fields_value[$input['name']]) ? $this->fields_value[$input['name']] : '';
            $out .= '<input name="' . htmlspecialchars($input['name']) . '" type="' . htmlspecialchars($input['type']) . '" value="' . htmlspecialchars((string) $value) . '">';
        }

        return $out . '</form>';
    }
}

class AdminController
{
    public static $currentIndex = 'index.php?controller=AdminModules';
}
