// Starts the asciinema player on the playback page; options come from data attributes
// (no inline script, so the Content-Security-Policy stays strict).
(function () {
  "use strict";
  var el = document.getElementById("player");
  if (!el || !window.AsciinemaPlayer) { return; }
  var options = {
    cols: parseInt(el.dataset.cols, 10) || 80,
    rows: parseInt(el.dataset.rows, 10) || 24,
    autoPlay: true,
    preload: true,
    idleTimeLimit: 2,
    fit: "width",
    theme: "asciinema"
  };
  // A search hit opens the player at its time: `t` as recorded, `tc` on the clock of a player
  // that cuts idle gaps to 2 s (lab/viewer/castext.py IDLE_LIMIT).
  var query = new URLSearchParams(window.location.search);
  var at = parseFloat(query.get(options.idleTimeLimit ? "tc" : "t"));
  if (isFinite(at) && at > 0) {
    options.startAt = at;
    options.markers = [[at, "search hit"]];
  }
  var player = window.AsciinemaPlayer.create(el.dataset.src, el, options);
  window.labPlayer = player;
})();
