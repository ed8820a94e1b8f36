/**
 * STAND-IN for what PrestaShop's core.js does when the shopper changes combination: ask the
 * product controller to refresh, replace .product-additional-info with the re-rendered hook
 * output, then emit `updatedProduct`.
 */
document.addEventListener('change', function (event) {
  if (!event.target.classList.contains('js-combination')) { return; }
  var product = document.querySelector('.product');
  prestashop.emit('updateProduct', { eventType: 'updatedProductCombination' });
  fetch('/product/refresh?id_product=' + product.getAttribute('data-id-product') + '&id_product_attribute=' + event.target.value)
    .then(function (r) { return r.json(); })
    .then(function (data) {
      document.querySelector('.product-additional-info').innerHTML = data.product_additional_info;
      history.replaceState(null, '', '/product?id_product=' + product.getAttribute('data-id-product') + '&id_product_attribute=' + data.id_product_attribute);
      prestashop.emit('updatedProduct', data);
    });
});
