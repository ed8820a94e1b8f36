<?php
/**
 * The shared fixtures of the PHPUnit suite: the running omnistock and the MariaDB database.
 */
final class TestEnv
{
    /** @var array */
    private static $info;
    /** @var resource|null */
    private static $server;
    /** @var array */
    private static $pipes = [];
    /** @var \PDO */
    private static $pdo;
    /** @var string */
    private static $database;

    public static function boot()
    {
        $given = getenv('OMNISTOCK_TEST_INFO');
        if ($given) {
            self::$info = json_decode($given, true);
        } else {
            self::startOmnistock();
        }
        self::createDatabase();
        register_shutdown_function([self::class, 'shutdown']);
    }

    /** The omnistock under test: url, erp_url, keys (storefront, staff, admin), stores, scenario. */
    public static function info()
    {
        return self::$info;
    }

    public static function url()
    {
        return self::$info['url'];
    }

    public static function key($role = 'storefront')
    {
        return self::$info['keys'][$role];
    }

    /** A scenario row by its PrestaShop key. */
    public static function item($idProduct, $idProductAttribute)
    {
        foreach (self::$info['scenario'] as $row) {
            if ($row['id_product'] === $idProduct && $row['id_product_attribute'] === $idProductAttribute) {
                return $row;
            }
        }
        throw new \LogicException("no scenario item $idProduct:$idProductAttribute");
    }

    public static function client($timeout = 5.0)
    {
        return new \Omnistock\ApiClient(self::url(), self::key(), null, $timeout, 1.0);
    }

    /** A client aimed at a loopback port nothing listens on. */
    public static function deadClient()
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $name = stream_socket_get_name($socket, false);
        fclose($socket);

        return new \Omnistock\ApiClient('http://' . $name, self::key(), null, 2.0, 0.5);
    }

    /** Simulator control (Cegid side): set a store's on-hand quantity. */
    public static function setErpStock($storeId, $sku, $qty)
    {
        $ch = curl_init(self::$info['erp_url'] . '/_sim/stock');
        curl_setopt_array($ch, [
            CURLOPT_POSTFIELDS => json_encode(['store_id' => $storeId, 'sku' => $sku, 'qty' => $qty]),
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 5,
        ]);
        curl_exec($ch);
        curl_close($ch);
    }

    public static function pdo()
    {
        return self::$pdo;
    }

    /** A Connection on this run's database with PrestaShop's default prefix. */
    public static function db($prefix = 'ps_')
    {
        return new \Omnistock\Sql\PdoConnection(self::$pdo, $prefix);
    }

    public static function databaseName()
    {
        return self::$database;
    }

    private static function startOmnistock()
    {
        $root = dirname(__DIR__, 3);
        $python = $root . '/.venv/bin/python';
        if (!is_executable($python)) {
            fwrite(STDERR, "no $python: run ./dev --help in the repository first, or set OMNISTOCK_TEST_INFO\n");
            exit(2);
        }
        $spec = [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => STDERR];
        self::$server = proc_open([$python, '-m', 'tests.prestashop.omnistock_server'], $spec, self::$pipes, $root);
        $line = fgets(self::$pipes[1]);
        $info = $line ? json_decode($line, true) : null;
        if (!is_array($info)) {
            fwrite(STDERR, "omnistock did not start\n");
            exit(2);
        }
        self::$info = $info;
        putenv('OMNISTOCK_TEST_INFO=' . trim($line));
    }

    private static function createDatabase()
    {
        $dsn = getenv('OMNISTOCK_TEST_MYSQL') ?: 'mysql:host=127.0.0.1;port=3306';
        $user = getenv('OMNISTOCK_TEST_MYSQL_USER') ?: 'root';
        $password = getenv('OMNISTOCK_TEST_MYSQL_PASSWORD') ?: '';
        self::$pdo = new \PDO($dsn, $user, $password, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
        self::$database = 'omnistock_phpunit_' . bin2hex(random_bytes(5));
        self::$pdo->exec('CREATE DATABASE `' . self::$database . '` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
        self::$pdo->exec('USE `' . self::$database . '`');
    }

    public static function shutdown()
    {
        if (self::$pdo && self::$database) {
            self::$pdo->exec('DROP DATABASE IF EXISTS `' . self::$database . '`');
        }
        if (self::$server) {
            fclose(self::$pipes[0]);
            fclose(self::$pipes[1]);
            proc_close(self::$server);
        }
    }
}
