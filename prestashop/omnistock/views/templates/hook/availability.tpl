{**
 * omnistock: one item's stores, rendered by the availability controller.
 *}
{if $omnistock_view.state != 'ok'}
  <p class="omnistock-unknown">{l s='Store stock is unknown right now. You can still order online.' mod='omnistock'}</p>
{elseif !$omnistock_view.stores}
  <p class="omnistock-none">{l s='No store nearby.' mod='omnistock'}</p>
{else}
  {if !$omnistock_view.in_stock_count}
    <p class="omnistock-none">{l s='Not in stock in the stores nearby.' mod='omnistock'}</p>
  {/if}
  <ul class="omnistock-store-list">
  {foreach from=$omnistock_view.stores item=store}
    <li class="omnistock-store omnistock-{$store.status|escape:'htmlall':'UTF-8'}{if $store.saved} omnistock-saved{/if}" data-store-id="{$store.store_id|escape:'htmlall':'UTF-8'}">
      <span class="omnistock-dot" aria-hidden="true"></span>
      <span class="omnistock-store-name">{$store.name|escape:'htmlall':'UTF-8'}</span>
      {if $store.saved}<span class="omnistock-badge">{l s='Your store' mod='omnistock'}</span>{/if}
      {if $store.distance_km !== null}<span class="omnistock-distance">{$store.distance_km|escape:'htmlall':'UTF-8'} km</span>{/if}
      <span class="omnistock-status">
        {if $store.status == 'in_stock'}{l s='In stock' mod='omnistock'}
        {elseif $store.status == 'low_stock'}{l s='Only %d left' sprintf=[$store.available] mod='omnistock'}
        {else}{l s='Out of stock' mod='omnistock'}{/if}
      </span>
      <div class="omnistock-store-meta">
        {if $store.as_of_time}
          <span class="omnistock-asof{if $store.stale} omnistock-stale{/if}">
            {if $store.stale}{l s='stock as of %s %s, may have changed' sprintf=[$store.as_of_date, $store.as_of_time] mod='omnistock'}
            {else}{l s='as of %s' sprintf=[$store.as_of_time] mod='omnistock'}{/if}
          </span>
        {/if}
        {if $omnistock_reservation && $store.in_stock}
          <button type="button" class="btn btn-secondary btn-sm js-omnistock-reserve-open"
                  data-store-id="{$store.store_id|escape:'htmlall':'UTF-8'}"
                  data-store-name="{$store.name|escape:'htmlall':'UTF-8'}"
                  data-available="{$store.available|intval}">{l s='Reserve in store' mod='omnistock'}</button>
        {/if}
      </div>
    </li>
  {/foreach}
  </ul>
{/if}
