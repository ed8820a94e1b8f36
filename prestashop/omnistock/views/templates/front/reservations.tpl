{extends file='customer/page.tpl'}
{block name='page_title'}{l s='My reservations' mod='omnistock'}{/block}
{block name='page_content'}
  {if !$omnistock_reservations}
    <p>{l s='You have no reservations.' mod='omnistock'}</p>
  {else}
    <table class="table table-striped omnistock-reservations">
      <thead><tr>
        <th>{l s='Date' mod='omnistock'}</th><th>{l s='Store' mod='omnistock'}</th>
        <th>{l s='Quantity' mod='omnistock'}</th><th>{l s='Code' mod='omnistock'}</th><th>{l s='Held until' mod='omnistock'}</th>
      </tr></thead>
      <tbody>
      {foreach from=$omnistock_reservations item=r}
        <tr>
          <td>{$r.date_add|escape:'htmlall':'UTF-8'}</td>
          <td>{if $r.store_name}{$r.store_name|escape:'htmlall':'UTF-8'}{else}{$r.store_id|escape:'htmlall':'UTF-8'}{/if}</td>
          <td>{$r.quantity|intval}</td>
          <td class="omnistock-code">{$r.pickup_code|escape:'htmlall':'UTF-8'}</td>
          <td>{$r.deadline|escape:'htmlall':'UTF-8'}</td>
        </tr>
      {/foreach}
      </tbody>
    </table>
  {/if}
{/block}
