// The case form's helpers. The page works without them; with them nothing typed is lost:
// unsaved input is kept as a draft in this browser (a closed tab or an expired session
// brings it back), leaving with unsaved changes asks first, and a printer label from the
// lab's library fills manufacturer, model and technology.
(function () {
  "use strict";

  function formState(form) {
    var state = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || el.type === "button") { return; }
      if (el.type === "checkbox") {
        state[el.name + "=" + el.value] = el.checked;
      } else {
        state[el.name] = el.value;
      }
    });
    return state;
  }

  function applyState(form, state) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || el.type === "button") { return; }
      if (el.type === "checkbox") {
        var key = el.name + "=" + el.value;
        if (key in state) { el.checked = state[key]; }
      } else if (el.name in state) {
        el.value = state[el.name];
      }
    });
  }

  function same(a, b) {
    var keys = Object.keys(a).concat(Object.keys(b));
    for (var i = 0; i < keys.length; i++) {
      if (a[keys[i]] !== b[keys[i]]) { return false; }
    }
    return true;
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("case-form");
    if (!form) { return; }
    var store = storage();
    var key = "printharvest-draft-" + form.getAttribute("data-case");
    var shown = formState(form);  // what the server sent
    var submitting = false;

    if (store) {
      if (form.hasAttribute("data-saved")) {
        store.removeItem(key);  // the server has everything that was typed
      } else {
        var raw = store.getItem(key);
        var draft = null;
        try { draft = raw ? JSON.parse(raw) : null; } catch (e) { draft = null; }
        if (draft && draft.base && same(draft.base, shown) && !same(draft.state, shown)) {
          applyState(form, draft.state);
          var note = document.getElementById("draft-note");
          if (note) { note.hidden = false; }
        } else if (draft) {
          store.removeItem(key);  // the case changed since: the draft no longer applies
        }
      }
    }

    // A page that shows refused input (not saved) is unsaved work from the start.
    var refused = form.hasAttribute("data-unsaved");
    function dirty() { return refused || !same(formState(form), shown); }

    function keep() {
      if (!store) { return; }
      var state = formState(form);
      if (same(state, shown)) {
        store.removeItem(key);
      } else {
        store.setItem(key, JSON.stringify({base: shown, state: state}));
      }
    }

    form.addEventListener("input", keep);
    form.addEventListener("change", keep);
    form.addEventListener("submit", function () { submitting = true; keep(); });

    var discard = document.getElementById("draft-discard");
    if (discard) {
      discard.addEventListener("click", function () {
        if (store) { store.removeItem(key); }
        applyState(form, shown);
        document.getElementById("draft-note").hidden = true;
      });
    }

    window.addEventListener("beforeunload", function (event) {
      if (!submitting && dirty()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    // Printer library: choosing a label fills manufacturer, model and technology.
    var data = {};
    var source = document.getElementById("printer-data");
    try { data = source ? JSON.parse(source.textContent) : {}; } catch (e) { data = {}; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-printer-label]"), function (input) {
      input.addEventListener("change", function () {
        var entry = data[input.value];
        if (!entry) { return; }
        var prefix = "f-" + input.getAttribute("data-printer-label").replace(/\./g, "-") + "-";
        var targets = {printer_manufacturer: entry.manufacturer, printer_model: entry.model,
                       technology: entry.technology};
        Object.keys(targets).forEach(function (name) {
          var target = document.getElementById(prefix + name);
          if (target && targets[name]) {
            target.value = targets[name];
            target.dispatchEvent(new Event("change", {bubbles: true}));
          }
        });
      });
    });

    // After a refused save or mark ready, the one summary alert takes the focus.
    var summary = document.getElementById("summary");
    var flash = document.getElementById("flash");
    if (summary && flash && flash.classList.contains("bad")) { summary.focus(); }
  });

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      var form = document.getElementById("case-form");
      if (form) {
        event.preventDefault();
        form.requestSubmit(document.getElementById("save"));
      }
    }
  });
}());
