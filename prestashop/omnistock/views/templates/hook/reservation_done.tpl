{**
 * omnistock: reservation confirmation (code, and omnistock's QR when it has one).
 *}
<div class="omnistock-done">
  <p class="omnistock-done-title">{l s='Reserved! Show this code in store:' mod='omnistock'}</p>
  <p class="omnistock-done-store">{l s='Store:' mod='omnistock'} <strong>{if $omnistock_reservation.store_name}{$omnistock_reservation.store_name|escape:'htmlall':'UTF-8'}{else}{$omnistock_reservation.store_id|escape:'htmlall':'UTF-8'}{/if}</strong></p>
  <p class="omnistock-code js-omnistock-code">{$omnistock_reservation.pickup_code|escape:'htmlall':'UTF-8'}</p>
  {if $omnistock_qr}
    <img class="omnistock-qr" src="{$omnistock_qr|escape:'htmlall':'UTF-8'}" alt="{l s='QR code of your reservation' mod='omnistock'}" width="160" height="160">
  {/if}
  {if $omnistock_reservation.deadline}
    <p>{l s='Held until' mod='omnistock'} <time datetime="{$omnistock_reservation.deadline|escape:'htmlall':'UTF-8'}">{$omnistock_reservation.deadline|date_format:'%Y-%m-%d %H:%M'|escape:'htmlall':'UTF-8'}</time> (UTC)</p>
  {/if}
  <p>{l s='The store will contact you at' mod='omnistock'} {$omnistock_reservation.email|escape:'htmlall':'UTF-8'}</p>
</div>
