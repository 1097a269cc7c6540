// The attention viewer of exported pages: every head of every layer, drawn in the browser from
// the maps carried inline in the page (no kernel, no network). Plain JavaScript, no library.
//
// AttentionViewer.mount(root, data) draws into `root`. `data` (written by interactive.py):
//   tokens, segments: one entry per token; layers, heads, seq: the sizes;
//   included: the layers whose maps are carried (all, unless the text was too long);
//   weights: base64 of uint16 little-endian values, weight * 65535, in the order
//            (included layer, head, looking token, token looked at);
//   layer, head: the map to show first (counted from 0).
// Places, layers and heads are shown counted from 1, like the Python explorer.
(function () {
  "use strict";

  // The Python pictures' colour scale: white (0) to dark blue (top of the scale).
  const ANCHORS = [[255, 255, 255], [205, 225, 243], [115, 168, 216], [40, 96, 170],
                   [12, 36, 92]];
  const DIVIDER = "rgb(200,20,120)";
  const HIGHLIGHT = "rgb(230,90,20)";
  const INK = "#1f1f1f";
  const LABEL_FONT = "11px sans-serif";

  function colour(value) {  // value in [0, 1] -> [r, g, b]
    const t = Math.min(Math.max(value, 0), 1) * (ANCHORS.length - 1);
    const i = Math.min(Math.floor(t), ANCHORS.length - 2);
    const f = t - i;
    return ANCHORS[i].map((low, c) => Math.round(low + f * (ANCHORS[i + 1][c] - low)));
  }

  const LUT = new Uint8ClampedArray(256 * 4);  // colour(i / 255) as RGBA, for fast filling
  for (let i = 0; i < 256; i += 1) LUT.set([...colour(i / 255), 255], 4 * i);

  function paint(image, values, scale) {  // ImageData pixels <- colours of values * scale
    const out = image.data;
    for (let i = 0; i < values.length; i += 1) {
      const k = 4 * Math.min(255, Math.max(0, Math.round(values[i] * scale * 255)));
      out[4 * i] = LUT[k]; out[4 * i + 1] = LUT[k + 1]; out[4 * i + 2] = LUT[k + 2];
      out[4 * i + 3] = 255;
    }
  }

  function decode(base64) {  // -> Float32Array of weights in [0, 1]
    const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    const out = new Float32Array(bytes.length / 2);
    for (let i = 0; i < out.length; i += 1) out[i] = view.getUint16(2 * i, true) / 65535;
    return out;
  }

  function element(tag, attributes, parent) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value; else node.setAttribute(key, value);
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  function shortLabel(token) {
    return token.length <= 12 ? token : token.slice(0, 11) + "\u2026";
  }

  function mount(root, data) {
    const seq = data.seq;
    const weights = decode(data.weights);
    const size = seq * seq;
    const state = { layer: data.layer, head: data.head, scale: "shared", hover: null };
    const divider = data.segments.indexOf(1) > 0 ? data.segments.indexOf(1) : -1;

    function mapOf(layer, head) {  // Float32Array view of one (seq, seq) map, or null
      const slot = data.included.indexOf(layer);
      if (slot < 0) return null;
      const start = (slot * data.heads + head) * size;
      return weights.subarray(start, start + size);
    }

    function topOf(map) {  // the value drawn darkest
      if (state.scale === "shared") return 1;
      let top = 0;
      for (let i = 0; i < map.length; i += 1) top = Math.max(top, map[i]);
      return top || 1;
    }

    // ----- controls and readout -----------------------------------------------------------
    root.classList.add("attention-viewer");
    Object.assign(root.style, { background: "#fff", color: INK, padding: "4px 8px",
                                fontFamily: "sans-serif", overflowX: "auto",
                                maxWidth: "100%" });  // readable in dark themes too
    const controls = element("div", { class: "viewer-controls" }, root);
    const layerSelect = element("select", { class: "viewer-layer", "aria-label": "layer" });
    const headSelect = element("select", { class: "viewer-head", "aria-label": "head" });
    const scaleSelect = element("select", { class: "viewer-scale", "aria-label": "colours" });
    const modeSelect = element("select", { class: "viewer-mode", "aria-label": "draw as" });
    [["Layer ", layerSelect], [" Head ", headSelect], [" Colours ", scaleSelect],
     [" Draw as ", modeSelect]]
      .forEach(([label, select]) => {
        const wrap = element("label", { style: "margin-right:1em" }, controls);
        wrap.appendChild(document.createTextNode(label));
        wrap.appendChild(select);
      });
    for (let l = 0; l < data.layers; l += 1) {
      element("option", { value: l, text: String(l + 1) }, layerSelect);
    }
    for (let h = 0; h < data.heads; h += 1) {
      element("option", { value: h, text: String(h + 1) }, headSelect);
    }
    element("option", { value: "shared", text: "shared 0..1" }, scaleSelect);
    element("option", { value: "per-map", text: "per-map contrast" }, scaleSelect);
    element("option", { value: "heatmap", text: "heatmap" }, modeSelect);
    element("option", { value: "lines", text: "lines" }, modeSelect);
    const readout = element("div", { class: "viewer-readout", text: "\u00a0",
      style: "font-family:monospace;min-height:1.5em;margin:0.4em 0" }, root);
    const body = element("div", { class: "viewer-body",
      style: "display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start" }, root);

    // ----- the grid of thumbnails: click one to show it -----------------------------------
    const thumb = Math.max(16, Math.min(48, Math.floor(480 / data.heads) - 4));
    const pitch = thumb + 4;
    const thumbs = new Map();
    const gridCanvas = element("canvas", { class: "viewer-grid", title: "click a map" }, body);
    gridCanvas.width = 28 + data.heads * pitch;
    gridCanvas.height = 18 + data.layers * pitch;

    function drawGrid() {
      const g = gridCanvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, gridCanvas.width, gridCanvas.height);
      g.fillStyle = INK;
      g.font = LABEL_FONT;
      g.textAlign = "center";
      for (let h = 0; h < data.heads; h += 1) g.fillText(String(h + 1), 28 + h * pitch + thumb / 2, 12);
      g.textAlign = "right";
      for (let l = 0; l < data.layers; l += 1) g.fillText(String(l + 1), 22, 22 + l * pitch + thumb / 2);
      for (let l = 0; l < data.layers; l += 1) {
        for (let h = 0; h < data.heads; h += 1) {
          const x = 28 + h * pitch;
          const y = 18 + l * pitch;
          const map = mapOf(l, h);
          if (!map) { g.fillStyle = "#eee"; g.fillRect(x, y, thumb, thumb); continue; }
          const key = state.scale + " " + l + " " + h;  // each thumbnail computed once
          if (!thumbs.has(key)) thumbs.set(key, thumbnail(map, thumb, topOf(map)));
          g.putImageData(thumbs.get(key), x, y);
        }
      }
      g.strokeStyle = HIGHLIGHT;
      g.lineWidth = 2;
      g.strokeRect(27 + state.head * pitch, 17 + state.layer * pitch, thumb + 2, thumb + 2);
    }

    function thumbnail(map, n, top) {  // rows averaged, columns summed in blocks, like Python
      const image = new ImageData(n, n);
      for (let r = 0; r < n; r += 1) {
        const r0 = Math.floor((r * seq) / n);
        const r1 = Math.max(r0 + 1, Math.floor(((r + 1) * seq) / n));
        for (let c = 0; c < n; c += 1) {
          const c0 = Math.floor((c * seq) / n);
          const c1 = Math.max(c0 + 1, Math.floor(((c + 1) * seq) / n));
          let sum = 0;
          for (let i = r0; i < r1; i += 1) for (let j = c0; j < c1; j += 1) sum += map[i * seq + j];
          const [red, green, blue] = colour(sum / (r1 - r0) / top);
          const k = 4 * (r * n + c);
          image.data.set([red, green, blue, 255], k);
        }
      }
      return image;
    }

    gridCanvas.addEventListener("click", (event) => {
      const box = gridCanvas.getBoundingClientRect();
      const h = Math.floor((event.clientX - box.left - 28) / pitch);
      const l = Math.floor((event.clientY - box.top - 18) / pitch);
      if (h >= 0 && h < data.heads && l >= 0 && l < data.layers) select(l, h);
    });

    // ----- one map, with labels, colour bar and hover --------------------------------------
    const cell = Math.max(1, Math.min(24, Math.floor(560 / seq)));
    const step = Math.max(1, Math.ceil(11 / cell));  // show every step-th label
    const measure = document.createElement("canvas").getContext("2d");
    measure.font = LABEL_FONT;
    const labels = data.tokens.map((t, i) => (step > 1 ? (i + 1) + " " : "") + shortLabel(t));
    const labelRoom = 8 + Math.max(...labels.map((t) => measure.measureText(t).width));
    const left = Math.ceil(labelRoom);
    const top = Math.ceil(labelRoom) + 4;
    const extent = seq * cell;
    const stack = element("div", { class: "viewer-map", style: "position:relative" }, body);
    const mapCanvas = element("canvas", {}, stack);
    const hoverCanvas = element("canvas", { style: "position:absolute;left:0;top:0" }, stack);
    mapCanvas.width = hoverCanvas.width = left + extent + 70;
    mapCanvas.height = hoverCanvas.height = top + Math.max(extent, 100) + 8;
    // Where things are, for tests and tools: the map's cell size and margins, the grid's pitch.
    Object.assign(stack.dataset, { cell: cell, left: left, top: top });
    Object.assign(gridCanvas.dataset, { pitch: pitch, left: 28, top: 18 });
    const pixels = document.createElement("canvas");  // one pixel per cell, scaled up crisply
    pixels.width = pixels.height = seq;

    function drawMap() {
      const g = mapCanvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, mapCanvas.width, mapCanvas.height);
      const map = mapOf(state.layer, state.head);
      g.fillStyle = INK;
      g.font = LABEL_FONT;
      if (!map) {
        g.fillText("This layer is not in the export (the text was long): choose another.", 4, 20);
        return;
      }
      const peak = topOf(map);
      const image = new ImageData(seq, seq);
      paint(image, map, 1 / peak);
      pixels.getContext("2d").putImageData(image, 0, 0);
      g.imageSmoothingEnabled = false;
      g.drawImage(pixels, left, top, extent, extent);
      g.textBaseline = "middle";
      g.textAlign = "right";
      for (let i = 0; i < seq; i += step) g.fillText(labels[i], left - 4, top + i * cell + cell / 2);
      g.save();
      g.rotate(-Math.PI / 2);
      g.textAlign = "left";
      for (let i = 0; i < seq; i += step) g.fillText(labels[i], -(top - 4), left + i * cell + cell / 2);
      g.restore();
      if (divider > 0) {
        g.strokeStyle = DIVIDER;
        g.lineWidth = 2;
        g.beginPath();
        g.moveTo(left - 4, top + divider * cell); g.lineTo(left + extent, top + divider * cell);
        g.moveTo(left + divider * cell, top - 4); g.lineTo(left + divider * cell, top + extent);
        g.stroke();
      }
      drawBar(g, left + extent + 14, top, Math.max(extent, 100), peak);
    }

    function drawBar(g, x, y, height, peak) {
      for (let i = 0; i < height; i += 1) {
        g.fillStyle = "rgb(" + colour(1 - i / (height - 1)).join(",") + ")";
        g.fillRect(x, y + i, 10, 1);
      }
      g.strokeStyle = INK;
      g.lineWidth = 1;
      g.strokeRect(x + 0.5, y + 0.5, 10, height - 1);
      g.fillStyle = INK;
      g.textAlign = "left";
      g.textBaseline = "middle";
      [1, 0.5, 0].forEach((t) => {
        g.fillText(Number((t * peak).toPrecision(2)).toString(), x + 14, y + (1 - t) * (height - 1));
      });
    }

    function drawHover() {
      const g = hoverCanvas.getContext("2d");
      g.clearRect(0, 0, hoverCanvas.width, hoverCanvas.height);
      if (!state.hover) return;
      const [r, c] = state.hover;
      g.strokeStyle = HIGHLIGHT;
      g.lineWidth = 1;
      g.strokeRect(left - 0.5, top + r * cell - 0.5, extent + 1, cell + 1);
      g.strokeRect(left + c * cell - 0.5, top - 0.5, cell + 1, extent + 1);
      g.lineWidth = 2;
      g.strokeRect(left + c * cell - 1, top + r * cell - 1, cell + 2, cell + 2);
    }

    hoverCanvas.addEventListener("mousemove", (event) => {
      const box = hoverCanvas.getBoundingClientRect();
      const c = Math.floor((event.clientX - box.left - left) / cell);
      const r = Math.floor((event.clientY - box.top - top) / cell);
      const map = mapOf(state.layer, state.head);
      if (!map || r < 0 || c < 0 || r >= seq || c >= seq) {
        state.hover = null;
        readout.textContent = "\u00a0";
      } else {
        state.hover = [r, c];
        readout.textContent = "layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": '"
          + data.tokens[r] + "' (" + (r + 1) + ") \u2192 '" + data.tokens[c] + "' (" + (c + 1)
          + "): " + map[r * seq + c].toFixed(4);
      }
      drawHover();
    });
    hoverCanvas.addEventListener("mouseleave", () => {
      state.hover = null;
      readout.textContent = "\u00a0";
      drawHover();
    });

    // ----- the same map as lines between two token columns (weight = opacity) ------------
    const MAX_LINES_SEQ = 160;  // beyond this the lines are a solid block: use the heatmap
    const rowH = 18;
    const gap = 170;  // px between the two columns
    const lineLabels = data.tokens.map((t, i) => (i + 1) + " " + shortLabel(t));
    const lineRoom = Math.ceil(8 + Math.max(...lineLabels.map((t) => measure.measureText(t).width)));
    const linesCanvas = element("canvas", { class: "viewer-lines", style: "display:none" }, body);
    linesCanvas.width = 2 * lineRoom + gap + 8;
    linesCanvas.height = 24 + Math.min(seq, MAX_LINES_SEQ) * rowH;
    Object.assign(linesCanvas.dataset, { rowHeight: rowH, top: 24, left: lineRoom });

    function drawLines(focus) {  // focus: the looking token to show alone, or null
      const g = linesCanvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, linesCanvas.width, linesCanvas.height);
      g.fillStyle = INK;
      g.font = LABEL_FONT;
      const map = mapOf(state.layer, state.head);
      if (!map || seq > MAX_LINES_SEQ) {
        g.fillText(map ? "Too many tokens for lines: use the heatmap." :
          "This layer is not in the export.", 4, 16);
        return;
      }
      const peak = topOf(map);
      g.fillText("looking token", 4, 12);
      g.textAlign = "right";
      g.fillText("token looked at", linesCanvas.width - 4, 12);
      const y = (i) => 24 + i * rowH + rowH / 2;
      const x0 = lineRoom + 2;
      const x1 = lineRoom + gap - 2;
      g.lineWidth = 2;
      for (let i = 0; i < seq; i += 1) {
        if (focus !== null && i !== focus) continue;
        for (let j = 0; j < seq; j += 1) {
          const alpha = map[i * seq + j] / peak;
          if (alpha < 0.01) continue;
          g.strokeStyle = "rgba(40,96,170," + Math.min(alpha, 1).toFixed(3) + ")";
          g.beginPath();
          g.moveTo(x0, y(i));
          g.lineTo(x1, y(j));
          g.stroke();
        }
      }
      g.textBaseline = "middle";
      for (let i = 0; i < seq; i += 1) {
        g.font = (i === focus ? "bold " : "") + LABEL_FONT;
        g.fillStyle = i === focus ? HIGHLIGHT : INK;
        g.textAlign = "right";
        g.fillText(lineLabels[i], lineRoom - 4, y(i));
        g.fillStyle = INK;
        g.textAlign = "left";
        g.font = LABEL_FONT;
        g.fillText(lineLabels[i], lineRoom + gap + 4, y(i));
      }
      if (divider > 0) {
        g.strokeStyle = DIVIDER;
        g.lineWidth = 1;
        g.beginPath();
        g.moveTo(0, 24 + divider * rowH); g.lineTo(lineRoom, 24 + divider * rowH);
        g.moveTo(lineRoom + gap, 24 + divider * rowH);
        g.lineTo(linesCanvas.width, 24 + divider * rowH);
        g.stroke();
      }
    }

    linesCanvas.addEventListener("mousemove", (event) => {
      const box = linesCanvas.getBoundingClientRect();
      const i = Math.floor((event.clientY - box.top - 24) / rowH);
      const map = mapOf(state.layer, state.head);
      if (!map || seq > MAX_LINES_SEQ || i < 0 || i >= seq) return;
      let best = 0;
      for (let j = 1; j < seq; j += 1) if (map[i * seq + j] > map[i * seq + best]) best = j;
      readout.textContent = "layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": '"
        + data.tokens[i] + "' (" + (i + 1) + ") looks most at '" + data.tokens[best] + "' ("
        + (best + 1) + "): " + map[i * seq + best].toFixed(4);
      drawLines(i);
    });
    linesCanvas.addEventListener("mouseleave", () => {
      readout.textContent = "\u00a0";
      drawLines(null);
    });

    function select(layer, head) {
      state.layer = layer;
      state.head = head;
      layerSelect.value = String(layer);
      headSelect.value = String(head);
      drawGrid();
      drawMap();
      drawHover();
      drawLines(null);
    }

    layerSelect.addEventListener("change", () => select(Number(layerSelect.value), state.head));
    headSelect.addEventListener("change", () => select(state.layer, Number(headSelect.value)));
    scaleSelect.addEventListener("change", () => {
      state.scale = scaleSelect.value;
      select(state.layer, state.head);
    });
    modeSelect.addEventListener("change", () => {
      const lines = modeSelect.value === "lines";
      stack.style.display = lines ? "none" : "block";
      linesCanvas.style.display = lines ? "block" : "none";
      select(state.layer, state.head);
    });
    select(state.layer, state.head);
  }

  window.AttentionViewer = { mount: mount };
})();
