/**
 * omnistock: the store chooser under the "Click and collect" carrier.
 * Loads the stores that can serve the whole cart (nearest first) from the module's checkout
 * controller, chooses one on click (checked again server-side), and reloads after
 * `updatedDeliveryForm` (the shopper switched carrier). Store buttons are <button>s, not
 * inputs, so choosing a store does not re-post PrestaShop's delivery form.
 */
(function () {
  'use strict';

  var TIMEOUT_MS = 8000;
  var position = null;

  function containers() {
    return Array.prototype.slice.call(document.querySelectorAll('.js-omnistock-carrier'));
  }

  function say(box, text, className) {
    var p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    box.replaceChildren(p);
  }

  function withTimeout(promiseFactory) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return promiseFactory(controller ? controller.signal : undefined).then(function (value) {
      if (timer) { clearTimeout(timer); }
      return value;
    }, function (error) {
      if (timer) { clearTimeout(timer); }
      throw error;
    });
  }

  function load(container) {
    var box = container.querySelector('.js-omnistock-carrier-stores');
    box.setAttribute('aria-busy', 'true');
    var params = new URLSearchParams({ action: 'stores', token: container.getAttribute('data-token') });
    if (position) {
      params.set('lat', position.lat.toFixed(5));
      params.set('lng', position.lng.toFixed(5));
    }
    var url = container.getAttribute('data-url');
    withTimeout(function (signal) {
      return fetch(url + (url.indexOf('?') < 0 ? '?' : '&') + params.toString(), {
        credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: signal
      }).then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      });
    }).then(function (data) {
      box.innerHTML = data.html; // rendered and escaped by the module's Smarty template
      container.setAttribute('data-state', data.state === 'ok' ? 'ready' : 'unknown');
      if (!box.querySelector('.omnistock-selected')) {
        container.querySelector('.js-omnistock-chosen').hidden = true;
      }
    }).catch(function () {
      say(box, container.getAttribute('data-unknown'), 'omnistock-unknown');
      container.setAttribute('data-state', 'unknown');
    }).then(function () {
      box.setAttribute('aria-busy', 'false');
    });
  }

  function choose(container, button) {
    var body = new URLSearchParams({
      action: 'choose', token: container.getAttribute('data-token'), store_id: button.getAttribute('data-store-id')
    });
    var url = container.getAttribute('data-url');
    withTimeout(function (signal) {
      return fetch(url, {
        method: 'POST', credentials: 'same-origin', body: body, signal: signal,
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' }
      }).then(function (r) { return r.json(); });
    }).then(function (data) {
      if (!data.ok) {
        throw new Error(data.error || 'refused');
      }
      Array.prototype.forEach.call(container.querySelectorAll('.js-omnistock-choose'), function (b) {
        var on = b === button;
        b.classList.toggle('omnistock-selected', on);
        b.setAttribute('aria-pressed', on ? 'true' : 'false');
      });
      var chosen = container.querySelector('.js-omnistock-chosen');
      chosen.querySelector('.js-omnistock-chosen-name').textContent = data.store_name;
      chosen.hidden = false;
    }).catch(function () {
      load(container);
      var warning = document.createElement('p');
      warning.className = 'omnistock-warning';
      warning.setAttribute('role', 'alert');
      warning.textContent = container.getAttribute('data-refused');
      container.insertBefore(warning, container.firstChild);
      setTimeout(function () { warning.remove(); }, 8000);
    });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('button') : null;
    var container = button && button.closest('.js-omnistock-carrier');
    if (!container) {
      return;
    }
    if (button.classList.contains('js-omnistock-choose')) {
      event.preventDefault();
      choose(container, button);
    } else if (button.classList.contains('js-omnistock-locate') && navigator.geolocation) {
      event.preventDefault();
      navigator.geolocation.getCurrentPosition(function (pos) {
        position = { lat: pos.coords.latitude, lng: pos.coords.longitude };
        containers().forEach(load);
      }, function () {}, { timeout: 8000, maximumAge: 600000 });
    }
  });

  function start() {
    containers().forEach(load);
    if (window.prestashop && typeof window.prestashop.on === 'function') {
      window.prestashop.on('updatedDeliveryForm', function () {
        containers().forEach(function (c) {
          if (c.getAttribute('data-state') !== 'ready') {
            load(c);
          }
        });
      });
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
