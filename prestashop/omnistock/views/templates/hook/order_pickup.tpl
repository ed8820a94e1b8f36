{**
 * omnistock: the pickup of an order (confirmation page, order detail).
 *}
<section class="omnistock-order-pickup card">
  <div class="card-block">
    <h3>{l s='Click and collect' mod='omnistock'}</h3>
    {if $omnistock.row.status == 'created' && $omnistock.row.pickup_code}
      <p>{l s='Show this code when you collect your order:' mod='omnistock'}</p>
      <p class="omnistock-code">{$omnistock.row.pickup_code|escape:'htmlall':'UTF-8'}</p>
      {if $omnistock.qr}
        <img class="omnistock-qr" src="{$omnistock.qr|escape:'htmlall':'UTF-8'}" alt="{l s='QR code of your pickup' mod='omnistock'}" width="160" height="160">
      {/if}
      <p>{l s='We will e-mail you when your order is ready in store.' mod='omnistock'}</p>
    {elseif $omnistock.row.status == 'cancelled'}
      <p>{l s='This pickup was cancelled.' mod='omnistock'}</p>
    {else}
      <p>{l s='Your order is confirmed. Your collection code will follow by e-mail shortly.' mod='omnistock'}</p>
    {/if}
  </div>
</section>
