// shelfwise storefront: progressive enhancement only. Every page works without this file;
// it adds search autocomplete (an ARIA combobox), and submits the shopper picker and the
// diversity slider as soon as they change.
(function () {
  "use strict";

  function autocomplete(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var url = input.dataset.suggestUrl;
    if (!list || !url) return;
    var active = -1, timer = null, seq = 0;

    function options() { return list.querySelectorAll('[role="option"]'); }
    function close() {
      list.hidden = true; list.innerHTML = ""; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function highlight(i) {
      var opts = options();
      if (!opts.length) return;
      active = (i + opts.length) % opts.length;
      opts.forEach(function (o, j) { o.setAttribute("aria-selected", j === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", opts[active].id);
    }
    function choose(text) {
      input.value = text; close();
      if (input.form) input.form.submit();
    }
    function render(items) {
      list.innerHTML = "";
      items.slice(0, 8).forEach(function (text, i) {
        var li = document.createElement("li");
        li.id = list.id + "-opt-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = text;
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(text); });
        list.appendChild(li);
      });
      var open = items.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      active = -1;
    }
    function fetchSuggestions() {
      var prefix = input.value.trim();
      if (prefix.length < 2) { close(); return; }
      var mine = ++seq;
      fetch(url + "?prefix=" + encodeURIComponent(prefix), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (mine === seq) render(data.suggestions || []); })
        .catch(close);
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(fetchSuggestions, 120); });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(active + 1); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(active - 1); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(options()[active].textContent); }
      else if (ev.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function submitOnChange(el) {
    el.addEventListener("change", function () { if (el.form) el.form.submit(); });
  }

  function showValue(range) {
    var out = document.getElementById(range.getAttribute("aria-describedby"));
    if (!out) return;
    range.addEventListener("input", function () { out.textContent = range.value; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-suggest-url]").forEach(autocomplete);
    document.querySelectorAll("[data-autosubmit]").forEach(submitOnChange);
    document.querySelectorAll('input[type="range"][aria-describedby]').forEach(showValue);
    document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
  });
})();
