<?php

use Omnistock\ApiClient;
use Omnistock\StoreLocator;
use PHPUnit\Framework\TestCase;

/** Postcode to search point, on the real omnistock's store directory. */
final class StoreLocatorTest extends TestCase
{
    public function testTheStoreWithTheClosestPostcodeGivesThePoint()
    {
        $stores = TestEnv::client()->allStores();
        $byId = array_column($stores, null, 'store_id');
        $lyon = StoreLocator::centreForPostcode($stores, '69003', 'FR');
        $this->assertSame('S002', $lyon['store_id']);
        $this->assertSame((float) $byId['S002']['latitude'], $lyon['lat']);
        $this->assertSame('S003', StoreLocator::centreForPostcode($stores, ' 13-008')['store_id'], 'spaces and dashes ignored');
        $this->assertNull(StoreLocator::centreForPostcode($stores, '69003', 'DE'), 'another country');
        $this->assertNull(StoreLocator::centreForPostcode($stores, '9'), 'too short');
        $this->assertNull(StoreLocator::centreForPostcode($stores, '00000'), 'no store shares 2 digits');
    }

    public function testOnlyStoresOfferingTheServiceWithAPositionArePicked()
    {
        $stores = TestEnv::client()->allStores();
        // The directory lists the e-commerce store too: no service, no position.
        $this->assertCount(count(TestEnv::info()['stores']) + 1, $stores);
        $web = array_values(array_filter($stores, function ($s) {
            return $s['services'] === [];
        }));
        $this->assertCount(1, $web);
        $this->assertNull($web[0]['latitude']);
        $this->assertFalse(StoreLocator::offers($web[0]));
        $this->assertFalse(StoreLocator::offers($web[0], 'click_and_collect'));
        $this->assertSame(TestEnv::info()['stores'], array_column(ApiClient::pickable($stores), 'store_id'));

        // S003 (Marseille) offers reservation only: still a shop that locates a Marseille
        // postcode (the point to search around), but not one to pick for click and collect.
        $this->assertSame('S003', TestEnv::info()['reservation_only']);
        $this->assertSame('S003', StoreLocator::centreForPostcode($stores, '13008', 'FR')['store_id']);
        $this->assertNotContains('S003', array_column(ApiClient::pickable($stores, 'click_and_collect'), 'store_id'));
        $this->assertContains('S003', array_column(ApiClient::pickable($stores, 'reservation'), 'store_id'));
    }

    public function testInactiveStoresAreNotUsed()
    {
        $stores = [
            ['store_id' => 'A', 'postcode' => '75001', 'country' => 'FR', 'latitude' => 1, 'longitude' => 2, 'active' => false],
            ['store_id' => 'B', 'postcode' => '75999', 'country' => 'FR', 'latitude' => 3, 'longitude' => 4, 'active' => true],
        ];
        $this->assertSame('B', StoreLocator::centreForPostcode($stores, '75001')['store_id']);
    }

    public function testAStoreWithoutThePositionOrTheServiceIsNeverThePoint()
    {
        $stores = [
            ['store_id' => 'WEB', 'postcode' => '75001', 'country' => 'FR', 'latitude' => null, 'longitude' => null, 'active' => true, 'services' => []],
            ['store_id' => 'NOPOS', 'postcode' => '75001', 'country' => 'FR', 'latitude' => null, 'longitude' => null, 'active' => true, 'services' => ['click_and_collect', 'reservation']],
            ['store_id' => 'RES', 'postcode' => '75002', 'country' => 'FR', 'latitude' => 1, 'longitude' => 2, 'active' => true, 'services' => ['reservation']],
            ['store_id' => 'CC', 'postcode' => '75900', 'country' => 'FR', 'latitude' => 3, 'longitude' => 4, 'active' => true, 'services' => ['click_and_collect']],
            ['store_id' => 'NONE', 'postcode' => '75001', 'country' => 'FR', 'latitude' => 5, 'longitude' => 6, 'active' => true, 'services' => []],
        ];
        $this->assertSame('RES', StoreLocator::centreForPostcode($stores, '75001')['store_id'], 'a shop with a position and a pickup service');
        $this->assertSame('CC', StoreLocator::centreForPostcode($stores, '759')['store_id']);
        $this->assertNull(StoreLocator::centreForPostcode(array_slice($stores, 0, 2), '75001'), 'neither the web store nor a shop without position');
        $this->assertFalse(StoreLocator::offers($stores[2], 'click_and_collect'));
        $this->assertTrue(StoreLocator::offers($stores[2], 'reservation'));
        $this->assertTrue(StoreLocator::offers(['latitude' => 1, 'longitude' => 2], 'reservation'), 'no services field (an older omnistock): both');
        $this->assertSame(['RES', 'CC'], array_column(ApiClient::pickable($stores), 'store_id'));
        $this->assertSame(['CC'], array_column(ApiClient::pickable($stores, 'click_and_collect'), 'store_id'));
    }
}
