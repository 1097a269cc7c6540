// The attention viewer: every head of every layer, drawn in the browser from maps computed in
// Python (no kernel round trip for a hover or a click, no network). Plain JavaScript, no library.
// The same code draws the notebook's live view (anywidget, live.py) and the exported pages.
//
// AttentionViewer.mount(root, data, options) draws into `root` and returns {select, state}.
// `data` (written by interactive.py):
//   tokens, segments: one entry per token; layers, heads, seq: the sizes;
//   included: the layers whose full maps are carried (all, unless the text was long);
//   weights: uint16 little-endian values, weight * 65535, in the order (included layer, head,
//            looking token, token looked at): base64 text, or bytes (a DataView) from anywidget;
//   thumbs, thumb: every layer's maps shrunk to thumb x thumb (rows averaged, columns summed),
//                  same encoding, for the grid when a layer's full maps are not carried;
//   layer, head: the map to show first (counted from 0); note: a remark to show (a cut text);
//   qk, qk_layer, head_size (optional): the queries then the keys of every head of layer
//            qk_layer, float32 little-endian, (heads, seq, head_size) each, for the
//            query/key view.
// options: parts ("all": grid of every layer + one map; "layer": the heads of one layer + one
//   map; "head": one map), state (a previous viewer's state, kept across new data),
//   onSelect(layer, head) (told of every choice), request(layer) (asked for a layer whose maps
//   are not here yet; without it such a layer is said to be missing), requestQK(layer) (asked
//   for a layer's queries and keys; without it, and without data.qk, no query/key view).
// Places, layers and heads are shown counted from 1, like the Python explorer.
(function install() {
  "use strict";

  // The Python pictures' colour scale: white (0) to dark blue (top of the scale).
  const ANCHORS = [[255, 255, 255], [205, 225, 243], [115, 168, 216], [40, 96, 170],
                   [12, 36, 92]];
  // One colour per head when several heads' lines are overlaid (dark enough on white).
  const HEAD_COLOURS = ["#1f5fa8", "#c0392b", "#1e8449", "#8e44ad", "#b9770e", "#117a8b",
                        "#a93226", "#2e4053", "#7d6608", "#6c3483", "#0e6655", "#784212"];
  const DIVIDER = "rgb(200,20,120)";
  const HIGHLIGHT = "rgb(230,90,20)";
  const INK = "#1f1f1f";
  const LABEL_FONT = "11px sans-serif";
  const MAP_EXTENT = 560;  // px: a map's side at zoom 1, before labels
  const CAPTION = 16;  // px: the line above a map that says what it shows
  const MAX_LINES_SEQ = 160;  // beyond this the lines are a solid block: use the heatmap
  const ZOOMS = [1, 2, 4, 8];
  const SOURCE = "(" + install.toString() + ")();";  // this file's code, for the HTML export

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

  function bytesOf(input) {  // base64 text, DataView, ArrayBuffer or typed array -> Uint8Array
    if (!input) return new Uint8Array(0);
    if (typeof input === "string") {
      const text = atob(input);
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i += 1) out[i] = text.charCodeAt(i);
      return out;
    }
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }

  const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  function decode(bytes) {  // uint16 little-endian bytes -> Float32Array of weights in [0, 1]
    const count = bytes.byteLength >> 1;
    const out = new Float32Array(count);
    if (LITTLE_ENDIAN) {  // read the numbers in place (copied first when not 2-byte aligned)
      const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
      const raw = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      for (let i = 0; i < count; i += 1) out[i] = raw[i] / 65535;
      return out;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i += 1) out[i] = view.getUint16(2 * i, true) / 65535;
    return out;
  }

  function base64Of(bytes) {  // Uint8Array -> base64 text, in chunks (no call-stack overflow)
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
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

  function saveFile(name, blob) {  // a real browser download, no server behind it
    const url = URL.createObjectURL(blob);
    const link = element("a", { href: url, download: name, style: "display:none" }, document.body);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function scriptSafe(json) {  // JSON that cannot end the <script> element it sits in
    return json.replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
  }

  function pageHtml(data, title) {  // a standalone page: this viewer's code and the maps inline
    const end = "<" + "/script>";
    const safeTitle = title.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
      + safeTitle + "</title>\n</head>\n<body style=\"font-family:sans-serif;margin:1.5em\">\n<h1>"
      + safeTitle + "</h1>\n<div id=\"attention-viewer\"></div>\n<script>\n" + SOURCE + "\n"
      + end + "\n<script>\nAttentionViewer.mount(document.getElementById('attention-viewer'), "
      + scriptSafe(JSON.stringify(data)) + ");\n" + end + "\n</body>\n</html>\n";
  }

  function mount(root, data, options) {
    options = options || {};
    const parts = options.parts || data.parts || "all";
    const seq = data.seq;
    const weightBytes = bytesOf(data.weights);
    const weights = decode(weightBytes);
    const thumbBytes = bytesOf(data.thumbs);
    const thumbValues = thumbBytes.length ? decode(thumbBytes) : null;
    const size = seq * seq;
    const qkBytes = bytesOf(data.qk);
    const qkValues = qkBytes.length ? new Float32Array(qkBytes.slice().buffer) : null;
    const hasQK = Boolean(qkValues || options.requestQK);
    const kept = options.state || {};
    const state = { layer: data.layer, head: data.head, scale: kept.scale || "shared",
                    mode: kept.mode || "heatmap", zoom: kept.zoom || 1, hover: null,
                    focus: kept.focus !== undefined ? Math.min(kept.focus, seq - 1) : 0,
                    pinned: kept.pinned || false,
                    shown: new Set(kept.shown ? [...kept.shown].filter((h) => h < data.heads)
                                              : [data.head]) };
    if ((parts === "head" && state.mode === "focus") || (state.mode === "qk" && !hasQK)) {
      state.mode = "heatmap";
    }
    const divider = data.segments.indexOf(1) > 0 ? data.segments.indexOf(1) : -1;
    const place = (i) => "'" + data.tokens[i] + "' (" + (i + 1) + ")";

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

    function missing(layer) {  // what to say (and ask for) when a layer's maps are not here
      if (options.request) {
        options.request(layer);
        return "Loading layer " + (layer + 1) + "\u2026";
      }
      return "Layer " + (layer + 1) + " is not in this page (the text was long): choose another.";
    }

    // ----- controls, note and readout ------------------------------------------------------
    root.classList.add("attention-viewer");
    Object.assign(root.style, { background: "#fff", color: INK, padding: "4px 8px",
                                fontFamily: "sans-serif", maxWidth: "100%", overflowX: "auto",
                                boxSizing: "border-box" });  // readable in dark themes too
    // The width there is to draw in (a notebook beside a file browser may leave 450 px).
    const room = Math.max(320, root.clientWidth || (root.parentElement || {}).clientWidth || 900);
    const controls = element("div", { class: "viewer-controls",
      style: "display:flex;flex-wrap:wrap;gap:4px 1em;align-items:center" }, root);
    function labelled(text, node) {
      const wrap = element("label", {}, controls);
      wrap.appendChild(document.createTextNode(text + " "));
      wrap.appendChild(node);
      return node;
    }
    const layerSelect = labelled("Layer", element("select", { class: "viewer-layer",
                                                             "aria-label": "layer" }));
    const headSelect = labelled("Head", element("select", { class: "viewer-head",
                                                           "aria-label": "head" }));
    const scaleSelect = labelled("Colours", element("select", { class: "viewer-scale",
                                                               "aria-label": "colours" }));
    const modeSelect = labelled("Draw as", element("select", { class: "viewer-mode",
                                                              "aria-label": "draw as" }));
    const zoomSelect = labelled("Zoom", element("select", { class: "viewer-zoom",
                                                           "aria-label": "zoom" }));
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
    if (parts !== "head") element("option", { value: "focus", text: "token focus" }, modeSelect);
    if (hasQK) element("option", { value: "qk", text: "query/key" }, modeSelect);
    ZOOMS.forEach((z) => element("option", { value: z, text: z + "x" }, zoomSelect));
    const buttonStyle = "background:#eef0f3;color:#1f1f1f;border:1px solid #8a8f98;"
      + "border-radius:3px;padding:1px 8px;cursor:pointer";
    const pngButton = element("button", { class: "viewer-save-png", type: "button",
      text: "\u2913 PNG", style: buttonStyle, title: "download a picture of this view" },
      controls);
    const htmlButton = element("button", { class: "viewer-save-html", type: "button",
      text: "\u2913 HTML page", style: buttonStyle,
      title: "download a page with this viewer and these maps (works offline)" }, controls);
    if (data.note) {
      element("div", { class: "viewer-note", text: data.note, style: "background:#fff4ce;"
        + "color:#1f1f1f;border-left:4px solid #b9770e;padding:2px 6px;margin:4px 0" }, root);
    }
    const readout = element("div", { class: "viewer-readout", text: "\u00a0",
      style: "font-family:monospace;min-height:1.5em;margin:0.4em 0;white-space:pre-wrap" },
      root);
    const body = element("div", { class: "viewer-body",
      style: "display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start" }, root);
    const measure = document.createElement("canvas").getContext("2d");
    measure.font = LABEL_FONT;

    // ----- the grid of thumbnails: click one to enlarge it beside the grid ------------------
    // "all": one row per layer, one column per head. "layer": the heads of the chosen layer,
    // larger, a few to a row, each named above.
    const gridCanvas = element("canvas", { class: "viewer-grid", title: "click a map" }, body);
    const perRow = parts === "layer" ? (data.heads <= 4 ? data.heads : Math.ceil(data.heads / 3))
      : data.heads;
    const gridRoom = Math.min(room - 48, 520);
    const thumb = parts === "layer"
      ? Math.max(48, Math.min(112, Math.floor(gridRoom / perRow) - 8))
      : Math.max(16, Math.min(48, Math.floor((gridRoom - 28) / data.heads) - 4));
    const grid = parts === "layer"
      ? { left: 4, top: 16, pitchX: thumb + 8, pitchY: thumb + 18 }
      : { left: 28, top: 18, pitchX: thumb + 4, pitchY: thumb + 4 };
    const gridRows = parts === "layer" ? Math.ceil(data.heads / perRow) : data.layers;
    gridCanvas.width = grid.left + perRow * grid.pitchX;
    gridCanvas.height = grid.top + gridRows * grid.pitchY;
    if (parts === "head") gridCanvas.style.display = "none";
    Object.assign(gridCanvas.dataset, { pitch: grid.pitchX, pitchY: grid.pitchY,
                                        left: grid.left, top: grid.top, perRow: perRow });
    const thumbs = new Map();
    const scratch = document.createElement("canvas");

    function slotOf(layer, head) {  // the grid cell (column, row) of a map
      return parts === "layer" ? [head % perRow, Math.floor(head / perRow)] : [head, layer];
    }

    function drawGrid() {
      if (parts === "head") return;
      const g = gridCanvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, gridCanvas.width, gridCanvas.height);
      g.fillStyle = INK;
      g.font = LABEL_FONT;
      g.textAlign = "center";
      if (parts === "all") {
        for (let h = 0; h < data.heads; h += 1) {
          g.fillText(String(h + 1), grid.left + h * grid.pitchX + thumb / 2, 12);
        }
        g.textAlign = "right";
        for (let l = 0; l < data.layers; l += 1) {
          g.fillText(String(l + 1), 22, grid.top + 4 + l * grid.pitchY + thumb / 2);
        }
      }
      const layers = parts === "layer" ? [state.layer] : [...Array(data.layers).keys()];
      layers.forEach((l) => {
        for (let h = 0; h < data.heads; h += 1) {
          const [col, row] = slotOf(l, h);
          const x = grid.left + col * grid.pitchX;
          const y = grid.top + row * grid.pitchY;
          if (parts === "layer") {
            g.fillStyle = INK;
            g.textAlign = "left";
            g.fillText("head " + (h + 1), x, y - 4);
          }
          const image = thumbnailOf(l, h);
          if (!image) { g.fillStyle = "#e4e6ea"; g.fillRect(x, y, thumb, thumb); continue; }
          scratch.width = image.width;
          scratch.height = image.height;
          scratch.getContext("2d").putImageData(image, 0, 0);
          g.imageSmoothingEnabled = false;
          g.drawImage(scratch, x, y, thumb, thumb);
        }
      });
      const [col, row] = slotOf(state.layer, state.head);
      g.strokeStyle = HIGHLIGHT;
      g.lineWidth = 2;
      g.strokeRect(grid.left - 1 + col * grid.pitchX, grid.top - 1 + row * grid.pitchY,
                   thumb + 2, thumb + 2);
    }

    function thumbnailOf(layer, head) {  // ImageData of a thumbnail, computed once per scale
      const key = state.scale + " " + layer + " " + head;
      if (thumbs.has(key)) return thumbs.get(key);
      let image = null;
      const map = mapOf(layer, head);
      if (map) {
        image = shrink(map, seq, Math.min(thumb, seq));
      } else if (thumbValues) {
        const n = data.thumb;
        const start = (layer * data.heads + head) * n * n;
        image = shrink(thumbValues.subarray(start, start + n * n), n, n);
      }
      thumbs.set(key, image);
      return image;
    }

    function shrink(map, side, n) {  // rows averaged, columns summed in blocks, like Python
      const image = new ImageData(n, n);
      const values = new Float32Array(n * n);
      for (let r = 0; r < n; r += 1) {
        const r0 = Math.floor((r * side) / n);
        const r1 = Math.max(r0 + 1, Math.floor(((r + 1) * side) / n));
        for (let c = 0; c < n; c += 1) {
          const c0 = Math.floor((c * side) / n);
          const c1 = Math.max(c0 + 1, Math.floor(((c + 1) * side) / n));
          let sum = 0;
          for (let i = r0; i < r1; i += 1) for (let j = c0; j < c1; j += 1) sum += map[i * side + j];
          values[r * n + c] = sum / (r1 - r0);
        }
      }
      paint(image, values, 1 / topOf(values));
      return image;
    }

    gridCanvas.addEventListener("click", (event) => {
      const box = gridCanvas.getBoundingClientRect();
      const col = Math.floor((event.clientX - box.left - grid.left) / grid.pitchX);
      const row = Math.floor((event.clientY - box.top - grid.top) / grid.pitchY);
      if (col < 0 || col >= perRow || row < 0 || row >= gridRows) return;
      if (parts === "layer") {
        const h = row * perRow + col;
        if (h < data.heads) select(state.layer, h);
      } else {
        select(row, col);
      }
    });

    // ----- one map as a heatmap, with labels, colour bar, hover and zoom -------------------
    const scroller = element("div", { class: "viewer-scroll",
      style: "max-width:100%;max-height:760px;overflow:auto" }, body);
    const stack = element("div", { class: "viewer-map", style: "position:relative" }, scroller);
    const mapCanvas = element("canvas", {}, stack);
    const hoverCanvas = element("canvas", { style: "position:absolute;left:0;top:0" }, stack);
    const pixels = document.createElement("canvas");  // one pixel per cell, scaled up crisply
    pixels.width = pixels.height = seq;
    const mapRoom = Math.max(160, Math.min(MAP_EXTENT, room - 200));  // less labels and bar
    const baseCell = Math.max(1, Math.min(24, Math.floor(mapRoom / seq)));
    const geometry = {};

    function layoutMap() {  // cell size, label step and margins for the current zoom
      const cell = baseCell * state.zoom;
      const step = Math.max(1, Math.ceil(11 / cell));  // show every step-th label
      const labels = data.tokens.map((t, i) => (step > 1 ? (i + 1) + " " : "") + shortLabel(t));
      const margin = Math.ceil(8 + Math.max(...labels.map((t) => measure.measureText(t).width)));
      const top = margin + 4 + CAPTION;
      Object.assign(geometry, { cell, step, labels, left: margin, top: top,
                                extent: seq * cell });
      mapCanvas.width = hoverCanvas.width = Math.max(margin + geometry.extent + 70,
                                                     Math.ceil(measure.measureText(
                                                       caption()).width * 1.15) + 8);
      mapCanvas.height = hoverCanvas.height = top + Math.max(geometry.extent, 100) + 8;
      // Where things are, for tests and tools: the map's cell size and margins.
      Object.assign(stack.dataset, { cell: cell, left: margin, top: top });
    }

    function caption() {  // what the map shows, above it
      return "Layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": rows = looking "
        + "token (query), columns = token looked at (key)";
    }

    function drawMap() {
      const { cell, step, labels, left, top, extent } = geometry;
      const g = mapCanvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, mapCanvas.width, mapCanvas.height);
      const map = mapOf(state.layer, state.head);
      g.fillStyle = INK;
      g.font = LABEL_FONT;
      if (!map) {
        g.fillText(missing(state.layer), 4, 20);
        return;
      }
      g.font = "bold " + LABEL_FONT;
      g.textBaseline = "middle";
      g.textAlign = "left";
      g.fillText(caption(), 4, CAPTION / 2);
      g.font = LABEL_FONT;
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
      const { cell, left, top, extent } = geometry;
      const g = hoverCanvas.getContext("2d");
      g.clearRect(0, 0, hoverCanvas.width, hoverCanvas.height);
      drawStickyLabels(g);
      if (!state.hover) return;
      const [r, c] = state.hover;
      g.strokeStyle = HIGHLIGHT;
      g.lineWidth = 1;
      g.strokeRect(left - 0.5, top + r * cell - 0.5, extent + 1, cell + 1);
      g.strokeRect(left + c * cell - 0.5, top - 0.5, cell + 1, extent + 1);
      g.lineWidth = 2;
      g.strokeRect(left + c * cell - 1, top + r * cell - 1, cell + 2, cell + 2);
    }

    function drawStickyLabels(g) {  // a zoomed map scrolled away from its labels keeps them
      const { cell, step, labels, left, top, extent } = geometry;
      const x = scroller.scrollLeft;
      const y = scroller.scrollTop;
      g.font = LABEL_FONT;
      g.textBaseline = "middle";
      if (x > 0) {
        g.fillStyle = "rgba(255,255,255,0.92)";
        g.fillRect(x, top, left, extent);
        g.fillStyle = INK;
        g.textAlign = "right";
        for (let i = 0; i < seq; i += step) g.fillText(labels[i], x + left - 4, top + i * cell + cell / 2);
      }
      if (y > 0) {
        g.fillStyle = "rgba(255,255,255,0.92)";
        g.fillRect(left, y, extent, top);
        g.save();
        g.rotate(-Math.PI / 2);
        g.fillStyle = INK;
        g.textAlign = "left";
        for (let i = 0; i < seq; i += step) g.fillText(labels[i], -(y + top - 4), left + i * cell + cell / 2);
        g.restore();
      }
      if (x > 0 && y > 0) { g.fillStyle = "#fff"; g.fillRect(x, y, left, top); }
    }

    scroller.addEventListener("scroll", () => drawHover());

    hoverCanvas.addEventListener("mousemove", (event) => {
      const { cell, left, top } = geometry;
      const box = hoverCanvas.getBoundingClientRect();
      const c = Math.floor((event.clientX - box.left - left) / cell);
      const r = Math.floor((event.clientY - box.top - top) / cell);
      const map = mapOf(state.layer, state.head);
      if (!map || r < 0 || c < 0 || r >= seq || c >= seq) {
        state.hover = null;
        readout.textContent = "\u00a0";
      } else {
        state.hover = [r, c];
        readout.textContent = "layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": "
          + place(r) + " \u2192 " + place(c) + ": " + map[r * seq + c].toFixed(4);
      }
      drawHover();
    });
    hoverCanvas.addEventListener("mouseleave", () => {
      state.hover = null;
      readout.textContent = "\u00a0";
      drawHover();
    });

    // ----- lines between two token columns, several heads overlaid (weight = opacity) -----
    const linesPanel = element("div", { class: "viewer-lines-panel", style: "display:none" },
                               body);
    const toggles = element("div", { class: "viewer-head-toggles",
      style: "display:flex;flex-wrap:wrap;gap:2px 10px;margin-bottom:4px;max-width:560px" },
      linesPanel);
    const toggleBoxes = [];
    for (let h = 0; h < data.heads; h += 1) {
      const wrap = element("label", { style: "color:" + HEAD_COLOURS[h % HEAD_COLOURS.length]
        + ";font-weight:bold;white-space:nowrap" }, toggles);
      const box = element("input", { type: "checkbox", class: "viewer-toggle",
                                     "data-head": h }, wrap);
      wrap.appendChild(document.createTextNode(" head " + (h + 1)));
      box.addEventListener("change", () => {
        if (box.checked) state.shown.add(h); else state.shown.delete(h);
        drawLines(null);
      });
      toggleBoxes.push(box);
    }
    const rowH = 18;
    const gap = 170;  // px between the two columns
    const lineLabels = data.tokens.map((t, i) => (i + 1) + " " + shortLabel(t));
    const lineRoom = Math.ceil(8 + Math.max(...lineLabels.map((t) => measure.measureText(t).width)));
    const linesCanvas = element("canvas", { class: "viewer-lines" }, linesPanel);
    linesCanvas.width = 2 * lineRoom + gap + 8;
    linesCanvas.height = 24 + Math.min(seq, MAX_LINES_SEQ) * rowH;
    Object.assign(linesCanvas.dataset, { rowHeight: rowH, top: 24, left: lineRoom,
                                         right: lineRoom + gap });

    function shownHeads() {  // the heads whose lines are drawn, in order
      return [...state.shown].filter((h) => h < data.heads).sort((a, b) => a - b);
    }

    function drawLines(focus) {  // focus: [side, token] to show alone ("from" or "to"), or null
      const g = linesCanvas.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, linesCanvas.width, linesCanvas.height);
      g.fillStyle = INK;
      g.font = LABEL_FONT;
      if (!mapOf(state.layer, 0) || seq > MAX_LINES_SEQ) {
        g.fillText(mapOf(state.layer, 0) ? "Too many tokens for lines: use the heatmap."
          : missing(state.layer), 4, 16);
        return;
      }
      g.fillText("looking token", 4, 12);
      g.textAlign = "right";
      g.fillText("token looked at", linesCanvas.width - 4, 12);
      const y = (i) => 24 + i * rowH + rowH / 2;
      const x0 = lineRoom + 2;
      const x1 = lineRoom + gap - 2;
      g.lineWidth = 2;
      shownHeads().forEach((h) => {
        const map = mapOf(state.layer, h);
        const peak = topOf(map);
        g.strokeStyle = HEAD_COLOURS[h % HEAD_COLOURS.length];
        for (let i = 0; i < seq; i += 1) {
          if (focus && focus[0] === "from" && i !== focus[1]) continue;
          for (let j = 0; j < seq; j += 1) {
            if (focus && focus[0] === "to" && j !== focus[1]) continue;
            const alpha = map[i * seq + j] / peak;
            if (alpha < 0.01) continue;
            g.globalAlpha = Math.min(alpha, 1);
            g.beginPath();
            g.moveTo(x0, y(i));
            g.lineTo(x1, y(j));
            g.stroke();
          }
        }
      });
      g.globalAlpha = 1;
      g.textBaseline = "middle";
      for (let i = 0; i < seq; i += 1) {
        const from = focus && focus[0] === "from" && focus[1] === i;
        const to = focus && focus[0] === "to" && focus[1] === i;
        g.font = (from ? "bold " : "") + LABEL_FONT;
        g.fillStyle = from ? HIGHLIGHT : INK;
        g.textAlign = "right";
        g.fillText(lineLabels[i], lineRoom - 4, y(i));
        g.font = (to ? "bold " : "") + LABEL_FONT;
        g.fillStyle = to ? HIGHLIGHT : INK;
        g.textAlign = "left";
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

    function strongest(values, count) {  // indices of the largest values, largest first
      return [...values.keys()].sort((a, b) => values[b] - values[a] || a - b).slice(0, count);
    }

    linesCanvas.addEventListener("mousemove", (event) => {
      const box = linesCanvas.getBoundingClientRect();
      const i = Math.floor((event.clientY - box.top - 24) / rowH);
      const x = event.clientX - box.left;
      if (!mapOf(state.layer, 0) || seq > MAX_LINES_SEQ || i < 0 || i >= seq) return;
      const side = x > lineRoom + gap / 2 ? "to" : "from";
      readout.textContent = shownHeads().map((h) => {
        const map = mapOf(state.layer, h);
        const line = new Float32Array(seq);
        for (let k = 0; k < seq; k += 1) line[k] = side === "from" ? map[i * seq + k] : map[k * seq + i];
        const best = strongest(line, 1)[0];
        return "layer " + (state.layer + 1) + ", head " + (h + 1) + ": " + (side === "from"
          ? place(i) + " looks most at " + place(best)
          : place(i) + " is looked at most by " + place(best)) + ": " + line[best].toFixed(4);
      }).join("\n") || "\u00a0";
      drawLines([side, i]);
    });
    linesCanvas.addEventListener("mouseleave", () => {
      readout.textContent = "\u00a0";
      drawLines(null);
    });

    // ----- token focus: what one token looks at, and what looks at it, in every head -------
    const focusPanel = element("div", { class: "viewer-focus", style: "display:none;"
      + "max-width:100%" }, body);
    element("div", { text: "Hover a token to see it; click to keep it.",
                     style: "margin-bottom:2px" }, focusPanel);
    const chips = element("div", { class: "viewer-tokens", style: "display:flex;flex-wrap:wrap;"
      + "gap:2px;max-width:760px;max-height:120px;overflow:auto;margin-bottom:6px" },
      focusPanel);
    const chipNodes = data.tokens.map((t, i) => {
      const chip = element("span", { class: "viewer-token", "data-position": i,
        text: (i + 1) + "\u00a0" + t, style: "border:1px solid #8a8f98;border-radius:3px;"
        + "padding:0 3px;cursor:pointer;background:#fff;color:#1f1f1f" }, chips);
      chip.addEventListener("mouseenter", () => { if (!state.pinned) setFocus(i); });
      chip.addEventListener("click", () => {
        state.pinned = !(state.pinned && state.focus === i);
        setFocus(i);
      });
      return chip;
    });
    const focusCanvases = ["from", "to"].map((side) => {
      const canvas = element("canvas", { class: "viewer-focus-" + side }, focusPanel);
      canvas.addEventListener("mousemove", (event) => focusHover(canvas, side, event));
      canvas.addEventListener("mouseleave", () => { readout.textContent = "\u00a0"; });
      return canvas;
    });
    const lists = element("div", { class: "viewer-focus-lists",
      style: "display:flex;flex-wrap:wrap;gap:4px 32px" }, focusPanel);
    const focusCell = Math.max(2, Math.min(24, Math.floor(640 / seq)));
    const focusRow = 14;
    const focusGeometry = { left: 56, top: 20, cell: focusCell, row: focusRow };

    function focusValues(side) {  // (heads, seq): the focus token's row, or its column, per head
      const out = new Float32Array(data.heads * seq);
      const p = state.focus;
      for (let h = 0; h < data.heads; h += 1) {
        const map = mapOf(state.layer, h);
        for (let k = 0; k < seq; k += 1) {
          out[h * seq + k] = side === "from" ? map[p * seq + k] : map[k * seq + p];
        }
      }
      return out;
    }

    function setFocus(i) {
      state.focus = i;
      drawFocus();
    }

    function drawFocus() {
      chipNodes.forEach((chip, i) => {
        chip.style.background = i === state.focus ? "#ffe0cc" : "#fff";
        chip.style.fontWeight = i === state.focus && state.pinned ? "bold" : "normal";
      });
      lists.replaceChildren();
      if (!mapOf(state.layer, 0)) {
        focusCanvases.forEach((canvas) => { canvas.width = 400; canvas.height = 24; });
        const g = focusCanvases[0].getContext("2d");
        g.fillStyle = INK;
        g.font = LABEL_FONT;
        g.fillText(missing(state.layer), 4, 16);
        return;
      }
      const { left, top, cell, row } = focusGeometry;
      const step = Math.max(1, Math.ceil(11 / cell));
      ["from", "to"].forEach((side, s) => {
        const canvas = focusCanvases[s];
        const values = focusValues(side);
        canvas.width = left + seq * cell + 8;
        canvas.height = top + data.heads * row + 40;
        const g = canvas.getContext("2d");
        g.fillStyle = "#fff";
        g.fillRect(0, 0, canvas.width, canvas.height);
        g.fillStyle = INK;
        g.font = "bold " + LABEL_FONT;
        g.textBaseline = "middle";
        g.fillText((side === "from" ? "Where " + place(state.focus) + " looks"
          : "Who looks at " + place(state.focus)) + ", layer " + (state.layer + 1)
          + " (one row per head)", 4, 9);
        g.font = LABEL_FONT;
        const top1 = state.scale === "shared" ? 1 : Math.max(...values) || 1;
        const image = new ImageData(seq, data.heads);
        paint(image, values, 1 / top1);
        scratch.width = seq;
        scratch.height = data.heads;
        scratch.getContext("2d").putImageData(image, 0, 0);
        g.imageSmoothingEnabled = false;
        g.drawImage(scratch, left, top, seq * cell, data.heads * row);
        g.textAlign = "right";
        for (let h = 0; h < data.heads; h += 1) g.fillText("head " + (h + 1), left - 4, top + h * row + row / 2);
        g.textAlign = "center";
        for (let k = 0; k < seq; k += step) g.fillText(String(k + 1), left + k * cell + cell / 2, top + data.heads * row + 8);
        g.strokeStyle = HIGHLIGHT;
        g.lineWidth = 2;
        g.strokeRect(left + state.focus * cell - 1, top - 1, cell + 2, data.heads * row + 2);
        if (divider > 0) {
          g.strokeStyle = DIVIDER;
          g.beginPath();
          g.moveTo(left + divider * cell, top - 4);
          g.lineTo(left + divider * cell, top + data.heads * row + 2);
          g.stroke();
        }
        g.fillStyle = INK;
        g.textAlign = "left";
        g.fillText("columns: places in the text (from 1); colour scale as in the heatmap",
                   left, top + data.heads * row + 24);
        const mean = new Float32Array(seq);  // the mean over heads, as the Python lists use
        for (let h = 0; h < data.heads; h += 1) for (let k = 0; k < seq; k += 1) mean[k] += values[h * seq + k] / data.heads;
        const block = element("div", {}, lists);
        element("div", { style: "font-weight:bold", text: side === "from"
          ? place(state.focus) + " looks most at (mean of the heads)"
          : "Tokens that look most at " + place(state.focus) + " (mean of the heads)" }, block);
        const list = element("ol", { class: "viewer-focus-list-" + side,
                                     style: "margin:2px 0;padding-left:1.6em" }, block);
        strongest(mean, 5).forEach((k) => {
          element("li", { text: (side === "from" ? place(state.focus) + " \u2192 " + place(k)
            : place(k) + " \u2192 " + place(state.focus)) + ": " + mean[k].toFixed(4) }, list);
        });
      });
    }

    function focusHover(canvas, side, event) {
      if (!mapOf(state.layer, 0)) return;
      const { left, top, cell, row } = focusGeometry;
      const box = canvas.getBoundingClientRect();
      const k = Math.floor((event.clientX - box.left - left) / cell);
      const h = Math.floor((event.clientY - box.top - top) / row);
      if (k < 0 || k >= seq || h < 0 || h >= data.heads) { readout.textContent = "\u00a0"; return; }
      const map = mapOf(state.layer, h);
      const [from, to] = side === "from" ? [state.focus, k] : [k, state.focus];
      readout.textContent = "layer " + (state.layer + 1) + ", head " + (h + 1) + ": " + place(from)
        + " \u2192 " + place(to) + ": " + map[from * seq + to].toFixed(4);
    }


    // ----- query/key: one looking token's query, every key, their products, scores, softmax -
    const qkPanel = element("div", { class: "viewer-qk", style: "display:none;max-width:100%" },
                            body);
    const qkControls = element("div", { style: "margin-bottom:4px" }, qkPanel);
    qkControls.appendChild(document.createTextNode("Looking token "));
    const qkToken = element("select", { class: "viewer-qk-token",
                                        "aria-label": "looking token" }, qkControls);
    data.tokens.forEach((t, i) => element("option", { value: i, text: (i + 1) + " " + t },
                                          qkToken));
    qkToken.addEventListener("change", () => { state.focus = Number(qkToken.value); drawQK(); });
    const qkScroll = element("div", { style: "max-width:100%;max-height:760px;overflow:auto" },
                             qkPanel);
    const qkCanvas = element("canvas", { class: "viewer-qk-canvas" }, qkScroll);
    const qkGeometry = {};

    function qkOf(head) {  // {q, k}: Float32Array views (seq, d) of one head, or null
      if (!qkValues || data.qk_layer !== state.layer) return null;
      const d = data.head_size;
      const block = data.heads * seq * d;
      const start = head * seq * d;
      return { d: d, q: qkValues.subarray(start, start + seq * d),
               k: qkValues.subarray(block + start, block + start + seq * d) };
    }

    function qkNumbers() {  // the view's numbers for the focus token and the chosen head
      const vectors = qkOf(state.head);
      if (!vectors) return null;
      const { d, q, k } = vectors;
      const t = state.focus;
      const query = q.subarray(t * d, (t + 1) * d);
      const products = new Float32Array(seq * d);
      const scores = new Float32Array(seq);
      for (let j = 0; j < seq; j += 1) {
        let sum = 0;
        for (let f = 0; f < d; f += 1) {
          products[j * d + f] = query[f] * k[j * d + f];
          sum += products[j * d + f];
        }
        scores[j] = sum / Math.sqrt(d);
      }
      const top = Math.max(...scores);
      const weightsOut = scores.map((v) => Math.exp(v - top));
      const total = weightsOut.reduce((a, b) => a + b, 0);
      return { d, query, keys: k, products, scores, weights: weightsOut.map((v) => v / total) };
    }

    function diverging(value, top) {  // blue (negative) - white (0) - red (positive)
      const t = Math.max(-1, Math.min(1, value / (top || 1)));
      const fade = (c) => Math.round(255 + Math.abs(t) * (c - 255));
      return t < 0 ? "rgb(" + fade(33) + "," + fade(102) + "," + fade(172) + ")"
        : "rgb(" + fade(178) + "," + fade(24) + "," + fade(43) + ")";
    }

    function drawQK() {
      qkToken.value = String(state.focus);
      const numbers = qkNumbers();
      const g = qkCanvas.getContext("2d");
      if (!numbers) {
        qkCanvas.width = 420; qkCanvas.height = 24;
        g.fillStyle = "#fff"; g.fillRect(0, 0, 420, 24);
        g.fillStyle = INK; g.font = LABEL_FONT;
        if (data.qk_error) {
          qkCanvas.width = 900;
          g.fillStyle = INK; g.font = LABEL_FONT;
          g.fillText(data.qk_error, 4, 16);
        } else if (options.requestQK) {
          options.requestQK(state.layer);
          g.fillText("Loading the queries and keys of layer " + (state.layer + 1) + "\u2026", 4, 16);
        } else {
          g.fillText("This page carries the queries and keys of layer " + (data.qk_layer + 1)
                     + " only.", 4, 16);
        }
        return;
      }
      const { d, query, keys, products, scores, weights: soft } = numbers;
      const rh = 14;
      const left = Math.ceil(8 + Math.max(...lineLabels.map((t) => measure.measureText(t).width)));
      const cw = Math.max(3, Math.min(8, Math.floor((room - left - 290) / (2 * d))));  // fit
      const top = 64;
      const x1 = left;  // keys
      const x2 = x1 + d * cw + 16;  // products
      const x3 = x2 + d * cw + 16;  // scores
      const x4 = x3 + 56;  // softmax weights
      Object.assign(qkGeometry, { left, top, cw, rh, d, x1, x2, x3, x4 });
      Object.assign(qkCanvas.dataset, { top: top, row: rh, keys: x1, products: x2, scores: x3,
                                        weights: x4, cell: cw });
      qkCanvas.width = Math.max(x4 + 126, Math.ceil(measure.measureText("one row per token "
        + "looked at; q x k feature by feature; blue < 0 < red; score = sum of q x k / 64").width) + 8);
      qkCanvas.height = top + seq * rh + 30;
      g.fillStyle = "#fff";
      g.fillRect(0, 0, qkCanvas.width, qkCanvas.height);
      let vmax = 0;
      for (let i = 0; i < keys.length; i += 1) vmax = Math.max(vmax, Math.abs(keys[i]));
      for (let f = 0; f < d; f += 1) vmax = Math.max(vmax, Math.abs(query[f]));
      let pmax = 0;
      for (let i = 0; i < products.length; i += 1) pmax = Math.max(pmax, Math.abs(products[i]));
      g.font = "bold " + LABEL_FONT;
      g.fillStyle = INK;
      g.textBaseline = "middle";
      g.fillText("layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": query of "
                 + place(state.focus) + " (" + d + " numbers)", 4, 9);
      for (let f = 0; f < d; f += 1) {
        g.fillStyle = diverging(query[f], vmax);
        g.fillRect(x1 + f * cw, 18, cw, rh);
      }
      g.strokeStyle = INK;
      g.strokeRect(x1 - 0.5, 17.5, d * cw + 1, rh + 1);
      g.fillStyle = INK;
      g.font = LABEL_FONT;
      g.textAlign = "left";
      g.fillText("keys k", x1, top - 10);
      g.fillText("q \u00d7 k", x2, top - 10);
      g.fillText("score", x3, top - 10);
      g.fillText("softmax", x4, top - 10);
      g.fillText("one row per token looked at; q \u00d7 k feature by feature; blue < 0 < red; "
                 + "score = sum of q \u00d7 k / \u221a" + d, 4, 42);
      for (let j = 0; j < seq; j += 1) {
        const y = top + j * rh;
        g.textAlign = "right";
        g.fillStyle = INK;
        g.fillText(lineLabels[j], left - 4, y + rh / 2);
        for (let f = 0; f < d; f += 1) {
          g.fillStyle = diverging(keys[j * d + f], vmax);
          g.fillRect(x1 + f * cw, y, cw, rh - 1);
          g.fillStyle = diverging(products[j * d + f], pmax);
          g.fillRect(x2 + f * cw, y, cw, rh - 1);
        }
        g.fillStyle = INK;
        g.textAlign = "right";
        g.fillText(scores[j].toFixed(2), x3 + 40, y + rh / 2);
        g.fillStyle = "rgb(" + colour(soft[j]).join(",") + ")";
        g.fillRect(x4, y + 1, Math.max(1, soft[j] * 64), rh - 3);
        g.strokeStyle = "#8a8f98";
        g.strokeRect(x4 + 0.5, y + 1.5, 64, rh - 4);
        g.fillStyle = INK;
        g.textAlign = "left";
        g.fillText(soft[j].toFixed(4), x4 + 70, y + rh / 2);
      }
    }

    qkCanvas.addEventListener("mousemove", (event) => {
      const numbers = qkNumbers();
      if (!numbers || !qkGeometry.d) return;
      const { top, cw, rh, d, x1, x2, x3, x4 } = qkGeometry;
      const box = qkCanvas.getBoundingClientRect();
      const x = event.clientX - box.left;
      const j = Math.floor((event.clientY - box.top - top) / rh);
      if (j < 0 || j >= seq) { readout.textContent = "\u00a0"; return; }
      const f = Math.floor((x - (x < x2 ? x1 : x2)) / cw);
      const head = "layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": ";
      if (x >= x1 && x < x1 + d * cw) {
        readout.textContent = head + "key of " + place(j) + ", feature " + (f + 1) + ": "
          + numbers.keys[j * d + f].toFixed(4);
      } else if (x >= x2 && x < x2 + d * cw) {
        readout.textContent = head + "query of " + place(state.focus) + " \u00d7 key of "
          + place(j) + ", feature " + (f + 1) + ": " + numbers.products[j * d + f].toFixed(4);
      } else if (x >= x3 && x < x4) {
        readout.textContent = head + "score " + place(state.focus) + " \u2192 " + place(j) + ": "
          + numbers.scores[j].toFixed(4);
      } else if (x >= x4) {
        readout.textContent = head + "softmax " + place(state.focus) + " \u2192 " + place(j)
          + ": " + numbers.weights[j].toFixed(4);
      }
    });
    qkCanvas.addEventListener("mouseleave", () => { readout.textContent = "\u00a0"; });

    // ----- choosing, and what is drawn ------------------------------------------------------
    function select(layer, head, quiet) {
      const headChanged = head !== state.head;
      if (headChanged && state.shown.size <= 1) state.shown = new Set([head]);
      state.layer = layer;
      state.head = head;
      layerSelect.value = String(layer);
      headSelect.value = String(head);
      toggleBoxes.forEach((box, h) => { box.checked = state.shown.has(h); });
      drawGrid();
      if (state.mode === "heatmap") { drawMap(); drawHover(); }
      if (state.mode === "lines") drawLines(null);
      if (state.mode === "focus") drawFocus();
      if (state.mode === "qk") drawQK();
      if (!quiet && options.onSelect) options.onSelect(layer, head);
    }

    function showMode() {
      scroller.style.display = state.mode === "heatmap" ? "block" : "none";
      linesPanel.style.display = state.mode === "lines" ? "block" : "none";
      focusPanel.style.display = state.mode === "focus" ? "block" : "none";
      qkPanel.style.display = state.mode === "qk" ? "block" : "none";
      zoomSelect.parentElement.style.display = state.mode === "heatmap" ? "" : "none";
    }

    function currentCanvases() {  // what the PNG shows: the grid and the drawn view
      const shown = parts === "head" ? [] : [gridCanvas];
      if (state.mode === "heatmap") shown.push(mapCanvas);
      if (state.mode === "lines") shown.push(linesCanvas);
      if (state.mode === "focus") shown.push(...focusCanvases);
      if (state.mode === "qk") shown.push(qkCanvas);
      return shown;
    }

    function viewPicture() {  // one canvas: the pieces side by side (token focus: stacked)
      const pieces = currentCanvases();
      const side = pieces.length && state.mode === "focus" ? pieces.slice(1) : [];
      const row = state.mode === "focus" ? pieces.slice(0, 1) : pieces;
      const stackW = Math.max(0, ...side.map((c) => c.width));
      const stackH = side.reduce((sum, c) => sum + c.height, 0);
      const title = "Layer " + (state.layer + 1) + ", head " + (state.head + 1) + " ("
        + modeSelect.options[modeSelect.selectedIndex].text + "; colours: "
        + scaleSelect.options[scaleSelect.selectedIndex].text + ")"
        + (data.note ? ". " + data.note : "");
      const band = 22;  // px: the title above the pieces
      const width = row.reduce((sum, c) => sum + c.width + 12, 0) + stackW;
      const height = band + Math.max(stackH, ...row.map((c) => c.height));
      const out = document.createElement("canvas");
      out.width = Math.max(1, width, Math.ceil(measure.measureText(title).width * 1.2) + 8);
      out.height = Math.max(1, height);
      const g = out.getContext("2d");
      g.fillStyle = "#fff";
      g.fillRect(0, 0, out.width, out.height);
      g.fillStyle = INK;
      g.font = "bold 12px sans-serif";
      g.textBaseline = "middle";
      g.fillText(title, 4, band / 2);
      let x = 0;
      row.forEach((c) => { g.drawImage(c, x, band); x += c.width + 12; });
      let y = band;
      side.forEach((c) => { g.drawImage(c, x, y); y += c.height; });
      return out;
    }

    function fileStem() {
      return "attention-layer" + (state.layer + 1) + "-head" + (state.head + 1);
    }

    pngButton.addEventListener("click", () => {
      viewPicture().toBlob((blob) => saveFile(fileStem() + ".png", blob), "image/png");
    });
    htmlButton.addEventListener("click", () => {
      const carried = Object.assign({}, data, { weights: base64Of(weightBytes),
        thumbs: thumbBytes.length ? base64Of(thumbBytes) : "", layer: state.layer,
        qk: qkBytes.length ? base64Of(qkBytes) : "",
        head: state.head, parts: parts === "head" ? "head" : "all" });
      const page = pageHtml(carried, "Attention, layer " + (state.layer + 1) + ", head "
                            + (state.head + 1));
      saveFile(fileStem() + ".html", new Blob([page], { type: "text/html" }));
    });

    layerSelect.addEventListener("change", () => select(Number(layerSelect.value), state.head));
    headSelect.addEventListener("change", () => select(state.layer, Number(headSelect.value)));
    scaleSelect.addEventListener("change", () => {
      state.scale = scaleSelect.value;
      select(state.layer, state.head, true);
    });
    modeSelect.addEventListener("change", () => {
      state.mode = modeSelect.value;
      showMode();
      select(state.layer, state.head, true);
    });
    zoomSelect.addEventListener("change", () => {
      state.zoom = Number(zoomSelect.value);
      layoutMap();
      select(state.layer, state.head, true);
    });
    scaleSelect.value = state.scale;
    modeSelect.value = state.mode;
    zoomSelect.value = String(state.zoom);
    layoutMap();
    showMode();
    select(state.layer, state.head, true);
    return { select: select, state: state, picture: viewPicture, numbers: qkNumbers };
  }

  window.AttentionViewer = { mount: mount, pageHtml: pageHtml };
})();
