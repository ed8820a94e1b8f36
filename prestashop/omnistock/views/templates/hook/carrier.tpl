{**
 * omnistock: the store chooser under the "Click and collect" carrier. checkout.js fills it from
 * the checkout controller. Buttons, not inputs: an input inside #js-delivery would re-post the
 * delivery form.
 *}
<div class="omnistock-carrier js-omnistock-carrier"
     data-url="{$omnistock.checkout_url|escape:'htmlall':'UTF-8'}"
     data-token="{$omnistock.token|escape:'htmlall':'UTF-8'}"
     data-unknown="{l s='Store stock is unknown right now: click and collect is unavailable. Please choose another delivery method.' mod='omnistock'}"
     data-refused="{l s='This store can no longer serve your whole cart. Please choose another store.' mod='omnistock'}"
     data-chosen-text="{l s='You will collect your order at:' mod='omnistock'}">
  <p class="omnistock-chosen js-omnistock-chosen"{if !$omnistock.chosen} hidden{/if}>
    {l s='You will collect your order at:' mod='omnistock'}
    <strong class="js-omnistock-chosen-name">{if $omnistock.chosen}{$omnistock.chosen.store_name|escape:'htmlall':'UTF-8'}{/if}</strong>
  </p>
  <div class="js-omnistock-carrier-stores" aria-live="polite" aria-busy="true">
    <p class="omnistock-loading">{l s='Looking for stores that have your whole cart…' mod='omnistock'}</p>
  </div>
  <button type="button" class="btn btn-link omnistock-locate js-omnistock-locate">{l s='Use my location' mod='omnistock'}</button>
</div>
