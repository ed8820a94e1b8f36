/* The staff pickup console. Plain JavaScript, no build step: talks to the same-origin /v1 API
 * with the session cookie (HttpOnly, set by POST /v1/staff/session) and echoes the session's
 * CSRF token on every write. The staff key is sent once at sign-in and never kept. */
"use strict";
(function () {
  const REFRESH_MS = 30000;
  const TABS = {
    prepare: { states: ["confirmed"], empty: "emptyPrepare" },
    ready: { states: ["ready"], empty: "emptyReady" },
    closed: { states: ["collected", "cancelled", "expired", "no_show"], empty: "emptyClosed" },
  };
  const SCAN = /OMNISTOCK:PICKUP:([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}):([0-9A-Z -]+)/;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const $ = (id) => document.getElementById(id);
  const store = window.localStorage;

  const state = {
    lang: pickLang(),
    session: null, // {label, stores, csrf_token}
    storeId: null,
    tab: "prepare",
    q: "",
    items: [],
    counts: {},
    asOf: null,
    offline: false,
    pickup: null, // the open pickup
    pendingCode: "", // a scanned code waiting for its pickup
    attemptsLeft: null,
    busy: false,
  };

  // ---------- language
  function pickLang() {
    const saved = store.getItem("omnistock.lang");
    if (saved === "en" || saved === "fr") return saved;
    return document.documentElement.lang === "fr" ? "fr" : "en";
  }
  function t(key, vars) {
    const table = window.I18N[state.lang] || window.I18N.en;
    let text = table[key] !== undefined ? table[key] : window.I18N.en[key] || key;
    for (const [k, v] of Object.entries(vars || {})) text = text.split("{" + k + "}").join(String(v));
    return text;
  }
  function applyLang() {
    document.documentElement.lang = state.lang;
    document.title = t("title") + " · omnistock";
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    document.querySelectorAll("[data-tp]").forEach((el) => { el.placeholder = t(el.dataset.tp); });
    document.querySelectorAll("[data-ta]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.ta)); });
    const other = state.lang === "fr" ? "en" : "fr";
    $("lang").textContent = t("otherLang");
    $("lang").lang = other;
    $("lang").setAttribute("aria-label", t("otherLangName"));
    if (state.session) { renderList(); renderBanner(); renderDetail(); }
  }

  // ---------- small helpers
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
    return el;
  }
  function fmtTime(iso) {
    return new Intl.DateTimeFormat(state.lang, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
  }
  function fmtWhen(iso) {
    if (!iso) return "–";
    const d = new Date(iso), now = new Date();
    const sameDay = d.toDateString() === now.toDateString();
    const opts = sameDay ? { hour: "2-digit", minute: "2-digit" }
      : { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    return new Intl.DateTimeFormat(state.lang, opts).format(d);
  }
  function customerName(p) {
    const c = p.customer || {};
    const name = [c.first_name, c.last_name].filter(Boolean).join(" ");
    return name || c.email || p.id.slice(0, 8);
  }
  function isLate(p) { return p.state === "confirmed" && p.ready_by && new Date(p.ready_by) < new Date(); }
  let toastTimer = null;
  function toast(text, bad) {
    const el = $("toast");
    el.textContent = text;
    el.classList.toggle("bad", !!bad);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.textContent = ""; }, bad ? 9000 : 5000);
  }

  // ---------- HTTP
  function staffId(name) {
    // header values are ASCII: "Inès" goes as "Ines"; a name in another script, percent-encoded
    const ascii = name.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    return /^[\x20-\x7e]*$/.test(ascii) ? ascii : encodeURIComponent(name);
  }
  class Offline extends Error {}
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") {
      if (state.session) headers["X-CSRF-Token"] = state.session.csrf_token;
      const person = staffId($("person").value.trim());
      if (person) headers["X-Staff-Id"] = person;
    }
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(path, {
        method, headers, credentials: "same-origin", cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Offline(String(err));
    }
    const data = resp.status === 204 ? null : await resp.json().catch(() => null);
    if (resp.status === 401 && state.session && !path.endsWith("/v1/staff/session")) {
      sessionEnded();
    }
    return { status: resp.status, ok: resp.ok, data };
  }
  function setOnline(online) {
    if (online && state.offline && $("toast").textContent === t("offlineAction")) toast("");
    state.offline = !online;
    renderBanner();
  }
  function renderBanner() {
    const el = $("offline");
    if (!state.offline) { el.hidden = true; return; }
    el.hidden = false;
    el.textContent = t("offlineBanner", { time: state.asOf ? fmtTime(state.asOf) : "–" });
  }

  // ---------- session
  async function loadSession() {
    let r;
    try { r = await api("GET", "/v1/staff/session"); } catch (e) { showSignIn(t("unavailable")); return; }
    if (r.ok) startConsole(r.data); else showSignIn("");
  }
  function showSignIn(message) {
    state.session = null;
    $("console").hidden = true;
    $("signout").hidden = true;
    $("person-field").hidden = true;
    $("store-field").hidden = true;
    $("store-name").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("key").focus();
  }
  function sessionEnded() {
    showSignIn(t("sessionEnded"));
  }
  async function signIn(ev) {
    ev.preventDefault();
    const input = $("key");
    const key = input.value.trim();
    input.value = ""; // the key is never kept on the page
    if (!key) return;
    const button = ev.submitter || $("signin-form").querySelector("button");
    button.disabled = true;
    button.textContent = t("signingIn");
    try {
      const r = await api("POST", "/v1/staff/session", { key });
      if (r.ok) { startConsole(r.data); return; }
      $("signin-error").textContent = r.status === 403 ? t("notStaffKey")
        : r.status === 401 || r.status === 422 ? t("badKey") : t("failed", { status: r.status, detail: (r.data || {}).detail || "" });
    } catch (e) {
      $("signin-error").textContent = t("offlineAction");
    } finally {
      button.disabled = false;
      button.textContent = t("signIn");
    }
  }
  async function signOut() {
    try { await api("DELETE", "/v1/staff/session"); } catch (e) { toast(t("offlineAction"), true); return; }
    state.pickup = null;
    showSignIn("");
    toast(t("signedOut"));
  }
  function startConsole(session) {
    state.session = session;
    const ids = session.stores.map((s) => s.store_id);
    const saved = store.getItem("omnistock.store");
    state.storeId = ids.includes(saved) ? saved : ids[0];
    const select = $("store");
    select.replaceChildren(...session.stores.map((s) => h("option", { value: s.store_id }, s.name + " (" + s.store_id + ")")));
    select.value = state.storeId;
    $("store-field").hidden = ids.length < 2;
    $("store-name").hidden = ids.length >= 2;
    $("store-name").textContent = session.stores[0] ? session.stores[0].name : "";
    $("person-field").hidden = false;
    $("signout").hidden = false;
    $("signin").hidden = true;
    $("console").hidden = false;
    loadPeople();
    applyLang();
    refresh().then(route);
    $("scan").focus();
  }

  // ---------- people (who is working): names remembered on this device, never secret
  function loadPeople() {
    const people = JSON.parse(store.getItem("omnistock.people") || "[]");
    $("people").replaceChildren(...people.map((p) => h("option", { value: p })));
    $("person").value = store.getItem("omnistock.person") || "";
  }
  function savePerson() {
    const name = $("person").value.trim();
    store.setItem("omnistock.person", name);
    if (!name) return;
    const people = JSON.parse(store.getItem("omnistock.people") || "[]").filter((p) => p !== name);
    people.unshift(name);
    store.setItem("omnistock.people", JSON.stringify(people.slice(0, 20)));
    loadPeople();
  }

  // ---------- the list
  function listUrl(cursor) {
    const params = new URLSearchParams();
    for (const s of TABS[state.tab].states) params.append("state", s);
    params.set("closed_today", "true");
    params.set("limit", "200");
    if (state.q) params.set("q", state.q);
    if (cursor) params.set("cursor", cursor);
    return "/v1/stores/" + encodeURIComponent(state.storeId) + "/pickups?" + params;
  }
  let refreshing = null, again = false;
  function refresh() {
    // one refresh at a time; a request during one runs another after it (it may have started
    // before the change that prompted the request)
    if (!state.session) return Promise.resolve();
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      do { again = false; await doRefresh(); } while (again && state.session);
    })().finally(() => { refreshing = null; });
    return refreshing;
  }
  async function doRefresh() {
    try {
      let items = [], cursor = null, counts = {};
      for (let page = 0; page < 5; page++) {
        const r = await api("GET", listUrl(cursor));
        if (!r.ok) { if (r.status !== 401) toast(problemText(r), true); return; }
        items = items.concat(r.data.items);
        counts = r.data.counts;
        cursor = r.data.next_cursor;
        if (!cursor) break;
      }
      state.items = items;
      state.counts = counts;
      state.asOf = new Date().toISOString();
      setOnline(true);
      renderList();
      if (state.pickup) await loadPickup(state.pickup.id, { quiet: true });
    } catch (e) {
      if (e instanceof Offline) setOnline(false); else throw e;
    }
  }
  function sortItems(items) {
    const key = state.tab === "prepare" ? (p) => p.ready_by || p.deadline
      : state.tab === "ready" ? (p) => p.deadline : (p) => p.updated_at;
    const sorted = items.slice().sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return state.tab === "closed" ? sorted.reverse() : sorted;
  }
  function renderList() {
    const counts = state.counts || {};
    const sum = (tab) => TABS[tab].states.reduce((n, s) => n + (counts[s] || 0), 0);
    for (const tab of Object.keys(TABS)) {
      $("count-" + tab).textContent = String(sum(tab));
      const el = $("tab-" + tab);
      el.setAttribute("aria-selected", String(tab === state.tab));
      el.tabIndex = tab === state.tab ? 0 : -1;
    }
    $("panel").setAttribute("aria-labelledby", "tab-" + state.tab);
    $("searching").hidden = !state.q;
    $("searching").textContent = t("searchingFor", { q: state.q });
    $("clear").hidden = !state.q;
    const items = sortItems(state.items);
    $("list").replaceChildren(...items.map(card));
    $("empty").hidden = items.length > 0;
    $("empty").textContent = state.q ? t("emptySearch", { q: state.q }) : t(TABS[state.tab].empty);
    $("updated").textContent = state.asOf ? t("refreshed", { time: fmtTime(state.asOf) }) : "";
  }
  function card(p) {
    const late = isLate(p);
    let when;
    if (p.state === "confirmed") {
      when = [late ? h("span", { class: "badge late" }, t("late")) : null, " ", t("readyBy", { when: fmtWhen(p.ready_by || p.deadline) })];
    } else if (p.state === "ready") {
      const days = Math.floor((Date.now() - new Date(p.updated_at)) / 86400000);
      when = [days > 0 ? t("waiting", { days }) : t("waitingToday"), h("br"), t("deadline", { when: fmtWhen(p.deadline) })];
    } else {
      when = [h("span", { class: "badge " + p.state }, t("state_" + p.state)), " ", fmtTime(p.updated_at)];
    }
    const ref = p.ps_order_reference || p.id.slice(0, 8).toUpperCase();
    const current = state.pickup && state.pickup.id === p.id;
    return h("li", null, h("a", {
      class: "card" + (late ? " late" : ""), href: "#/pickup/" + p.id,
      "aria-current": current ? "true" : null, "data-id": p.id,
    }, h("span", { class: "who" }, customerName(p)), h("span", { class: "when" }, ...when),
    h("span", { class: "meta" }, ref + " · " + t("short_" + p.kind))));
  }
  function selectTab(tab, focus) {
    if (!TABS[tab]) return;
    state.tab = tab;
    renderList();
    if (focus) $("tab-" + tab).focus();
    refresh();
  }

  // ---------- one pickup
  async function loadPickup(id, opts) {
    const quiet = opts && opts.quiet;
    let r;
    try { r = await api("GET", "/v1/pickups/" + encodeURIComponent(id)); } catch (e) {
      if (e instanceof Offline) { setOnline(false); if (!quiet) toast(t("offlineAction"), true); return null; }
      throw e;
    }
    if (!r.ok) {
      if (quiet) return null;
      if (r.status === 403) toast(t("otherStore"), true);
      else if (r.status === 404 || r.status === 422) toast(t("noPickup", { id }), true);
      else if (r.status !== 401) toast(problemText(r), true);
      closePickup();
      return null;
    }
    const p = r.data;
    if (state.pickup && state.pickup.id !== p.id) state.attemptsLeft = null;
    state.pickup = p;
    if (p.store_id !== state.storeId && state.session.stores.some((s) => s.store_id === p.store_id)) {
      state.storeId = p.store_id;
      $("store").value = p.store_id;
      refresh();
    }
    renderDetail();
    renderList();
    return p;
  }
  function closePickup() {
    state.pickup = null;
    state.attemptsLeft = null;
    state.pendingCode = "";
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    renderDetail();
    renderList();
    $("scan").focus();
  }
  function route() {
    const m = /^#\/pickup\/([^/]+)$/.exec(location.hash);
    if (!state.session) return;
    if (m) {
      const id = decodeURIComponent(m[1]);
      if (!UUID.test(id)) { toast(t("noPickup", { id }), true); closePickup(); return; }
      if (!state.pickup || state.pickup.id !== id) {
        loadPickup(id).then((p) => { if (p) focusDetail(); });
      }
    } else if (state.pickup) {
      closePickup();
    }
  }
  function focusDetail() {
    const code = $("code");
    if (code && state.pendingCode) code.focus();
    else $("detail-title") && $("detail-title").focus();
  }
  function renderDetail() {
    const p = state.pickup;
    const section = $("detail");
    $("console").classList.toggle("with-detail", !!p);
    if (!p) { section.hidden = true; section.replaceChildren(); return; }
    section.hidden = false;
    const c = p.customer || {};
    const facts = h("dl", { class: "facts" },
      h("dt", null, t("pickupId")), h("dd", { class: "code" }, p.id),
      p.ps_order_reference ? [h("dt", null, t("orderRef")), h("dd", null, p.ps_order_reference)] : null,
      h("dt", null, t("kind")), h("dd", null, t("kind_" + p.kind) + (p.kind === "order" ? " · " + t(p.payment_status) : "")),
      c.email ? [h("dt", null, t("email")), h("dd", null, c.email)] : null,
      c.phone ? [h("dt", null, t("phone")), h("dd", null, c.phone)] : null,
      p.ready_by && p.state === "confirmed" ? [h("dt", null, t("readyByLabel")),
        h("dd", { class: isLate(p) ? "late" : null }, fmtWhen(p.ready_by) + (isLate(p) ? " · " + t("late") : ""))] : null,
      h("dt", null, t("deadlineLabel")), h("dd", null, fmtWhen(p.deadline)));
    const lines = h("table", null,
      h("caption", { class: "vh" }, t("itemsTitle")),
      h("thead", null, h("tr", null, h("th", { class: "num", scope: "col" }, t("qty")),
        h("th", { scope: "col" }, t("item") + " · " + t("sku") + " · " + t("ean")))),
      h("tbody", null, (p.lines || []).map((l) => h("tr", null,
        h("td", { class: "num qty" }, String(l.quantity)),
        h("td", null, h("span", { class: "label" }, l.label || l.sku), h("br"),
          h("span", { class: "code" }, l.sku), " · ", h("span", { class: "code" }, l.ean || "–"))))));
    const hist = h("ol", { class: "history" }, (p.history || []).map((e) => h("li", null,
      fmtWhen(e.at) + " — " + t(e.from ? "event_" + e.event : "event_created") +
      (e.actor && e.actor.kind === "staff" && (e.actor.name || e.actor.id)
        ? " " + t("by", { who: e.actor.name || e.actor.id }) : ""))));
    section.replaceChildren(
      h("button", { type: "button", class: "ghost back", onclick: closePickup }, "← " + t("back")),
      h("h2", { id: "detail-title", tabindex: "-1" }, customerName(p), " ",
        h("span", { class: "badge " + p.state }, t("state_" + p.state))),
      facts,
      actions(p),
      h("h3", null, t("itemsTitle")), lines,
      h("h3", null, t("historyTitle")), hist);
  }
  function actions(p) {
    if (p.state !== "confirmed" && p.state !== "ready") {
      return h("p", { class: "note" }, t("closedNote", { state: t("state_" + p.state) }));
    }
    const box = h("div", { class: "act" });
    if (p.state === "ready") {
      if (p.code_locked) {
        box.append(h("div", { class: "locked", role: "alert" }, h("strong", null, t("lockedTitle")), t("locked")));
      } else {
        const hint = state.attemptsLeft !== null ? t("wrongCode", { n: state.attemptsLeft }) : "";
        // known before any wrong code: the pickup's failures so far against the session's limit
        const left = state.attemptsLeft !== null ? state.attemptsLeft
          : Math.max(0, state.session.code_attempts - (p.code_failures || 0));
        box.append(h("form", { class: "handover", novalidate: true, onsubmit: handOver },
          h("div", { class: "field" },
            h("label", { for: "code" }, t("codeLabel")),
            h("input", { id: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
              maxlength: "20", "aria-describedby": "code-hint code-error", value: state.pendingCode || null }),
            h("p", { id: "code-hint", class: "hint" }, t("codeHint") + " " + t("attemptsLeft", { n: left })),
            h("p", { id: "code-error", class: "error", role: "alert" }, hint)),
          h("button", { type: "submit", class: "primary" }, t("handOver"))));
      }
    }
    if (p.next_events.includes("mark_ready")) {
      box.append(h("button", { type: "button", class: "primary", onclick: markReady }, t("markReady")));
    }
    if (p.next_events.includes("cancel")) {
      box.append(h("button", { type: "button", class: "danger", onclick: cancelPickup }, t("cancel")));
    }
    return box;
  }

  // ---------- actions
  function canAct() {
    if (state.offline || !navigator.onLine) { toast(t("offlineAction"), true); return false; }
    if (!$("person").value.trim()) { toast(t("personFirst"), true); $("person").focus(); return false; }
    return true;
  }
  function problemText(r) {
    if (r.status === 503) return t("unavailable");
    return t("failed", { status: r.status, detail: (r.data && r.data.detail) || "" });
  }
  async function send(path, body, done) {
    const p = state.pickup;
    let r;
    try { r = await api("POST", path, body); } catch (e) {
      if (e instanceof Offline) { setOnline(false); toast(t("offlineAction"), true); return null; }
      throw e;
    }
    if (r.ok) {
      state.pickup = r.data;
      state.attemptsLeft = null;
      state.pendingCode = "";
      toast(t(done, { name: customerName(r.data) }));
      renderDetail();
      refresh();
      return r;
    }
    if (r.status === 409) {
      const now = await loadPickup(p.id, { quiet: true });
      toast(t("changedElsewhere", { state: t("state_" + ((now || {}).state || (r.data || {}).current_state || p.state)) }), true);
      refresh();
    } else if (r.status === 423) {
      await loadPickup(p.id, { quiet: true });
      toast(t("lockedTitle"), true);
    } else if (r.status !== 401 && r.status !== 422) {
      toast(problemText(r), true);
    }
    return r;
  }
  async function handOver(ev) {
    ev.preventDefault();
    const input = $("code");
    const code = input.value.toUpperCase().replace(/[\s-]/g, "");
    if (!code) { $("code-error").textContent = t("codeMissing"); input.focus(); return; }
    if (!canAct()) return;
    const r = await send("/v1/pickups/" + state.pickup.id + "/collect", { code }, "doneCollect");
    if (r && r.status === 422) {
      const left = (r.data && r.data.attempts_left);
      state.attemptsLeft = typeof left === "number" ? left : null;
      state.pendingCode = "";
      if (state.attemptsLeft === 0) await loadPickup(state.pickup.id, { quiet: true });
      renderDetail();
      const again = $("code");
      if (again) { again.value = ""; again.focus(); }
      if (state.attemptsLeft !== null) toast(t("wrongCode", { n: state.attemptsLeft }), true);
    }
  }
  function confirmDialog(opts) {
    const dialog = $("dialog");
    $("dialog-title").textContent = opts.title;
    $("dialog-help").textContent = opts.help;
    $("dialog-ok").textContent = opts.ok;
    $("dialog-ok").className = opts.danger ? "danger" : "primary";
    $("dialog-no").textContent = opts.no;
    $("reason-field").hidden = !opts.reason;
    $("reason").value = "";
    $("dialog-error").textContent = "";
    return new Promise((resolve) => {
      const form = $("dialog-form");
      const finish = (value) => {
        form.removeEventListener("submit", onSubmit);
        $("dialog-no").removeEventListener("click", onNo);
        dialog.removeEventListener("cancel", onNo);
        dialog.close();
        resolve(value);
      };
      const onSubmit = (ev) => {
        ev.preventDefault();
        const reason = $("reason").value.trim();
        if (opts.reason && !reason) { $("dialog-error").textContent = t("reasonMissing"); $("reason").focus(); return; }
        finish({ reason });
      };
      const onNo = (ev) => { if (ev) ev.preventDefault(); finish(null); };
      form.addEventListener("submit", onSubmit);
      $("dialog-no").addEventListener("click", onNo);
      dialog.addEventListener("cancel", onNo);
      dialog.showModal();
      (opts.reason ? $("reason") : $("dialog-ok")).focus();
    });
  }
  async function markReady() {
    if (!canAct()) return;
    const p = state.pickup;
    const ok = await confirmDialog({ title: t("markReadyQ", { name: customerName(p) }), help: t("markReadyHelp"),
      ok: t("markReady"), no: t("confirmBack") });
    if (ok) await send("/v1/pickups/" + p.id + "/ready", undefined, "doneReady");
  }
  async function cancelPickup() {
    if (!canAct()) return;
    const p = state.pickup;
    const ok = await confirmDialog({ title: t("cancelQ", { name: customerName(p) }), help: t("cancelHelp"),
      ok: t("cancel"), no: t("keep"), danger: true, reason: true });
    if (ok) await send("/v1/pickups/" + p.id + "/cancel", { reason: ok.reason }, "doneCancel");
  }

  // ---------- scanning and search
  function onScan(ev) {
    ev.preventDefault();
    const input = $("scan");
    const text = input.value.trim();
    const m = SCAN.exec(text.toUpperCase());
    if (m) {
      input.value = "";
      const id = m[1].toLowerCase();
      state.pendingCode = m[2].replace(/[\s-]/g, "");
      state.attemptsLeft = null;
      if (state.pickup && state.pickup.id === id) { renderDetail(); focusDetail(); return; }
      location.hash = "#/pickup/" + id;
      return;
    }
    if (/^OMNISTOCK:/i.test(text)) { input.value = ""; toast(t("notOurs"), true); return; }
    if (UUID.test(text)) { input.value = ""; location.hash = "#/pickup/" + text.toLowerCase(); return; }
    state.q = text;
    searchAll();
  }
  async function searchAll() {
    await refresh();
    // a search looks in every tab: show the first one with results
    if (state.q && !state.items.length) {
      const c = state.counts || {};
      const tab = Object.keys(TABS).find((k) => TABS[k].states.some((s) => c[s]));
      if (tab && tab !== state.tab) selectTab(tab);
    }
  }
  // camera scanning, where the browser can read QR codes (BarcodeDetector: Android, ChromeOS,
  // macOS); elsewhere the button stays hidden and the keyboard-wedge scanner is the way
  function cameraSupported() {
    return "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }
  async function openCamera() {
    const dialog = $("camera-dialog"), video = $("camera-video");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (e) { toast(t("cameraDenied"), true); return; }
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    let stopped = false;
    const stop = () => {
      stopped = true;
      stream.getTracks().forEach((track) => track.stop());
      video.srcObject = null;
      if (dialog.open) dialog.close();
    };
    $("camera-close").onclick = stop;
    dialog.oncancel = stop;
    video.srcObject = stream;
    dialog.showModal();
    await video.play().catch(() => {});
    while (!stopped) {
      const found = await detector.detect(video).catch(() => []);
      const hit = found.find((c) => SCAN.test(String(c.rawValue || "").toUpperCase()));
      if (hit) {
        stop();
        $("scan").value = hit.rawValue;
        onScan(new Event("submit"));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  function keepScanFocus(ev) {
    // a keyboard-wedge scanner types into whatever has focus: send stray keys to the scan field
    const active = document.activeElement;
    const typing = active && (active.matches("input, textarea, select") || active.isContentEditable);
    if (typing || $("dialog").open || $("camera-dialog").open || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (!state.session || $("console").hidden || $("listing").offsetParent === null) return;
    if (ev.key.length === 1 && ev.key !== " ") $("scan").focus();
  }

  // ---------- wiring
  function init() {
    applyLang();
    $("lang").addEventListener("click", () => {
      state.lang = state.lang === "fr" ? "en" : "fr";
      store.setItem("omnistock.lang", state.lang);
      applyLang();
    });
    $("signin-form").addEventListener("submit", signIn);
    $("signout").addEventListener("click", signOut);
    $("store").addEventListener("change", () => {
      state.storeId = $("store").value;
      store.setItem("omnistock.store", state.storeId);
      closePickup();
      refresh();
    });
    $("person").addEventListener("change", savePerson);
    $("scan-form").addEventListener("submit", onScan);
    $("camera").hidden = !cameraSupported();
    $("camera").addEventListener("click", openCamera);
    $("clear").addEventListener("click", () => { $("scan").value = ""; state.q = ""; refresh(); $("scan").focus(); });
    document.querySelectorAll("[role=tab]").forEach((el) => {
      el.addEventListener("click", () => selectTab(el.dataset.tab));
      el.addEventListener("keydown", (ev) => {
        const order = Object.keys(TABS);
        const i = order.indexOf(state.tab);
        if (ev.key === "ArrowRight") { ev.preventDefault(); selectTab(order[(i + 1) % 3], true); }
        if (ev.key === "ArrowLeft") { ev.preventDefault(); selectTab(order[(i + 2) % 3], true); }
      });
    });
    window.addEventListener("hashchange", route);
    document.addEventListener("keydown", keepScanFocus);
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
    window.addEventListener("online", () => refresh());
    window.addEventListener("offline", () => setOnline(false));
    setInterval(() => { if (document.visibilityState === "visible") refresh(); }, REFRESH_MS);
    loadSession();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
