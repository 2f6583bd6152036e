// The case page, made quicker with script; every part of it also works without.
// Unsaved-changes warning, [expert: ...] count as you type, live HTML preview,
// presence poll (which also renews your claim while you edit), confirmations,
// keyboard shortcuts with a "?" list.
(function () {
  "use strict";
  var page = document.querySelector(".case-page");
  if (!page) { return; }
  var editor = document.getElementById("editor");
  var box = document.getElementById("draft-text");
  var csrf = document.querySelector("input[name=csrf_token]");
  var original = box ? box.value : "";
  var submitting = false;

  function dirty() { return box && box.value !== original; }

  window.addEventListener("beforeunload", function (event) {
    if (dirty() && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // Confirmations: "Approve and send", "Take over".
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () { submitting = true; });
  });

  // [expert: ...] notes counted as you type.
  var markers = document.getElementById("markers");
  var preview = document.getElementById("preview");
  var previewTimer = null;
  function countMarkers() {
    if (!box || !markers) { return; }
    var found = box.value.match(/\[expert:[^\]]*\]/gi) || [];
    markers.textContent = found.length
      ? found.length + " open [expert: ...] note(s) to edit before approval" + (dirty() ? " (unsaved text)" : "") + "."
      : "No open [expert: ...] notes" + (dirty() ? " (unsaved text)" : "") + ".";
    markers.setAttribute("data-count", String(found.length));
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "" },
      body: body
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }

  function refreshPreview() {
    if (!box || !preview) { return; }
    post(page.getAttribute("data-preview-url"), { text: box.value }).then(function (data) {
      // Our own rendering of the text: the server escapes it and sanitises the result.
      var parsed = new DOMParser().parseFromString(data.html, "text/html");
      preview.replaceChildren.apply(preview, Array.prototype.slice.call(parsed.body.childNodes));
    }).catch(function () { /* the preview is a convenience; the saved text is what counts */ });
  }

  if (box) {
    box.addEventListener("input", function () {
      countMarkers();
      window.clearTimeout(previewTimer);
      previewTimer = window.setTimeout(refreshPreview, 400);
    });
  }

  // Snippets: filled in for this case by the server, put where the cursor is.
  var snippetButton = document.getElementById("snippet-button");
  if (snippetButton && box) {
    snippetButton.addEventListener("click", function (event) {
      event.preventDefault();
      var name = document.getElementById("snippet-name").value;
      fetch(snippetButton.getAttribute("formaction"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "", "Accept": "application/json" },
        body: new URLSearchParams({ snippet: name, text: box.value,
          base_version: editor.querySelector("input[name=base_version]").value })
      }).then(function (response) { return response.json(); }).then(function (data) {
        if (!data.text) { return; }
        var start = box.selectionStart, end = box.selectionEnd;
        box.setRangeText(data.text, start, end, "end");
        box.focus();
        box.dispatchEvent(new Event("input"));
      }).catch(function () { /* without the snippet the draft is unchanged */ });
    });
  }

  // Presence: who else has this case open; reporting while editing renews my claim.
  var presence = document.getElementById("presence");
  function poll() {
    post(page.getAttribute("data-presence-url"), { editing: dirty() ? "1" : "0" }).then(function (data) {
      if (!presence) { return; }
      presence.textContent = data.others.length
        ? "Also open by: " + data.others.map(function (v) {
            return v.who + (v.editing ? " (editing)" : "");
          }).join(", ")
        : "";
    }).catch(function () { /* try again at the next tick */ });
  }
  poll();
  window.setInterval(poll, 15000);

  // Keyboard shortcuts.
  var shortcuts = document.getElementById("shortcuts");
  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT");
  }
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s" && editor) {
      event.preventDefault();
      submitting = true;
      editor.requestSubmit(document.getElementById("save-button"));
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && editor) {
      event.preventDefault();
      document.getElementById("approve-button").click();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "?") {
      shortcuts.hidden = !shortcuts.hidden;
    } else if (event.key === "n") {
      window.location.href = page.getAttribute("data-next-url");
    } else if (event.key === "c") {
      var claim = document.getElementById("claim-button");
      if (claim) { claim.click(); }
    } else if (event.key === "e" && box) {
      event.preventDefault();
      box.focus();
    } else if (event.key === "r") {
      var reason = document.getElementById("reject-reason");
      if (reason) { event.preventDefault(); reason.focus(); }
    } else if (event.key === "Escape" && shortcuts) {
      shortcuts.hidden = true;
    }
  });
})();
