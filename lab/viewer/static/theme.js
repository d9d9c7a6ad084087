// Dark / light / auto theme. Loaded in <head> (a file: the CSP allows no inline script), so
// the saved choice applies before the page is drawn. "auto" follows prefers-color-scheme
// (viewer.css); the choice persists in localStorage, per browser.
(function () {
  "use strict";
  var KEY = "lab-viewer-theme", CHOICES = ["auto", "light", "dark"];
  var root = document.documentElement;

  function saved() {
    var value = null;
    try { value = localStorage.getItem(KEY); } catch (e) { value = null; }
    return CHOICES.indexOf(value) >= 0 ? value : "auto";
  }

  function apply(choice) { root.dataset.theme = choice; }

  apply(saved());
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("theme");
    if (!select) { return; }
    select.value = saved();
    select.parentNode.hidden = false;
    select.addEventListener("change", function () {
      var choice = CHOICES.indexOf(select.value) >= 0 ? select.value : "auto";
      try { localStorage.setItem(KEY, choice); } catch (e) { /* private mode: this page only */ }
      apply(choice);
    });
  });
})();
