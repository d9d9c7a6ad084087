// Starts the asciinema player on the playback page; options come from data attributes
// (no inline script, so the Content-Security-Policy stays strict).
(function () {
  "use strict";
  var el = document.getElementById("player");
  if (!el || !window.AsciinemaPlayer) { return; }
  var player = window.AsciinemaPlayer.create(el.dataset.src, el, {
    cols: parseInt(el.dataset.cols, 10) || 80,
    rows: parseInt(el.dataset.rows, 10) || 24,
    autoPlay: true,
    preload: true,
    idleTimeLimit: 2,
    fit: "width",
    theme: "asciinema"
  });
  window.labPlayer = player;
})();
