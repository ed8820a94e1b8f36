/**
 * STAND-IN for PrestaShop's checkout JS on the delivery step: choosing a carrier shows its
 * extra content and emits `updatedDeliveryForm`; "Continue" posts the step, whose
 * actionValidateStepComplete may refuse it with errors.
 */
(function () {
  function show() {
    var checked = document.querySelector('#js-delivery input[type=radio]:checked');
    document.querySelectorAll('.carrier-extra-content').forEach(function (el) {
      el.hidden = !checked || checked.value !== el.getAttribute('data-carrier') + ',';
    });
  }
  document.addEventListener('change', function (event) {
    if (event.target.matches('#js-delivery input[type=radio]')) {
      show();
      prestashop.emit('updatedDeliveryForm', { deliveryOption: event.target.value });
    }
  });
  document.addEventListener('submit', function (event) {
    if (event.target.id !== 'js-delivery') { return; }
    event.preventDefault();
    fetch('/checkout/continue', { method: 'POST', body: new FormData(event.target) })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var box = document.querySelector('.js-checkout-errors');
        box.textContent = data.errors.join(' ');
        box.hidden = data.completed;
        document.querySelector('.js-next-step').hidden = !data.completed;
      });
  });
})();
