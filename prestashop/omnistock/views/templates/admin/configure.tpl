{**
 * omnistock: ids for omnistock's settings, the cron URL, orders needing attention.
 *}
<div class="panel" id="omnistock-ids">
  <h3>{l s='For omnistock\'s settings' mod='omnistock'}</h3>
  <ul>
    <li>{l s='Click and collect carrier: id %d (reference %d)' sprintf=[$omnistock.carrier_id, $omnistock.carrier_ref] mod='omnistock'}</li>
    <li>OMNISTOCK_PRESTASHOP_READY_STATE = {$omnistock.ready_state|intval} ({l s='Ready for pickup' mod='omnistock'})</li>
    <li>OMNISTOCK_PRESTASHOP_COLLECTED_STATE = {$omnistock.collected_state|intval} ({l s='Collected' mod='omnistock'})</li>
  </ul>
  <p>{l s='Retry job (run every 5 minutes from cron):' mod='omnistock'} <code>{$omnistock.cron_url|escape:'htmlall':'UTF-8'}</code></p>
</div>
{if $omnistock.flagged}
<div class="panel" id="omnistock-flagged">
  <h3>{l s='Orders waiting for omnistock' mod='omnistock'}</h3>
  <table class="table">
    <thead><tr><th>{l s='Order' mod='omnistock'}</th><th>{l s='Status' mod='omnistock'}</th><th>{l s='Attempts' mod='omnistock'}</th><th>{l s='Last error' mod='omnistock'}</th></tr></thead>
    <tbody>
    {foreach from=$omnistock.flagged item=f}
      <tr><td>{$f.id_order|intval}</td><td>{$f.status|escape:'htmlall':'UTF-8'}</td><td>{$f.attempts|intval}</td><td>{$f.last_error|escape:'htmlall':'UTF-8'}</td></tr>
    {/foreach}
    </tbody>
  </table>
</div>
{/if}
