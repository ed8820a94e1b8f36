{**
 * omnistock: back office order page block (pickup state, history, store; retry flags).
 *}
<div class="card mt-2" id="omnistock-admin-order">
  <div class="card-header"><h3 class="card-header-title">{l s='Click and collect (omnistock)' mod='omnistock'}</h3></div>
  <div class="card-body">
    <p><strong>{l s='Store' mod='omnistock'}:</strong> {$omnistock.row.store_id|escape:'htmlall':'UTF-8'}</p>
    {if $omnistock.row.status == 'retry' || $omnistock.row.status == 'cancel_retry'}
      <div class="alert alert-warning">{l s='omnistock did not take this order yet; retrying (attempt %d).' sprintf=[$omnistock.row.attempts|intval] mod='omnistock'} {l s='Last error:' mod='omnistock'} {$omnistock.row.last_error|escape:'htmlall':'UTF-8'}</div>
    {elseif $omnistock.row.status == 'failed'}
      <div class="alert alert-danger">{l s='omnistock refused this order. Fix the cause (e.g. map the product) and prepare it by hand.' mod='omnistock'} {$omnistock.row.last_error|escape:'htmlall':'UTF-8'}</div>
    {/if}
    {if $omnistock.row.pickup_code}<p><strong>{l s='Pickup code' mod='omnistock'}:</strong> {$omnistock.row.pickup_code|escape:'htmlall':'UTF-8'}</p>{/if}
    {if $omnistock.pickup}
      <p><strong>{l s='State' mod='omnistock'}:</strong> <span class="badge badge-info">{$omnistock.pickup.state|escape:'htmlall':'UTF-8'}</span></p>
      <p><strong>{l s='Ready by' mod='omnistock'}:</strong> {$omnistock.pickup.ready_by|escape:'htmlall':'UTF-8'} · <strong>{l s='Collect before' mod='omnistock'}:</strong> {$omnistock.pickup.deadline|escape:'htmlall':'UTF-8'}</p>
      <table class="table">
        <thead><tr><th>{l s='When' mod='omnistock'}</th><th>{l s='Event' mod='omnistock'}</th><th>{l s='State' mod='omnistock'}</th><th>{l s='By' mod='omnistock'}</th></tr></thead>
        <tbody>
        {foreach from=$omnistock.pickup.history item=h}
          <tr><td>{$h.at|escape:'htmlall':'UTF-8'}</td><td>{$h.event|escape:'htmlall':'UTF-8'}</td><td>{$h.to|escape:'htmlall':'UTF-8'}</td><td>{if isset($h.actor.kind)}{$h.actor.kind|escape:'htmlall':'UTF-8'}{/if}</td></tr>
        {/foreach}
        </tbody>
      </table>
    {elseif $omnistock.error}
      <p class="text-muted">{l s='omnistock did not answer:' mod='omnistock'} {$omnistock.error|escape:'htmlall':'UTF-8'}</p>
    {/if}
  </div>
</div>
