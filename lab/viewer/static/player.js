// The playback page: the asciinema player for SSH, the <video> for RDP. Options come from data
// attributes (no inline script, so the Content-Security-Policy stays strict).
//
// SSH: the recording is fetched once and handed to the player as data, so
// - asciicast v1 written on one line (which the player would try to read as a v2 header) and
//   files starting with a UTF-8 byte order mark play;
// - speed (0.5x-8x, also the < and > keys) and idle time (real, or gaps cut to 2 s) can change
//   during playback: the player is re-created at the same moment of the session.
(function () {
  "use strict";
  var SPEEDS = [0.5, 1, 1.5, 2, 4, 8];

  function clock(seconds) {
    var s = Math.round(seconds);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (r < 10 ? "0" : "") + r;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }

  // The recording as the player expects it, and the real time of every event (seconds).
  function readCast(text) {
    if (text.charCodeAt(0) === 0xfeff) { text = text.slice(1); }
    var lines = text.split("\n");
    var header = null;
    try { header = JSON.parse(lines[0]); } catch (e) { header = null; }
    var times = [], t = 0, i, ev;
    if (header === null || header.version === 1) {
      var doc = header || JSON.parse(text); // v1: one JSON document, on one line or many
      for (i = 0; i < doc.stdout.length; i++) { t += doc.stdout[i][0]; times.push(t); }
      return { data: doc, times: times };
    }
    for (i = 1; i < lines.length; i++) {
      if (lines[i].charAt(0) !== "[") { continue; }
      try { ev = JSON.parse(lines[i]); } catch (e) { continue; }
      t = header.version === 3 ? t + ev[0] : ev[0];
      times.push(t);
    }
    return { data: text, times: times };
  }

  // Real time -> player time when idle gaps longer than `limit` are cut to `limit`, and back.
  function compressed(times, limit, real) {
    var prev = 0, out = 0, i, gap;
    for (i = 0; i < times.length && times[i] <= real; i++) {
      gap = times[i] - prev; out += Math.min(gap, limit); prev = times[i];
    }
    return out + Math.min(real - prev, limit);
  }
  function realTime(times, limit, shown) {
    var prev = 0, out = 0, i, gap, step;
    for (i = 0; i < times.length; i++) {
      gap = times[i] - prev; step = Math.min(gap, limit);
      if (out + step >= shown) { break; }
      out += step; prev = times[i];
    }
    return prev + Math.max(0, shown - out);
  }

  function ssh(el) {
    var state = { speed: 1, idle: "real", cast: null, player: null, hit: null };
    var speedSel = document.getElementById("speed");
    var idleSel = document.getElementById("idle");
    var status = document.getElementById("player-status");

    function limit(idle) { return idle === "real" ? Infinity : parseFloat(idle); }

    function create(startAt, play) {
      if (state.player) { state.player.dispose(); el.textContent = ""; }
      var opts = {
        autoPlay: play,
        preload: true,
        speed: state.speed,
        idleTimeLimit: limit(state.idle),
        startAt: startAt,
        fit: "width",
        theme: "asciinema"
      };
      if (el.dataset.cols) { opts.cols = parseInt(el.dataset.cols, 10); }
      if (el.dataset.rows) { opts.rows = parseInt(el.dataset.rows, 10); }
      if (state.hit !== null) {
        var mark = state.idle === "real" ? state.hit : compressed(state.cast.times, limit(state.idle), state.hit);
        opts.markers = [[mark, "search hit"]];
      }
      var data = state.cast.data;
      state.player = window.AsciinemaPlayer.create({ data: function () { return data; } }, el, opts);
      window.labPlayer = state.player;
      el.dataset.speed = String(state.speed);
      el.dataset.idle = state.idle;
    }

    // Re-create the player at the moment of the session now shown, with new options.
    function change(speed, idle) {
      var old = state.player, times = state.cast.times;
      var shown = old ? old.getCurrentTime() || 0 : 0;
      var real = state.idle === "real" ? shown : realTime(times, limit(state.idle), shown);
      state.speed = speed;
      state.idle = idle;
      var next = idle === "real" ? real : compressed(times, limit(idle), real);
      create(Math.max(0, next), true);
      speedSel.value = String(speed);
      idleSel.value = idle;
      status.textContent = "Speed " + speed + "\u00d7" + (idle === "real" ? ", real time" : ", idle gaps cut to " + idle + " s");
    }

    speedSel.addEventListener("change", function () { change(parseFloat(speedSel.value), state.idle); });
    idleSel.addEventListener("change", function () { change(state.speed, idleSel.value); });
    document.addEventListener("keydown", function (e) {
      if (!state.cast || e.ctrlKey || e.metaKey || e.altKey) { return; }
      var i = SPEEDS.indexOf(state.speed);
      if (e.key === ">" && i < SPEEDS.length - 1) { change(SPEEDS[i + 1], state.idle); }
      else if (e.key === "<" && i > 0) { change(SPEEDS[i - 1], state.idle); }
    });

    fetch(el.dataset.src, { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) { throw new Error("the recording answered HTTP " + resp.status); }
      return resp.text();
    }).then(function (text) {
      state.cast = readCast(text);
      var times = state.cast.times, total = times.length ? times[times.length - 1] : 0;
      var real = document.getElementById("real-duration");
      real.textContent = clock(total);
      real.dataset.seconds = total.toFixed(3);
      document.getElementById("compressed-duration").textContent = clock(compressed(times, 2, total));
      // A search hit opens the player at its time: `t` is the time as recorded (real time).
      var at = parseFloat(new URLSearchParams(window.location.search).get("t"));
      if (isFinite(at) && at > 0) { state.hit = at; }
      create(state.hit || 0, true);
    }).catch(function (err) {
      status.textContent = "This recording cannot be played: " + err.message;
      status.className = "banner error";
      el.dataset.failed = "1";
    });
  }

  // RDP: the parts of a session in order, a clear message when the browser cannot play the
  // video, and a fresh link (the viewer presigns a new one) if a presigned one expired.
  function video(v) {
    var status = document.getElementById("player-status");
    var parts = (v.dataset.parts || v.getAttribute("src")).split("\n").filter(Boolean);
    var fresh = (v.dataset.fresh || "").split("\n").filter(Boolean);
    var current = 0, retried = false;
    function show(i, at) {
      current = i;
      v.src = parts[i];
      if (at) { v.currentTime = at; }
      document.querySelectorAll(".parts li").forEach(function (li, n) {
        li.classList.toggle("current", n === i);
      });
    }
    v.addEventListener("error", function () {
      if (!retried && fresh[current] && fresh[current] !== parts[current]) {
        retried = true;
        var at = v.currentTime;
        parts[current] = fresh[current];
        show(current, at);
        v.play();
        return;
      }
      status.textContent = "This video cannot be played in the browser (" +
        (v.error && v.error.code === 4 ? "unsupported or damaged file" : "media error") +
        "). Use \u201cDownload original\u201d to open it with a desktop player.";
      status.className = "banner error";
      v.dataset.failed = "1";
    });
    v.addEventListener("ended", function () {
      if (current + 1 < parts.length) {
        retried = false;
        show(current + 1, 0);
        v.play();
      }
    });
    document.querySelectorAll(".parts a[data-part]").forEach(function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        retried = false;
        show(parseInt(a.dataset.part, 10), 0);
        v.play();
      });
    });
  }

  var el = document.getElementById("player");
  if (el && window.AsciinemaPlayer) { ssh(el); }
  var v = document.getElementById("video");
  if (v) { video(v); }
})();
