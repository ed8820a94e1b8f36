/**
 * omnistock: store availability on the product page.
 * Fills every .js-omnistock-availability placeholder of the page with ONE request to the
 * module's availability controller, again after `updatedProduct` (PrestaShop re-renders the
 * additional info, with the new combination, when the shopper changes it), and handles the
 * "Reserve in store" form. Any failure leaves the page working and says stock is unknown.
 */
(function () {
  'use strict';

  var TIMEOUT_MS = 6000;
  var position = null;
  var postcode = '';
  var generation = 0;

  function placeholders() {
    return Array.prototype.slice.call(document.querySelectorAll('.js-omnistock-availability'));
  }

  function keyOf(node) {
    return node.getAttribute('data-id-product') + ':' + node.getAttribute('data-id-product-attribute');
  }

  function setUnknown(node) {
    var box = node.querySelector('.js-omnistock-stores');
    var p = document.createElement('p');
    p.className = 'omnistock-unknown';
    p.textContent = node.getAttribute('data-unknown');
    box.replaceChildren(p);
    box.setAttribute('aria-busy', 'false');
    node.setAttribute('data-state', 'unknown');
  }

  function refresh() {
    var nodes = placeholders();
    if (!nodes.length) {
      return;
    }
    var mine = ++generation;
    var keys = [];
    nodes.forEach(function (node) {
      var key = keyOf(node);
      if (keys.indexOf(key) < 0) {
        keys.push(key);
      }
      node.querySelector('.js-omnistock-stores').setAttribute('aria-busy', 'true');
      node.setAttribute('data-state', 'loading');
    });
    var params = new URLSearchParams({ token: nodes[0].getAttribute('data-token'), items: keys.join(',') });
    if (position) {
      params.set('lat', position.lat.toFixed(5));
      params.set('lng', position.lng.toFixed(5));
    } else if (postcode) {
      params.set('postcode', postcode);
    }
    var url = nodes[0].getAttribute('data-url');
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    fetch(url + (url.indexOf('?') < 0 ? '?' : '&') + params.toString(), {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      return response.json();
    }).then(function (data) {
      if (mine !== generation) {
        return; // a newer request (combination change) owns the placeholders
      }
      nodes.forEach(function (node) {
        var html = data.items && data.items[keyOf(node)];
        if (typeof html !== 'string') {
          setUnknown(node);
          return;
        }
        var box = node.querySelector('.js-omnistock-stores');
        box.innerHTML = html; // rendered and escaped by the module's Smarty template
        box.setAttribute('aria-busy', 'false');
        node.setAttribute('data-state', data.state === 'ok' ? 'ready' : 'unknown');
      });
    }).catch(function () {
      if (mine === generation) {
        nodes.forEach(setUnknown);
      }
    }).then(function () {
      if (timer) {
        clearTimeout(timer);
      }
    });
  }

  function openForm(button) {
    var section = button.closest('.js-omnistock-availability');
    var form = section && section.querySelector('.js-omnistock-reserve');
    if (!form) {
      return;
    }
    form.elements.store_id.value = button.getAttribute('data-store-id');
    form.elements.quantity.max = Math.max(1, Math.min(parseInt(form.elements.quantity.max, 10) || 10, parseInt(button.getAttribute('data-available'), 10) || 1));
    form.querySelector('.js-omnistock-reserve-store').textContent = '· ' + button.getAttribute('data-store-name');
    form.querySelector('.js-omnistock-message').textContent = '';
    form.hidden = false;
    form.elements.first_name.focus();
  }

  function submitForm(form) {
    var message = form.querySelector('.js-omnistock-message');
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (el) {
      el.removeAttribute('aria-invalid');
    });
    var button = form.querySelector('button[type=submit]');
    message.textContent = '';
    button.disabled = true;
    fetch(form.getAttribute('action'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
      body: new FormData(form)
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false }; });
    }).then(function (data) {
      if (data.ok) {
        var done = form.parentNode.querySelector('.js-omnistock-reserved');
        done.innerHTML = data.html; // rendered and escaped by the module's Smarty template
        done.hidden = false;
        form.hidden = true;
        return;
      }
      (data.errors || []).forEach(function (name) {
        if (form.elements[name]) {
          form.elements[name].setAttribute('aria-invalid', 'true');
        }
      });
      message.textContent = data.message || form.closest('.js-omnistock-availability').getAttribute('data-unknown');
    }).catch(function () {
      message.textContent = form.closest('.js-omnistock-availability').getAttribute('data-unknown');
    }).then(function () {
      button.disabled = false;
    });
  }

  document.addEventListener('click', function (event) {
    var target = event.target.closest ? event.target.closest('button') : null;
    if (!target) {
      return;
    }
    if (target.classList.contains('js-omnistock-reserve-open')) {
      openForm(target);
    } else if (target.classList.contains('js-omnistock-reserve-cancel')) {
      target.closest('form').hidden = true;
    } else if (target.classList.contains('js-omnistock-locate') && target.closest('.js-omnistock-availability') && navigator.geolocation) {
      navigator.geolocation.getCurrentPosition(function (pos) {
        position = { lat: pos.coords.latitude, lng: pos.coords.longitude };
        postcode = '';
        refresh();
      }, function () {}, { timeout: 8000, maximumAge: 600000 });
    }
  });

  document.addEventListener('submit', function (event) {
    if (!event.target.classList) {
      return;
    }
    if (event.target.classList.contains('js-omnistock-reserve')) {
      event.preventDefault();
      submitForm(event.target);
    } else if (event.target.classList.contains('js-omnistock-postcode')) {
      event.preventDefault();
      postcode = event.target.elements.postcode.value.trim().slice(0, 12);
      position = null;
      refresh();
    }
  });

  function start() {
    refresh();
    if (window.prestashop && typeof window.prestashop.on === 'function') {
      // The combination changed: PrestaShop has re-rendered .product-additional-info with the
      // new id_product_attribute in our placeholder.
      window.prestashop.on('updatedProduct', refresh);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
