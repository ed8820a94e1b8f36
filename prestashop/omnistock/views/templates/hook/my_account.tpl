<a class="col-lg-4 col-md-6 col-sm-6 col-xs-12" id="omnistock-reservations-link" href="{$omnistock.url|escape:'htmlall':'UTF-8'}">
  <span class="link-item"><i class="material-icons" aria-hidden="true">store</i>{l s='My reservations' mod='omnistock'}</span>
</a>
