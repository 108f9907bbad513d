// Polls /api/status every second and fills the page. No framework, no
// build step: the server embeds this file.
"use strict";

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

function setText(id, text) { document.getElementById(id).textContent = text; }

function rows(tbody, items, cells) {
  tbody.replaceChildren(...items.map(item => {
    const tr = document.createElement("tr");
    for (const c of cells(item)) {
      const td = document.createElement("td");
      td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }));
}

const svgNS = "http://www.w3.org/2000/svg";

// partMap draws one rect per run of present parts, in a viewBox one unit
// per part.
function partMap(u) {
  const bits = atob(u.map);
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("class", "parts");
  svg.setAttribute("viewBox", `0 0 ${Math.max(u.map_parts, 1)} 1`);
  svg.setAttribute("preserveAspectRatio", "none");
  let present = 0;
  for (let i = 0; i < u.map_parts;) {
    if (!(bits.charCodeAt(i >> 3) & (1 << (i & 7)))) { i++; continue; }
    let j = i;
    while (j < u.map_parts && (bits.charCodeAt(j >> 3) & (1 << (j & 7)))) j++;
    const r = document.createElementNS(svgNS, "rect");
    r.setAttribute("x", i); r.setAttribute("y", 0);
    r.setAttribute("width", j - i); r.setAttribute("height", 1);
    svg.appendChild(r);
    present += j - i;
    i = j;
  }
  svg.dataset.present = present;
  return svg;
}

function uploads(list) {
  const box = document.getElementById("uploads");
  if (!list.length) {
    box.innerHTML = '<p class="none">none</p>';
    return;
  }
  box.replaceChildren(...list.map(u => {
    const div = document.createElement("div");
    div.className = "upload";
    div.dataset.id = u.id;
    div.dataset.parts = u.parts;
    const label = document.createElement("div");
    label.className = "label";
    const of = u.total ? ` of ${u.total}` : "";
    label.textContent = `${u.id} ${u.big ? "big" : "small"}: ${u.parts}${of} parts, ${bytes(u.bytes)}`;
    div.append(label, partMap(u));
    return div;
  }));
}

function chart(saved, served) {
  const peak = Math.max(1, ...saved, ...served);
  const points = s => s.map((v, i) => `${300 - s.length + i},${80 - 78 * v / peak}`).join(" ");
  document.getElementById("saved").setAttribute("points", points(saved));
  document.getElementById("served").setAttribute("points", points(served));
  const last = s => s.length ? bytes(s[s.length - 1]) + "/s" : "–";
  setText("savedrate", last(saved));
  setText("servedrate", last(served));
  setText("peak", bytes(peak) + "/s");
}

function render(s) {
  setText("updated", "updated " + new Date(s.now).toLocaleTimeString() + ", up since " + new Date(s.started).toLocaleString());
  setText("sessions", s.sessions);
  setText("authkeys", s.auth_keys_created);
  rows(document.querySelector("#connections tbody"), s.connections,
    c => [c.transport + (c.obfuscated ? " + obfuscated2" : ""), c.open, c.total]);
  const layers = Object.entries(s.layers).sort((a, b) => b[1] - a[1]);
  setText("layers", layers.length ? layers.map(([l, n]) => `${l} (${n})`).join(", ") : "none");
  const pct = s.temp_budget ? 100 * s.temp_bytes / s.temp_budget : 0;
  const bar = document.getElementById("tempbar");
  bar.style.width = Math.min(100, pct) + "%";
  bar.classList.toggle("full", pct > 90);
  setText("temp", `${bytes(s.temp_bytes)} of ${bytes(s.temp_budget)} (${pct.toFixed(1)}%)`);
  setText("tempparts", s.temp_parts);
  setText("uploadsopen", s.uploads_open);
  chart(s.saved_per_second, s.served_per_second);
  uploads(s.uploads);
  rows(document.querySelector("#errors tbody"), s.errors,
    e => [new Date(e.time).toLocaleTimeString(), e.method, e.code, e.message]);
}

async function poll() {
  try {
    const r = await fetch("/api/status", { cache: "no-store", credentials: "same-origin" });
    if (!r.ok) throw new Error(r.status + " " + r.statusText);
    render(await r.json());
  } catch (e) {
    setText("updated", "not updated: " + e.message);
  }
  setTimeout(poll, 1000);
}
poll();
