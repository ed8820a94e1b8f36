{**
 * omnistock: stores able to serve the whole cart, nearest first (checkout controller).
 *}
{if $omnistock_view.state != 'ok'}
  <p class="omnistock-unknown">{l s='Store stock is unknown right now: click and collect is unavailable. Please choose another delivery method.' mod='omnistock'}</p>
{else}
  {if isset($omnistock_view.lost)}
    <p class="omnistock-warning" role="alert"><strong>{$omnistock_view.lost.store_name|escape:'htmlall':'UTF-8'}</strong> {l s='can no longer serve your whole cart. Please choose another store.' mod='omnistock'}</p>
  {/if}
  {if !$omnistock_view.stores}
    <p class="omnistock-none">{l s='No store nearby has your whole cart. Please choose another delivery method.' mod='omnistock'}</p>
  {else}
    <p class="omnistock-hint">{l s='Stores that have your whole cart, nearest first:' mod='omnistock'}</p>
    <ul class="omnistock-carrier-list" role="list">
    {foreach from=$omnistock_view.stores item=store}
      <li>
        <button type="button" class="omnistock-choice js-omnistock-choose{if $store.selected} omnistock-selected{/if}"
                aria-pressed="{if $store.selected}true{else}false{/if}"
                data-store-id="{$store.store_id|escape:'htmlall':'UTF-8'}"
                data-store-name="{$store.name|escape:'htmlall':'UTF-8'}">
          <span class="omnistock-store-name">{$store.name|escape:'htmlall':'UTF-8'}</span>
          {if $store.distance_km !== null}<span class="omnistock-distance">{$store.distance_km|escape:'htmlall':'UTF-8'} km</span>{/if}
          {if $store.stale}<span class="omnistock-stale">{l s='stock may have changed' mod='omnistock'}</span>{/if}
        </button>
      </li>
    {/foreach}
    </ul>
    {if $omnistock_view.excluded}
      <p class="omnistock-excluded">{l s='%d nearby store(s) cannot serve your whole cart and are not shown.' sprintf=[$omnistock_view.excluded] mod='omnistock'}</p>
    {/if}
  {/if}
{/if}
