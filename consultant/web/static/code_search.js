// Code search as you type. Without this script the form is a plain GET form;
// with it, typing fetches the same page a moment after the last key and swaps
// its results in, keeping the address in step so Back and reload still work.
// Its fetches say live=1: only a submitted search goes into the recent searches.
(function () {
  "use strict";
  var form = document.querySelector("form.code-search");
  if (!form || !window.fetch || !window.DOMParser) { return; }
  var timer = null;
  var latest = 0;

  function target() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) { params.append(name, value); });
    return form.getAttribute("action") + "?" + params.toString();
  }

  function refresh() {
    var url = target();
    var ticket = ++latest;
    fetch(url + "&live=1", { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        // An older answer arriving after a newer one is dropped.
        if (html === null || ticket !== latest) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("code-results");
        var current = document.getElementById("code-results");
        if (fresh && current) {
          current.replaceWith(document.importNode(fresh, true));
          window.history.replaceState(null, "", url);
        }
      })
      .catch(function () { /* the Search button still works */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
})();
