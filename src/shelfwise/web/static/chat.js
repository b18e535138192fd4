// The shop assistant's chat panel: posts each message to /shop/assistant with the page's CSRF token and shows
// the reply, the products (links to their pages) and the sentences the answer cites. Text only (no innerHTML).
(function () {
  "use strict";
  function item(log, cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    log.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
    return li;
  }
  function show(log, body) {
    var li = item(log, "from-assistant", body.reply || body.error || "");
    if (body.items && body.items.length && body.act !== "question") {
      var list = document.createElement("div");
      list.className = "chat-items";
      body.items.forEach(function (it, n) {
        var a = document.createElement("a");
        // opening a suggested product records a click attributed to the assistant's list (like search results)
        a.href = it.url + "?slot=assistant" + (body.request_id ? "&rid=" + encodeURIComponent(body.request_id) : "");
        a.textContent = (n + 1) + ". " + it.title + (it.price != null ? " (" + it.price.toFixed(2) + ")" : "");
        list.appendChild(a);
      });
      li.appendChild(list);
    }
    (body.citations || []).forEach(function (c) {
      var cite = document.createElement("div");
      cite.className = "chat-cite";
      cite.textContent = "[" + c.id + "] " + c.source + ": " + c.text;
      li.appendChild(cite);
    });
    if (body.handoff) {
      var note = document.createElement("div");
      note.className = "chat-handoff";
      note.textContent = "A person from the shop will take over this conversation.";
      li.appendChild(note);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("chat");
    if (!panel) { return; }
    var form = panel.querySelector(".chat-form");
    var input = panel.querySelector("input[name=message]");
    var log = panel.querySelector(".chat-log");
    var meta = document.querySelector("meta[name=csrf]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = input.value.trim();
      if (!message) { return; }
      item(log, "from-shopper", message);
      input.value = "";
      var data = new URLSearchParams({ message: message, csrf: meta ? meta.content : "" });
      fetch(panel.dataset.chatUrl, { method: "POST", body: data, credentials: "same-origin",
                                     headers: { "Content-Type": "application/x-www-form-urlencoded" } })
        .then(function (r) { return r.json(); })
        .then(function (body) { show(log, body); })
        .catch(function () { item(log, "from-assistant", "The assistant is not reachable right now."); });
    });
  });
})();
