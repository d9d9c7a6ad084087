// The interactive graph (templates/explore.html), drawn with cytoscape (npm, served under
// /player/). The data comes from the page's JSON data block; no inline script (CSP).
//
// Teams -> projects -> servers in three columns. A team or project toggles its children on a
// click; every click opens a pop-up with the counts and a link to the matching recordings. The
// search finds a node by name (collapsed ones too: its parents open) and centres it; "Find" again
// moves to the next match. Large graphs start with servers collapsed.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var container = document.getElementById("cy");
  var pop = document.getElementById("graph-pop");
  var status = document.getElementById("graph-status");
  var EXPAND_BELOW = 300; // servers drawn at once on first load
  var COL = 330, ROW = 34;
  var nodes = {}; // id -> {id, kind, label, n, pam, detail, link, parent, children: [ids]}
  var open = {}; // ids of expanded teams and projects
  var order = [];
  var serverCount = 0;

  data.forEach(function (t, i) {
    var tid = "t" + i;
    nodes[tid] = { id: tid, kind: "team", label: t.label, n: t.n, pam: t.pam, detail: "", link: t.link, parent: null, children: [] };
    order.push(tid);
    t.projects.forEach(function (p, j) {
      var pid = tid + "p" + j;
      nodes[pid] = { id: pid, kind: "project", label: p.label, n: p.n, pam: p.pam, detail: p.detail, link: p.link, parent: tid, children: [] };
      nodes[tid].children.push(pid);
      order.push(pid);
      p.servers.forEach(function (s, k) {
        var sid = pid + "s" + k;
        nodes[sid] = { id: sid, kind: "server", label: s.label, n: s.n, pam: s.pam, detail: s.detail, link: s.link, parent: pid, children: [] };
        nodes[pid].children.push(sid);
        order.push(sid);
        serverCount++;
      });
    });
  });

  function setAll(expanded, kinds) {
    order.forEach(function (id) {
      if (kinds.indexOf(nodes[id].kind) >= 0) {
        if (expanded) { open[id] = true; } else { delete open[id]; }
      }
    });
  }
  setAll(true, ["team"]);
  if (serverCount <= EXPAND_BELOW) { setAll(true, ["project"]); }

  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function style() {
    return [
      { selector: "node", style: {
        shape: "round-rectangle", width: 250, height: 24, label: "data(text)", "font-size": 12,
        "text-valign": "center", "text-halign": "center", "text-max-width": 240, "text-wrap": "ellipsis",
        color: css("--fg"), "background-color": css("--node"), "border-width": 1, "border-color": css("--accent") } },
      { selector: "node.team", style: { "background-color": css("--node-team"), "font-weight": "bold" } },
      { selector: "node.server", style: { "background-color": css("--node-leaf") } },
      { selector: "node.collapsed", style: { "border-width": 3 } },
      { selector: "node.empty", style: { "border-style": "dashed", "background-color": css("--node-empty") } },
      { selector: "node.unknown", style: { "border-color": css("--bad") } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": css("--warn") } },
      { selector: "edge", style: { width: 1, "line-color": css("--edge"), "curve-style": "straight" } }
    ];
  }

  function visible() {
    var out = [];
    order.forEach(function (id) {
      var n = nodes[id], p = n.parent;
      if (p === null || (open[p] && (nodes[p].parent === null || open[nodes[p].parent]))) { out.push(n); }
    });
    return out;
  }

  // Positions: one row per visible leaf, a parent at the middle of its visible children.
  function layout(shown) {
    var pos = {}, y = 0, ids = {};
    shown.forEach(function (n) { ids[n.id] = true; });
    function place(id) {
      var n = nodes[id], col = n.kind === "team" ? 0 : n.kind === "project" ? 1 : 2;
      var kids = n.children.filter(function (c) { return ids[c]; });
      if (!kids.length) { pos[id] = { x: col * COL, y: y }; y += ROW; return; }
      kids.forEach(place);
      pos[id] = { x: col * COL, y: (pos[kids[0]].y + pos[kids[kids.length - 1]].y) / 2 };
    }
    shown.forEach(function (n) { if (n.parent === null) { place(n.id); y += ROW / 2; } });
    return pos;
  }

  function element(n, pos) {
    var classes = [n.kind];
    if (n.n === 0) { classes.push("empty"); }
    if (n.pam === false) { classes.push("unknown"); }
    if (n.children.length && !open[n.id]) { classes.push("collapsed"); }
    var more = n.children.length && !open[n.id] ? " +" + n.children.length : "";
    return { group: "nodes", data: { id: n.id, text: n.label + " (" + n.n + ")" + more }, position: pos[n.id], classes: classes.join(" ") };
  }

  var cy = cytoscape({ container: container, style: style(), minZoom: 0.05, maxZoom: 3, wheelSensitivity: 0.3,
                       boxSelectionEnabled: false, autoungrabify: true });
  window.labGraph = cy;

  function draw(fit) {
    var shown = visible(), pos = layout(shown), els = [];
    shown.forEach(function (n) {
      els.push(element(n, pos));
      if (n.parent !== null) { els.push({ group: "edges", data: { id: "e" + n.id, source: n.parent, target: n.id } }); }
    });
    cy.batch(function () { cy.elements().remove(); cy.add(els); });
    if (fit) { cy.fit(undefined, 20); }
    container.dataset.nodes = String(shown.length);
  }

  function closePop() { pop.hidden = true; pop.textContent = ""; }

  function line(text) { var p = document.createElement("p"); p.textContent = text; pop.appendChild(p); }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function showPop(id) {
    var n = nodes[id], el = cy.getElementById(id);
    closePop();
    var close = document.createElement("button");
    close.type = "button"; close.className = "close"; close.textContent = "×"; close.title = "close";
    close.addEventListener("click", closePop);
    pop.appendChild(close);
    var h = document.createElement("h3"); h.textContent = n.label; pop.appendChild(h);
    line(n.kind + " · " + plural(n.n, "session"));
    if (n.kind === "team") {
      var servers = n.children.reduce(function (a, c) { return a + nodes[c].children.length; }, 0);
      line(plural(n.children.length, "project") + ", " + plural(servers, "server"));
    } else if (n.kind === "project") {
      line(plural(n.children.length, "server"));
    }
    if (n.detail) { line(n.detail); }
    if (n.pam === false) { line("not in Okta Privileged Access"); }
    if (n.link) {
      var a = document.createElement("a"); a.href = n.link; a.className = "list-link";
      a.textContent = "List its recordings"; pop.appendChild(a);
    }
    var p = el.renderedPosition();
    pop.style.left = Math.max(0, Math.min(p.x + 20, container.clientWidth - 220)) + "px";
    pop.style.top = Math.max(0, p.y + 16) + "px";
    pop.hidden = false;
    pop.dataset.node = id;
  }

  cy.on("tap", "node", function (ev) {
    var id = ev.target.id(), n = nodes[id];
    if (n.children.length) {
      if (open[id]) { delete open[id]; } else { open[id] = true; }
      draw(false);
    }
    showPop(id);
  });
  cy.on("tap", function (ev) { if (ev.target === cy) { closePop(); } });
  cy.on("pan zoom", function () { if (!pop.hidden) { closePop(); } });

  var matches = [], at = -1, lastQuery = "";
  var list = document.createElement("datalist");
  list.id = "graph-names";
  var seen = {};
  order.forEach(function (id) {
    var label = nodes[id].label;
    if (!seen[label]) { seen[label] = true; var o = document.createElement("option"); o.value = label; list.appendChild(o); }
  });
  document.body.appendChild(list);

  function find(query) {
    var q = query.trim().toLowerCase();
    if (!q) { return; }
    if (q !== lastQuery) {
      var exact = order.filter(function (id) { return nodes[id].label.toLowerCase() === q; });
      var part = order.filter(function (id) { var l = nodes[id].label.toLowerCase(); return l !== q && l.indexOf(q) >= 0; });
      matches = exact.concat(part); at = -1; lastQuery = q;
    }
    if (!matches.length) { status.textContent = "No team, project or server matches " + JSON.stringify(query) + "."; return; }
    at = (at + 1) % matches.length;
    var id = matches[at];
    for (var p = nodes[id].parent; p !== null; p = nodes[p].parent) { open[p] = true; }
    draw(false);
    var el = cy.getElementById(id);
    cy.elements().unselect();
    el.select();
    cy.zoom(1.2);
    cy.center(el);
    status.textContent = "match " + (at + 1) + " of " + matches.length + ": " + nodes[id].kind + " " + nodes[id].label;
    showPop(id);
  }

  document.getElementById("graph-search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    find(document.getElementById("graph-query").value);
  });
  document.getElementById("expand-all").addEventListener("click", function () {
    setAll(true, ["team", "project"]); closePop(); draw(true);
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    setAll(false, ["project"]); closePop(); draw(true);
  });
  document.getElementById("fit").addEventListener("click", function () { cy.fit(undefined, 20); });
  // Follow the theme: cytoscape draws on a canvas, so its colours are set from the CSS variables.
  new MutationObserver(function () { cy.style(style()); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });

  draw(true);
  container.dataset.ready = "1";
})();
