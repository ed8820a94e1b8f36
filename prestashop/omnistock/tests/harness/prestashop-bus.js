/**
 * STAND-IN for PrestaShop's front-office event bus (window.prestashop, an EventEmitter in
 * core.js): on() and emit() only.
 */
window.prestashop = window.prestashop || {
  handlers: {},
  on: function (event, fn) { (this.handlers[event] = this.handlers[event] || []).push(fn); },
  emit: function (event, data) { (this.handlers[event] || []).forEach(function (fn) { fn(data); }); }
};
