<?php

use Omnistock\AvailabilityPresenter;
use PHPUnit\Framework\TestCase;

/** The presenter on answers of the real omnistock (scenario of the bootstrap). */
final class AvailabilityPresenterTest extends TestCase
{
    private function productAnswer($idAttribute)
    {
        return TestEnv::client()->availability(
            [['ps_product' => 1, 'ps_attribute' => $idAttribute, 'quantity' => 1]],
            ['lat' => 48.8566, 'lng' => 2.3522, 'radius_km' => 1000, 'limit' => 12]
        );
    }

    public function testStoresWithStockComeFirstNearestFirst()
    {
        $view = (new AvailabilityPresenter())->product($this->productAnswer(1), null, 12);
        $this->assertSame('ok', $view['state']);
        $ids = array_column($view['stores'], 'store_id');
        $inStock = array_slice($ids, 0, 3);
        // S001 Paris (0 km), then S004 and S002 by distance from Paris; S003 (0) after them.
        $this->assertSame('S001', $inStock[0]);
        $this->assertEqualsCanonicalizing(['S001', 'S002', 'S004'], $inStock);
        $this->assertSame(3, $view['in_stock_count']);
        $distances = array_column(array_slice($view['stores'], 0, 3), 'distance_km');
        $sorted = $distances;
        sort($sorted);
        $this->assertSame($sorted, $distances);
        foreach (array_slice($view['stores'], 3) as $s) {
            $this->assertFalse($s['in_stock']);
            $this->assertSame(0, $s['available']);
        }
    }

    public function testSavedStoreFirstEvenWithoutStock()
    {
        $view = (new AvailabilityPresenter())->product($this->productAnswer(1), 'S003', 5);
        $this->assertSame('S003', $view['stores'][0]['store_id']);
        $this->assertTrue($view['stores'][0]['saved']);
        $this->assertSame('out_of_stock', $view['stores'][0]['status']);
        $this->assertCount(5, $view['stores']);
    }

    public function testLowStockAndAsOf()
    {
        $view = (new AvailabilityPresenter(new \DateTimeZone('Europe/Paris')))->product($this->productAnswer(1), null, 12);
        $byId = array_column($view['stores'], null, 'store_id');
        $this->assertSame('low_stock', $byId['S002']['status'], 'two units is low stock by default');
        $this->assertTrue($byId['S002']['low']);
        $this->assertSame('in_stock', $byId['S001']['status']);
        $this->assertMatchesRegularExpression('/^\d\d:\d\d$/', $byId['S001']['as_of_time']);
        $this->assertStringEndsWith('+01:00', $byId['S001']['as_of']);
    }

    public function testCombinationChangeChangesTheAnswer()
    {
        $view = (new AvailabilityPresenter())->product($this->productAnswer(2), null, 3);
        $this->assertEqualsCanonicalizing(['S002', 'S003'], array_slice(array_column($view['stores'], 'store_id'), 0, 2));
        $this->assertSame(2, $view['in_stock_count']);
    }

    public function testMalformedAnswerIsUnknown()
    {
        $p = new AvailabilityPresenter();
        $this->assertSame('unknown', $p->product([])['state']);
        $this->assertSame('unknown', $p->checkout(['lines' => []])['state']);
    }

    public function testCheckoutKeepsStoresServingTheWholeCartNearestFirst()
    {
        $answer = TestEnv::client()->availability(
            [['ps_product' => 1, 'ps_attribute' => 1, 'quantity' => 3], ['ps_product' => 2, 'ps_attribute' => 0, 'quantity' => 1]],
            ['lat' => 48.8566, 'lng' => 2.3522, 'radius_km' => 1000, 'limit' => 12],
            [],
            true
        );
        $view = (new AvailabilityPresenter())->checkout($answer, 'S004');
        // 3 x 1:1 only in S001 (8) and S004 (6): S002 has 2.
        $this->assertSame(['S001', 'S004'], array_column($view['stores'], 'store_id'));
        $this->assertTrue($view['selected_serves']);
        $this->assertTrue(AvailabilityPresenter::storeServesAll($answer, 'S004'));
        $this->assertFalse(AvailabilityPresenter::storeServesAll($answer, 'S002'));
        $this->assertFalse((new AvailabilityPresenter())->checkout($answer, 'S002')['selected_serves']);
    }
}
