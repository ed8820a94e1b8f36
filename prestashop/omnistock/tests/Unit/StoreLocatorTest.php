<?php

use Omnistock\StoreLocator;
use PHPUnit\Framework\TestCase;

/** Postcode to search point, on the real omnistock's store directory. */
final class StoreLocatorTest extends TestCase
{
    public function testTheStoreWithTheClosestPostcodeGivesThePoint()
    {
        $stores = TestEnv::client()->allStores();
        $this->assertCount(12, $stores);
        $byId = array_column($stores, null, 'store_id');
        $lyon = StoreLocator::centreForPostcode($stores, '69003', 'FR');
        $this->assertSame('S002', $lyon['store_id']);
        $this->assertSame((float) $byId['S002']['latitude'], $lyon['lat']);
        $this->assertSame('S003', StoreLocator::centreForPostcode($stores, ' 13-008')['store_id'], 'spaces and dashes ignored');
        $this->assertNull(StoreLocator::centreForPostcode($stores, '69003', 'DE'), 'another country');
        $this->assertNull(StoreLocator::centreForPostcode($stores, '9'), 'too short');
        $this->assertNull(StoreLocator::centreForPostcode($stores, '00000'), 'no store shares 2 digits');
    }

    public function testInactiveStoresAreNotUsed()
    {
        $stores = [
            ['store_id' => 'A', 'postcode' => '75001', 'country' => 'FR', 'latitude' => 1, 'longitude' => 2, 'active' => false],
            ['store_id' => 'B', 'postcode' => '75999', 'country' => 'FR', 'latitude' => 3, 'longitude' => 4, 'active' => true],
        ];
        $this->assertSame('B', StoreLocator::centreForPostcode($stores, '75001')['store_id']);
    }
}
