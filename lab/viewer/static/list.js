// The recording list (templates/list.html), loaded as a file: the CSP allows no inline script.
//
// Time range: the from/to inputs show minutes in the browser's time zone; the form sends them
// with `tz` (the zone's IANA name) and the server turns them into exact UTC instants. The UTC
// equivalent is shown beside each input and follows every edit. Presets fill both inputs and
// submit. Columns: a drag handle on each header's right edge; widths persist in localStorage.
(function () {
  "use strict";
  var form = document.querySelector("form.filters");
  var table = document.getElementById("sessions");
  var WIDTHS = "lab-viewer-columns";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // A Date as a datetime-local value (local time, minutes).
  function local(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function utc(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }

  function showUtc(input) {
    var out = document.getElementById(input.id + "-utc");
    var d = input.value ? new Date(input.value) : null; // no offset: local time (ECMA-262)
    out.textContent = d && !isNaN(d.getTime()) ? "= " + utc(d) : "";
  }

  function day(offset) {
    var d = new Date();
    d.setHours(0, 0, 0, 0);
    d.setDate(d.getDate() + offset);
    return d;
  }

  function endOfDay(d) {
    var e = new Date(d.getTime());
    e.setHours(23, 59, 0, 0);
    return e;
  }

  // [from, to] of a preset, both inclusive to the minute, in the browser's zone.
  function preset(name) {
    var now = new Date();
    now.setSeconds(0, 0);
    switch (name) {
      case "hour": return [new Date(now.getTime() - 3600 * 1000), now];
      case "today": return [day(0), endOfDay(day(0))];
      case "yesterday": return [day(-1), endOfDay(day(-1))];
      case "7d": return [day(-6), endOfDay(day(0))];
      case "30d": return [day(-29), endOfDay(day(0))];
      case "year": return [new Date(now.getFullYear(), 0, 1), new Date(now.getFullYear(), 11, 31, 23, 59)];
    }
    return null;
  }

  function setUpRange() {
    if (!form) { return; }
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    var tz = document.getElementById("tz");
    var inputs = [document.getElementById("from"), document.getElementById("to")];
    inputs.forEach(function (input) {
      // The server wrote the bound in the zone of the link; show it in this browser's zone.
      if (input.dataset.utc) { input.value = local(new Date(input.dataset.utc)); }
      showUtc(input);
      input.addEventListener("input", function () { showUtc(input); });
    });
    tz.value = zone;
    document.getElementById("tz-name").textContent = zone || "UTC";
    document.querySelectorAll("button.preset").forEach(function (button) {
      button.addEventListener("click", function () {
        var range = preset(button.dataset.preset);
        inputs[0].value = local(range[0]);
        inputs[1].value = local(range[1]);
        inputs.forEach(showUtc);
        form.submit();
      });
    });
    document.getElementById("presets").hidden = false;
    form.addEventListener("submit", function () {
      // Leave empty fields out of the URL, as the links do.
      form.querySelectorAll("input, select").forEach(function (el) {
        if (el.name && !el.value) { el.disabled = true; }
      });
    });
  }

  function savedWidths() {
    try { return JSON.parse(localStorage.getItem(WIDTHS) || "{}") || {}; } catch (e) { return {}; }
  }

  function setUpColumns() {
    if (!table) { return; }
    var widths = savedWidths();
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th[data-col]"));
    var fixed = false;
    function freeze() {
      // Switch to a fixed layout at the widths the browser chose, so one column can change alone.
      if (fixed) { return; }
      heads.forEach(function (th) { th.style.width = th.getBoundingClientRect().width + "px"; });
      table.classList.add("resized");
      fixed = true;
    }
    heads.forEach(function (th) {
      var col = th.dataset.col;
      if (widths[col]) { freeze(); }
      var grip = document.createElement("span");
      grip.className = "grip";
      grip.setAttribute("role", "separator");
      grip.setAttribute("aria-orientation", "vertical");
      grip.title = "drag to resize (double-click: reset all columns)";
      th.appendChild(grip);
      grip.addEventListener("mousedown", function (ev) {
        ev.preventDefault();
        freeze();
        var x0 = ev.clientX, w0 = th.getBoundingClientRect().width;
        function move(e) { th.style.width = Math.max(40, w0 + e.clientX - x0) + "px"; }
        function up() {
          document.removeEventListener("mousemove", move);
          document.removeEventListener("mouseup", up);
          var all = savedWidths();
          all[col] = Math.round(th.getBoundingClientRect().width);
          localStorage.setItem(WIDTHS, JSON.stringify(all));
        }
        document.addEventListener("mousemove", move);
        document.addEventListener("mouseup", up);
      });
      grip.addEventListener("dblclick", function () {
        localStorage.removeItem(WIDTHS);
        heads.forEach(function (h) { h.style.width = ""; });
        table.classList.remove("resized");
        fixed = false;
      });
    });
    heads.forEach(function (th) {
      if (widths[th.dataset.col]) { th.style.width = widths[th.dataset.col] + "px"; }
    });
  }

  setUpRange();
  setUpColumns();
})();
