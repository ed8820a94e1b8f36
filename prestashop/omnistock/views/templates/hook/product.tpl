{**
 * omnistock: product page placeholder. product.js fills .js-omnistock-stores from the
 * availability controller (one call for every placeholder of the page) and again on
 * `updatedProduct`; the page itself never waits on omnistock.
 *}
<section class="omnistock-product js-omnistock-availability"
         data-url="{$omnistock.availability_url|escape:'htmlall':'UTF-8'}"
         data-token="{$omnistock.token|escape:'htmlall':'UTF-8'}"
         data-id-product="{$omnistock.id_product|intval}"
         data-id-product-attribute="{$omnistock.id_product_attribute|intval}"
         data-unknown="{l s='Store stock is unknown right now. You can still order online.' mod='omnistock'}">
  <h3 class="omnistock-title">{l s='Availability in store' mod='omnistock'}</h3>
  <div class="omnistock-stores js-omnistock-stores" aria-live="polite" aria-busy="true">
    <p class="omnistock-loading">{l s='Checking store stock…' mod='omnistock'}</p>
  </div>
  <div class="omnistock-where">
    <button type="button" class="btn btn-link omnistock-locate js-omnistock-locate">{l s='Use my location' mod='omnistock'}</button>
    <form class="omnistock-postcode js-omnistock-postcode" novalidate>
      <label>{l s='or postcode' mod='omnistock'}
        <input type="text" name="postcode" maxlength="12" size="7" autocomplete="postal-code"></label>
      <button type="submit" class="btn btn-link">{l s='Find stores' mod='omnistock'}</button>
    </form>
  </div>

  {if $omnistock.reservation}
  <form class="omnistock-reserve js-omnistock-reserve" hidden novalidate
        action="{$omnistock.reserve_url|escape:'htmlall':'UTF-8'}" method="post">
    <h4>{l s='Reserve in store' mod='omnistock'} <span class="js-omnistock-reserve-store"></span></h4>
    <input type="hidden" name="token" value="{$omnistock.token|escape:'htmlall':'UTF-8'}">
    <input type="hidden" name="id_product" value="{$omnistock.id_product|intval}">
    <input type="hidden" name="id_product_attribute" value="{$omnistock.id_product_attribute|intval}">
    <input type="hidden" name="store_id" value="">
    <input type="hidden" name="request_id" value="{$omnistock.request_id|escape:'htmlall':'UTF-8'}">
    <label>{l s='Quantity' mod='omnistock'}
      <input type="number" name="quantity" min="1" max="{$omnistock.max_quantity|intval}" value="1" required></label>
    <label>{l s='First name' mod='omnistock'}
      <input type="text" name="first_name" maxlength="100" required autocomplete="given-name" value="{$omnistock.customer.first_name|escape:'htmlall':'UTF-8'}"></label>
    <label>{l s='Last name' mod='omnistock'}
      <input type="text" name="last_name" maxlength="100" required autocomplete="family-name" value="{$omnistock.customer.last_name|escape:'htmlall':'UTF-8'}"></label>
    <label>{l s='E-mail' mod='omnistock'}
      <input type="email" name="email" maxlength="254" required autocomplete="email" value="{$omnistock.customer.email|escape:'htmlall':'UTF-8'}"></label>
    <label>{l s='Phone (optional)' mod='omnistock'}
      <input type="tel" name="phone" maxlength="40" autocomplete="tel"></label>
    <label class="omnistock-consent"><input type="checkbox" name="consent" value="1" required>
      {l s='I agree that the store keeps my name and contact details to hold this reservation.' mod='omnistock'}</label>
    <p class="omnistock-message js-omnistock-message" role="alert"></p>
    <button type="submit" class="btn btn-primary">{l s='Reserve' mod='omnistock'}</button>
    <button type="button" class="btn btn-link js-omnistock-reserve-cancel">{l s='Cancel' mod='omnistock'}</button>
  </form>
  <div class="omnistock-reserved js-omnistock-reserved" hidden></div>
  {/if}
</section>
