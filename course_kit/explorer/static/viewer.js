// The attention viewer: every head of every layer, drawn in the browser from maps computed in
// Python (no kernel round trip for a hover or a click, no network). Plain JavaScript, no library.
// It is the explorer (anywidget, live.py), the lessons' widgets and the saved pages: the only
// renderer of what a reader explores (Python keeps one static picture for readers without
// JavaScript). By mouse or keyboard: Tab reaches the small maps (buttons) and the map (arrow
// keys move a cell cursor, read out in an aria-live region and shown at the cursor).
//
// AttentionViewer.mount(root, data, options) draws into `root`, again when it is resized or the
// theme (JupyterLab's, the site's, the system's) changes, and returns
// {select, apply, state, picture, numbers, destroy}. `data` (written by interactive.py):
//   tokens, segments: one entry per token; layers, heads, seq: the sizes; head_names, rollout;
//   included: the layers whose full maps are carried (all, unless the text was long);
//   only_head (optional, -1: none): the one head of the included layer that is carried (a long
//            text's first message; the rest of the layer follows as new data);
//   weights: the maps, in the order (included layer, head, looking token, token looked at),
//            16-bit (weight x 65535) or with bits: 8 (weight x 255), little-endian: base64
//            text, or bytes (a DataView) from anywidget; packed: deflated (a saved page: use
//            AttentionViewer.load, which unpacks first; each map then stored column by column);
//   hidden_rows, hidden_cols: places a filter hides (drawn grey);
//   thumbs, thumb: every layer's maps shrunk to thumb x thumb (rows averaged, columns summed),
//                  same encoding, for the grid when a layer's full maps are not carried;
//   layer, head, mode, focus, scale: what to show first (counted from 0); note: a remark to
//   show (a cut text); model, text: for the titles of downloads;
//   qk, qk_layer, head_size (optional): the queries then the keys of every head of layer
//            qk_layer, float32 little-endian, (heads, seq, head_size) each, for the
//            query/key view.
// options: parts ("all": grid of every layer + one map; "layer": the heads of one layer + one
//   map; "head": one map), state (a previous viewer's state, kept across new data),
//   onSelect(layer, head) and onState({mode, focus, scale}) (told of every choice),
//   request(layer) (asked for a layer whose maps are not here yet; without it such a layer is
//   said to be missing), requestQK(layer) (asked for a layer's queries and keys; without it,
//   and without data.qk, no query/key view).
// Places, layers and heads are shown counted from 1, like the Python explorer.
(function install() {
  "use strict";

  // Two palettes, light and dark, chosen from the page's theme (JupyterLab's, the site's, or the
  // system's). The colour scale runs from the background (0) to the strongest colour (1).
  // Head colours (lines view): Okabe-Ito hues, darkened (light) or lightened (dark) to 4.5:1
  // against the background; heads past the seventh repeat them with dashed, then dotted lines.
  const PALETTES = {
    light: { paper: "#ffffff", ink: "#1f1f1f", muted: "#e4e6ea", hidden: "#c8ccd2",
             button: "#eef0f3", border: "#6b7079", note: "#fff4ce", chip: "#ffe0cc",
             highlight: "rgb(200,70,0)", divider: "rgb(190,20,115)", veil: "rgba(255,255,255,0.92)",
             anchors: [[255, 255, 255], [205, 225, 243], [115, 168, 216], [40, 96, 170],
                       [12, 36, 92]],
             heads: ["#0072b2", "#c15500", "#008460", "#bb4d8a", "#996a00", "#000000", "#7b730a"] },
    dark: { paper: "#1e1e1e", ink: "#e8e8e8", muted: "#3a3d42", hidden: "#4a4e55",
            button: "#2d3036", border: "#9aa0a8", note: "#3d3420", chip: "#5a3a22",
            highlight: "rgb(255,140,60)", divider: "rgb(240,90,180)", veil: "rgba(30,30,30,0.92)",
            anchors: [[30, 30, 30], [26, 58, 100], [40, 108, 176], [116, 176, 230],
                      [226, 240, 255]],
            heads: ["#56b4e9", "#df6300", "#009e73", "#cc79a7", "#e69f00", "#d0d0d0", "#f0e442"] },
  };
  const LABEL_FONT = "11px sans-serif";
  const MAP_EXTENT = 560;  // px: a map's side at zoom 1, before labels
  const CAPTION = 16;  // px: the line above a map that says what it shows
  const MAX_LINES_SEQ = 160;  // beyond this the lines are a solid block: use the heatmap
  const ZOOMS = [1, 2, 4, 8];
  const SOURCE = "(" + install.toString() + ")();";  // this file's code, for the HTML export
  const HIDE = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    + "white-space:pre-wrap";  // read by screen readers, not shown

  function isDark(root) {  // the theme around `root`: JupyterLab's, the site's, or the system's
    const lab = root.closest("[data-jp-theme-light]") || document.body;
    if (lab && lab.dataset.jpThemeLight) return lab.dataset.jpThemeLight === "false";
    const site = document.documentElement.dataset.theme || document.documentElement.dataset.mode;
    if (site === "dark" || site === "light") return site === "dark";
    return Boolean(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  function fit(canvas, width, height) {  // a canvas `width` x `height` CSS px, sharp at any DPR
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(width * ratio));
    canvas.height = Math.max(1, Math.round(height * ratio));
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    canvas.css = { w: width, h: height };
    canvas.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  function colourOf(anchors, value) {  // value in [0, 1] -> [r, g, b]
    const t = Math.min(Math.max(value, 0), 1) * (anchors.length - 1);
    const i = Math.min(Math.floor(t), anchors.length - 2);
    const f = t - i;
    return anchors[i].map((low, c) => Math.round(low + f * (anchors[i + 1][c] - low)));
  }

  function lutOf(anchors) {  // colourOf(i / 255) as RGBA, for fast filling
    const lut = new Uint8ClampedArray(256 * 4);
    for (let i = 0; i < 256; i += 1) lut.set([...colourOf(anchors, i / 255), 255], 4 * i);
    return lut;
  }

  function paint(image, values, scale, lut) {  // ImageData pixels <- colours of values * scale
    const out = image.data;
    for (let i = 0; i < values.length; i += 1) {
      const k = 4 * Math.min(255, Math.max(0, Math.round(values[i] * scale * 255)));
      out[4 * i] = lut[k]; out[4 * i + 1] = lut[k + 1]; out[4 * i + 2] = lut[k + 2];
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

  function decode(bytes, bits) {  // 8- or 16-bit numbers (little-endian) -> weights in [0, 1]
    if (bits === 8) {
      const out = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i += 1) out[i] = bytes[i] / 255;
      return out;
    }
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
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      + "<meta name=\"color-scheme\" content=\"light dark\">\n<title>"
      + safeTitle + "</title>\n</head>\n<body style=\"font-family:sans-serif;margin:1.5em\">\n<h1>"
      + safeTitle + "</h1>\n<div id=\"attention-viewer\"></div>\n<script>\n" + SOURCE + "\n"
      + end + "\n<script>\nAttentionViewer.load(document.getElementById('attention-viewer'), "
      + scriptSafe(JSON.stringify(data)) + ");\n" + end + "\n</body>\n</html>\n";
  }

  function mount(root, data, options) {  // draws, and draws again on a resize or theme change
    if (root.attentionViewer) root.attentionViewer.destroy();
    let current = null;
    let width = 0;
    let dark = null;
    const rebuild = () => {
      const kept = current ? current.state : options && options.state;
      const shown = current ? Object.assign({}, data, { layer: kept.layer, head: kept.head })
        : data;
      root.replaceChildren();
      width = root.clientWidth;
      dark = isDark(root);
      current = build(root, shown, Object.assign({}, options, { state: kept }), dark);
    };
    rebuild();
    let pending = 0;
    const later = () => {  // at most one rebuild a frame, and only for a real change
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => {
        if (!root.isConnected) return;
        if (Math.abs(root.clientWidth - width) >= 24 || isDark(root) !== dark) rebuild();
      });
    };
    const resizes = window.ResizeObserver ? new ResizeObserver(later) : null;
    if (resizes) resizes.observe(root);
    const themes = new MutationObserver(later);
    themes.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
    themes.observe(document.documentElement, { attributes: true,
                                               attributeFilter: ["data-theme", "data-mode"] });
    const schemes = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    if (schemes && schemes.addEventListener) schemes.addEventListener("change", later);
    const handle = {
      select: (layer, head, quiet) => current.select(layer, head, quiet),
      apply: (changes) => current.apply(changes),
      picture: () => current.picture(),
      numbers: () => current.numbers(),
      get state() { return current.state; },
      destroy: () => {
        if (resizes) resizes.disconnect();
        themes.disconnect();
        if (schemes && schemes.removeEventListener) schemes.removeEventListener("change", later);
        root.attentionViewer = null;
      },
    };
    root.attentionViewer = handle;
    return handle;
  }

  function transposed(bytes, seq) {  // every (seq, seq) map of `bytes`, rows <-> columns
    const out = new Uint8Array(bytes.length);
    for (let start = 0; start < bytes.length; start += seq * seq) {
      for (let r = 0; r < seq; r += 1) {
        for (let c = 0; c < seq; c += 1) out[start + c * seq + r] = bytes[start + r * seq + c];
      }
    }
    return out;
  }

  async function inflated(data) {  // a page's data with its zlib-packed numbers unpacked
    if (!data.packed) return data;
    const unpack = async (text) => {
      if (!text) return new Uint8Array(0);
      const stream = new Blob([bytesOf(text)]).stream()
        .pipeThrough(new DecompressionStream("deflate"));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    };
    const [columns, thumbs] = await Promise.all([unpack(data.weights), unpack(data.thumbs)]);
    return Object.assign({}, data, { weights: transposed(columns, data.seq), thumbs,
                                     packed: false });
  }

  function build(root, data, options, dark) {
    options = options || {};
    const P = Object.assign({}, PALETTES[dark ? "dark" : "light"]);
    P.lut = lutOf(P.anchors);
    const parts = options.parts || data.parts || "all";
    const seq = data.seq;
    const bits = data.bits || 16;  // the numbers: weight x 255 (8 bits) or x 65535 (16 bits)
    const weightBytes = bytesOf(data.weights);
    const weights = decode(weightBytes, bits);
    const thumbBytes = bytesOf(data.thumbs);
    const thumbValues = thumbBytes.length ? decode(thumbBytes, bits) : null;
    const size = seq * seq;
    const onlyHead = data.only_head >= 0 ? data.only_head : -1;
    const qkBytes = bytesOf(data.qk);
    const qkValues = qkBytes.length ? new Float32Array(qkBytes.slice().buffer) : null;
    const hasQK = Boolean(qkValues || options.requestQK);
    const digits = bits === 8 ? 2 : 4;  // what the numbers carry (8 bits: steps of 0.004)
    const kept = options.state || {};
    const state = { layer: data.layer, head: data.head, scale: kept.scale || data.scale || "shared",
                    mode: kept.mode || data.mode || "heatmap", zoom: kept.zoom || 1, hover: null,
                    focus: Math.min(kept.focus !== undefined ? kept.focus : data.focus || 0,
                                    seq - 1),
                    pinned: kept.pinned || false,
                    shown: new Set(kept.shown ? [...kept.shown].filter((h) => h < data.heads)
                                              : [data.head]) };
    if ((parts === "head" && state.mode === "token") || (state.mode === "qk" && !hasQK)) {
      state.mode = "heatmap";
    }
    const divider = data.segments.indexOf(1) > 0 ? data.segments.indexOf(1) : -1;
    const place = (i) => "'" + data.tokens[i] + "' (" + (i + 1) + ")";
    const hiddenRows = new Set(data.hidden_rows || []);  // hidden by a filter: drawn grey
    const hiddenCols = new Set(data.hidden_cols || []);
    const headName = (h) => (data.head_names ? data.head_names[h] : String(h + 1));
    const title = (layer, head) => (data.rollout ? "Rollout up to layer " + (layer + 1)
      : "Layer " + (layer + 1) + ", head " + headName(head));
    const headColour = (h) => P.heads[h % P.heads.length];
    const headDash = (h) => [[], [6, 3], [2, 3]][Math.floor(h / P.heads.length) % 3];

    function mapOf(layer, head) {  // Float32Array view of one (seq, seq) map, or null
      const slot = data.included.indexOf(layer);
      if (slot < 0) return null;
      if (onlyHead >= 0) return head === onlyHead ? weights.subarray(0, size) : null;
      const start = (slot * data.heads + head) * size;
      return weights.subarray(start, start + size);
    }

    function layerHere(layer) {  // every head of `layer` is here (for the lines and token focus)
      return data.included.includes(layer) && onlyHead < 0;
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
    Object.assign(root.style, { background: P.paper, color: P.ink, padding: "4px 8px",
                                fontFamily: "sans-serif", maxWidth: "100%", overflowX: "auto",
                                boxSizing: "border-box", position: "relative",
                                colorScheme: dark ? "dark" : "light" });
    // The width there is to draw in (a notebook beside a file browser may leave 450 px).
    const room = Math.max(300, root.clientWidth || (root.parentElement || {}).clientWidth || 900);
    const controls = element("div", { class: "viewer-controls",
      style: "display:flex;flex-wrap:wrap;gap:4px 1em;align-items:center" }, root);
    const fieldStyle = "background:" + P.paper + ";color:" + P.ink + ";border:1px solid "
      + P.border + ";border-radius:3px";
    function labelled(text, node) {
      const wrap = element("label", {}, controls);
      wrap.appendChild(document.createTextNode(text + " "));
      wrap.appendChild(node);
      node.setAttribute("style", fieldStyle);
      return node;
    }
    const layerSelect = labelled("Layer", element("select", { class: "viewer-layer" }));
    const headSelect = labelled("Head", element("select", { class: "viewer-head" }));
    const scaleSelect = labelled("Colours", element("select", { class: "viewer-scale" }));
    const modeSelect = labelled("Draw as", element("select", { class: "viewer-mode" }));
    const zoomSelect = labelled("Zoom", element("select", { class: "viewer-zoom" }));
    for (let l = 0; l < data.layers; l += 1) {
      element("option", { value: l, text: String(l + 1) }, layerSelect);
    }
    for (let h = 0; h < data.heads; h += 1) {
      element("option", { value: h, text: headName(h) }, headSelect);
    }
    element("option", { value: "shared", text: "shared 0..1" }, scaleSelect);
    element("option", { value: "per-map", text: "per-map contrast" }, scaleSelect);
    element("option", { value: "heatmap", text: "heatmap" }, modeSelect);
    element("option", { value: "lines", text: "lines" }, modeSelect);
    if (parts !== "head") element("option", { value: "token", text: "token focus" }, modeSelect);
    if (hasQK) element("option", { value: "qk", text: "query/key" }, modeSelect);
    ZOOMS.forEach((z) => element("option", { value: z, text: z + "x" }, zoomSelect));
    const buttonStyle = "background:" + P.button + ";color:" + P.ink + ";border:1px solid "
      + P.border + ";border-radius:3px;padding:1px 8px;cursor:pointer";
    const pngButton = element("button", { class: "viewer-save-png", type: "button",
      text: "\u2913 PNG", style: buttonStyle, title: "download a picture of this view" },
      controls);
    const htmlButton = element("button", { class: "viewer-save-html", type: "button",
      text: "\u2913 HTML page", style: buttonStyle,
      title: "download a page with this viewer and these maps (works offline)" }, controls);
    if (data.note) {
      element("div", { class: "viewer-note", text: data.note, style: "background:" + P.note
        + ";color:" + P.ink + ";border-left:4px solid " + P.highlight
        + ";padding:2px 6px;margin:4px 0" }, root);
    }
    // What the pointer or the keyboard points at: read out (aria-live) and shown at the cursor.
    const readout = element("div", { class: "viewer-readout", role: "status",
      "aria-live": "polite", style: HIDE }, root);
    const tip = element("div", { class: "viewer-tip", role: "presentation", style:
      "position:absolute;display:none;z-index:10;pointer-events:none;max-width:360px;"
      + "background:" + P.ink + ";color:" + P.paper + ";font:12px/1.35 sans-serif;"
      + "padding:3px 7px;border-radius:3px;white-space:pre-wrap;box-shadow:0 1px 4px "
      + "rgba(0,0,0,0.35)" }, root);

    function tell(text, at) {  // at: a pointer event, or {clientX, clientY} of a cell; or none
      readout.textContent = text || "";
      if (!text || !at) { tip.style.display = "none"; return; }
      tip.textContent = text;
      tip.style.display = "block";
      const box = root.getBoundingClientRect();
      let x = at.clientX - box.left + root.scrollLeft + 14;
      const y = at.clientY - box.top + root.scrollTop + 16;
      if (x + tip.offsetWidth > root.scrollLeft + root.clientWidth) {
        x = Math.max(root.scrollLeft, x - tip.offsetWidth - 28);
      }
      tip.style.left = x + "px";
      tip.style.top = y + "px";
    }
    const body = element("div", { class: "viewer-body",
      style: "display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start" }, root);
    const measure = document.createElement("canvas").getContext("2d");
    measure.font = LABEL_FONT;

    // ----- the grid of thumbnails: click one to enlarge it beside the grid ------------------
    // "all": one row per layer, one column per head. "layer": the heads of the chosen layer,
    // larger, a few to a row, each named above.
    const gridBox = element("div", { class: "viewer-grid-box", style: "position:relative" }, body);
    const gridCanvas = element("canvas", { class: "viewer-grid", role: "img", "aria-label":
      parts === "layer" ? "the heads of the chosen layer as small maps"
        : "every head of every layer as a small map, one row per layer" }, gridBox);
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
    fit(gridCanvas, grid.left + perRow * grid.pitchX, grid.top + gridRows * grid.pitchY);
    if (parts === "head") gridBox.style.display = "none";
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
      g.fillStyle = P.paper;
      g.fillRect(0, 0, gridCanvas.width, gridCanvas.height);
      g.fillStyle = P.ink;
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
            g.fillStyle = P.ink;
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
      g.strokeStyle = P.highlight;
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
      paint(image, values, 1 / topOf(values), P.lut);
      return image;
    }

    // One button over each small map: Tab reaches the chosen one, arrow keys move between them.
    const gridButtons = [];
    const slots = parts === "layer" ? data.heads : data.layers * data.heads;
    for (let k = 0; parts !== "head" && k < slots; k += 1) {
      const [l, h] = parts === "layer" ? [null, k] : [Math.floor(k / data.heads), k % data.heads];
      const [col, row] = slotOf(l, h);
      const button = element("button", { type: "button", class: "viewer-thumb",
        "data-layer": l === null ? "" : l, "data-head": h, style: "position:absolute;left:"
        + (grid.left + col * grid.pitchX - 1) + "px;top:" + (grid.top + row * grid.pitchY - 1)
        + "px;width:" + (thumb + 2) + "px;height:" + (thumb + 2) + "px;padding:0;margin:0;"
        + "border:0;background:transparent;cursor:pointer" }, gridBox);
      button.addEventListener("click", () => select(l === null ? state.layer : l, h));
      button.addEventListener("keydown", (event) => {
        const step = { ArrowLeft: -1, ArrowRight: 1,
                       ArrowUp: parts === "layer" ? -perRow : -data.heads,
                       ArrowDown: parts === "layer" ? perRow : data.heads }[event.key];
        if (step === undefined) return;
        event.preventDefault();
        const next = gridButtons[Math.min(slots - 1, Math.max(0, k + step))];
        next.click();
        next.focus();
      });
      gridButtons.push(button);
    }

    function markGrid() {  // the chosen map's button: pressed, and the one Tab reaches
      gridButtons.forEach((button, k) => {
        const [l, h] = parts === "layer" ? [state.layer, k]
          : [Math.floor(k / data.heads), k % data.heads];
        const chosen = l === state.layer && h === state.head;
        button.setAttribute("aria-label", title(l, h));
        button.setAttribute("aria-pressed", String(chosen));
        button.tabIndex = chosen ? 0 : -1;
      });
    }

    // ----- one map as a heatmap, with labels, colour bar, hover and zoom -------------------
    const scroller = element("div", { class: "viewer-scroll",
      style: "max-width:100%;max-height:760px;overflow:auto" }, body);
    const stack = element("div", { class: "viewer-map", style: "position:relative" }, scroller);
    const mapCanvas = element("canvas", { role: "img" }, stack);
    // The layer over the map answers the pointer and the keyboard (Tab, then arrow keys).
    const hoverCanvas = element("canvas", { class: "viewer-cursor", tabindex: 0,
      role: "application", "aria-roledescription": "attention map",
      style: "position:absolute;left:0;top:0" }, stack);
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
      const mapWidth = margin + seq * cell + 70;
      const wide = Math.ceil(measure.measureText(caption()).width * 1.15) + 8;
      const lines = wide > Math.max(mapWidth, room - 40) ? 2 : 1;  // a narrow screen: two
      const top = margin + 4 + CAPTION * lines;
      Object.assign(geometry, { cell, step, labels, left: margin, top: top, lines,
                                extent: seq * cell });
      const width = lines === 2 ? Math.max(mapWidth, Math.ceil(wide / 2) + 40)
        : Math.max(mapWidth, wide);
      [mapCanvas, hoverCanvas].forEach((c) => fit(c, width, top + Math.max(geometry.extent, 100) + 8));
      // Where things are, for tests and tools: the map's cell size and margins.
      Object.assign(stack.dataset, { cell: cell, left: margin, top: top });
    }

    function caption() {  // what the map shows, above it
      return title(state.layer, state.head) + ": rows = looking token (query), columns = token "
        + "looked at (key)";
    }

    function drawMap() {
      const { cell, step, labels, left, top, extent } = geometry;
      const g = mapCanvas.getContext("2d");
      g.fillStyle = P.paper;
      g.fillRect(0, 0, mapCanvas.width, mapCanvas.height);
      const map = mapOf(state.layer, state.head);
      g.fillStyle = P.ink;
      g.font = LABEL_FONT;
      if (!map) {
        g.fillText(missing(state.layer), 4, 20);
        return;
      }
      g.font = "bold " + LABEL_FONT;
      g.textBaseline = "middle";
      g.textAlign = "left";
      if (geometry.lines === 2) {
        g.fillText(title(state.layer, state.head) + ": rows = looking token (query),", 4,
                   CAPTION / 2);
        g.fillText("columns = token looked at (key)", 4, CAPTION * 1.5);
      } else {
        g.fillText(caption(), 4, CAPTION / 2);
      }
      g.font = LABEL_FONT;
      const peak = topOf(map);
      const image = new ImageData(seq, seq);
      paint(image, map, 1 / peak, P.lut);
      if (hiddenRows.size || hiddenCols.size) {  // cells a filter hides: grey, not a weight
        const grey = [...P.hidden.match(/\w\w/g).map((h) => parseInt(h, 16)), 255];
        for (let r = 0; r < seq; r += 1) {
          for (let c = 0; c < seq; c += 1) {
            if (hiddenRows.has(r) || hiddenCols.has(c)) image.data.set(grey, 4 * (r * seq + c));
          }
        }
      }
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
        g.strokeStyle = P.divider;
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
        g.fillStyle = "rgb(" + colourOf(P.anchors, 1 - i / (height - 1)).join(",") + ")";
        g.fillRect(x, y + i, 10, 1);
      }
      g.strokeStyle = P.ink;
      g.lineWidth = 1;
      g.strokeRect(x + 0.5, y + 0.5, 10, height - 1);
      g.fillStyle = P.ink;
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
      g.strokeStyle = P.highlight;
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
        g.fillStyle = P.veil;
        g.fillRect(x, top, left, extent);
        g.fillStyle = P.ink;
        g.textAlign = "right";
        for (let i = 0; i < seq; i += step) g.fillText(labels[i], x + left - 4, top + i * cell + cell / 2);
      }
      if (y > 0) {
        g.fillStyle = P.veil;
        g.fillRect(left, y, extent, top);
        g.save();
        g.rotate(-Math.PI / 2);
        g.fillStyle = P.ink;
        g.textAlign = "left";
        for (let i = 0; i < seq; i += step) g.fillText(labels[i], -(y + top - 4), left + i * cell + cell / 2);
        g.restore();
      }
      if (x > 0 && y > 0) { g.fillStyle = P.paper; g.fillRect(x, y, left, top); }
    }

    scroller.addEventListener("scroll", () => drawHover());

    function cellText(r, c) {  // what one cell says: both tokens, their places, the weight
      const map = mapOf(state.layer, state.head);
      const where = title(state.layer, state.head).replace(/^\w/, (ch) => ch.toLowerCase());
      if (hiddenRows.has(r) || hiddenCols.has(c)) {
        return where + ": " + place(r) + " \u2192 " + place(c) + ": hidden by the filter";
      }
      return where + ": " + place(r) + " \u2192 " + place(c) + ": "
        + map[r * seq + c].toFixed(digits);
    }

    function pointAt(r, c, event) {  // the cell cursor on (r, c); null: none
      const map = mapOf(state.layer, state.head);
      if (!map || r === null || r < 0 || c < 0 || r >= seq || c >= seq) {
        state.hover = null;
        tell(null);
      } else {
        state.hover = [r, c];
        const box = hoverCanvas.getBoundingClientRect();
        const { cell, left, top } = geometry;
        tell(cellText(r, c), event || { clientX: box.left + left + (c + 1) * cell,
                                        clientY: box.top + top + (r + 1) * cell });
      }
      drawHover();
    }

    hoverCanvas.addEventListener("mousemove", (event) => {
      const { cell, left, top } = geometry;
      const box = hoverCanvas.getBoundingClientRect();
      pointAt(Math.floor((event.clientY - box.top - top) / cell),
              Math.floor((event.clientX - box.left - left) / cell), event);
    });
    hoverCanvas.addEventListener("mouseleave", () => pointAt(null));
    hoverCanvas.addEventListener("blur", () => pointAt(null));
    hoverCanvas.addEventListener("focus", () => {
      if (!state.hover) pointAt(0, 0);
    });
    hoverCanvas.addEventListener("keydown", (event) => {
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
                      Home: [0, -seq], End: [0, seq], PageUp: [-10, 0], PageDown: [10, 0] };
      const move = moves[event.key];
      if (!move) { if (event.key === "Escape") pointAt(null); return; }
      event.preventDefault();
      const [r, c] = state.hover || [0, 0];
      const clamp = (v) => Math.min(seq - 1, Math.max(0, v));
      pointAt(clamp(r + move[0]), clamp(c + move[1]));
      const { cell, left, top } = geometry;  // keep the cursor in sight on a zoomed map
      const [nr, nc] = state.hover;
      const x = left + nc * cell;
      const y = top + nr * cell;
      if (x < scroller.scrollLeft + left || x + cell > scroller.scrollLeft + scroller.clientWidth) {
        scroller.scrollLeft = x - scroller.clientWidth / 2;
      }
      if (y < scroller.scrollTop + top || y + cell > scroller.scrollTop + scroller.clientHeight) {
        scroller.scrollTop = y - scroller.clientHeight / 2;
      }
    });

    // The text alternative: the strongest links of the map, as a table.
    const tableBox = element("details", { class: "viewer-table", style: "margin-top:4px" },
                             body);
    element("summary", { text: "The strongest links, as a table", style: "cursor:pointer" },
            tableBox);
    const table = element("table", { style: "border-collapse:collapse;font-size:12px" },
                          tableBox);

    function drawTable() {
      const map = mapOf(state.layer, state.head);
      table.replaceChildren();
      element("caption", { text: title(state.layer, state.head) + ": the 10 strongest links",
                           style: "text-align:left" }, table);
      if (!map) return;
      const head = element("tr", {}, element("thead", {}, table));
      ["looking token (place)", "token looked at (place)", "weight"].forEach((text) => {
        element("th", { text, scope: "col", style: "text-align:left;padding:1px 8px 1px 0" },
                head);
      });
      const rowsOut = element("tbody", {}, table);
      const visible = new Float32Array(map);
      hiddenRows.forEach((r) => visible.fill(-1, r * seq, (r + 1) * seq));
      hiddenCols.forEach((c) => { for (let r = 0; r < seq; r += 1) visible[r * seq + c] = -1; });
      strongest(visible, 10).forEach((k) => {
        const row = element("tr", {}, rowsOut);
        [place(Math.floor(k / seq)), place(k % seq), map[k].toFixed(digits)].forEach((text) => {
          element("td", { text, style: "padding:1px 8px 1px 0" }, row);
        });
      });
    }

    // ----- lines between two token columns, several heads overlaid (weight = opacity) -----
    const linesPanel = element("div", { class: "viewer-lines-panel", style: "display:none" },
                               body);
    const toggles = element("div", { class: "viewer-head-toggles",
      style: "display:flex;flex-wrap:wrap;gap:2px 10px;margin-bottom:4px;max-width:560px" },
      linesPanel);
    const toggleBoxes = [];
    for (let h = 0; h < data.heads; h += 1) {
      const wrap = element("label", { style: "color:" + headColour(h)
        + ";font-weight:bold;white-space:nowrap" }, toggles);
      const box = element("input", { type: "checkbox", class: "viewer-toggle",
                                     "data-head": h }, wrap);
      wrap.appendChild(document.createTextNode(" head " + headName(h)
        + (headDash(h).length ? (headDash(h)[0] > 3 ? " (dashed)" : " (dotted)") : "")));
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
    const linesCanvas = element("canvas", { class: "viewer-lines", role: "img",
      "aria-label": "lines from each looking token to the tokens it looks at; the table below "
        + "lists the strongest links" }, linesPanel);
    fit(linesCanvas, 2 * lineRoom + gap + 8, 24 + Math.min(seq, MAX_LINES_SEQ) * rowH);
    Object.assign(linesCanvas.dataset, { rowHeight: rowH, top: 24, left: lineRoom,
                                         right: lineRoom + gap });

    function shownHeads() {  // the heads whose lines are drawn, in order
      return [...state.shown].filter((h) => h < data.heads).sort((a, b) => a - b);
    }

    function drawLines(focus) {  // focus: [side, token] to show alone ("from" or "to"), or null
      const g = linesCanvas.getContext("2d");
      g.fillStyle = P.paper;
      g.fillRect(0, 0, linesCanvas.width, linesCanvas.height);
      g.fillStyle = P.ink;
      g.font = LABEL_FONT;
      if (!layerHere(state.layer) || seq > MAX_LINES_SEQ) {
        g.fillText(layerHere(state.layer) ? "Too many tokens for lines: use the heatmap."
          : missing(state.layer), 4, 16);
        return;
      }
      g.fillText("looking token", 4, 12);
      g.textAlign = "right";
      g.fillText("token looked at", linesCanvas.css.w - 4, 12);
      const y = (i) => 24 + i * rowH + rowH / 2;
      const x0 = lineRoom + 2;
      const x1 = lineRoom + gap - 2;
      g.lineWidth = 2;
      shownHeads().forEach((h) => {
        const map = mapOf(state.layer, h);
        const peak = topOf(map);
        g.strokeStyle = headColour(h);
        g.setLineDash(headDash(h));
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
      g.setLineDash([]);
      g.textBaseline = "middle";
      for (let i = 0; i < seq; i += 1) {
        const from = focus && focus[0] === "from" && focus[1] === i;
        const to = focus && focus[0] === "to" && focus[1] === i;
        g.font = (from ? "bold " : "") + LABEL_FONT;
        g.fillStyle = from ? P.highlight : P.ink;
        g.textAlign = "right";
        g.fillText(lineLabels[i], lineRoom - 4, y(i));
        g.font = (to ? "bold " : "") + LABEL_FONT;
        g.fillStyle = to ? P.highlight : P.ink;
        g.textAlign = "left";
        g.fillText(lineLabels[i], lineRoom + gap + 4, y(i));
      }
      if (divider > 0) {
        g.strokeStyle = P.divider;
        g.lineWidth = 1;
        g.beginPath();
        g.moveTo(0, 24 + divider * rowH); g.lineTo(lineRoom, 24 + divider * rowH);
        g.moveTo(lineRoom + gap, 24 + divider * rowH);
        g.lineTo(linesCanvas.css.w, 24 + divider * rowH);
        g.stroke();
      }
    }

    function strongest(values, count) {  // indices of the largest values, largest first
      const best = [];  // kept sorted; ties: the lower index first
      for (let i = 0; i < values.length; i += 1) {
        if (best.length === count && values[i] <= values[best[count - 1]]) continue;
        let k = best.length;
        while (k > 0 && values[best[k - 1]] < values[i]) k -= 1;
        best.splice(k, 0, i);
        if (best.length > count) best.pop();
      }
      return best;
    }

    linesCanvas.addEventListener("mousemove", (event) => {
      const box = linesCanvas.getBoundingClientRect();
      const i = Math.floor((event.clientY - box.top - 24) / rowH);
      const x = event.clientX - box.left;
      if (!layerHere(state.layer) || seq > MAX_LINES_SEQ || i < 0 || i >= seq) return;
      const side = x > lineRoom + gap / 2 ? "to" : "from";
      tell(shownHeads().map((h) => {
        const map = mapOf(state.layer, h);
        const line = new Float32Array(seq);
        for (let k = 0; k < seq; k += 1) line[k] = side === "from" ? map[i * seq + k] : map[k * seq + i];
        const best = strongest(line, 1)[0];
        return "layer " + (state.layer + 1) + ", head " + (h + 1) + ": " + (side === "from"
          ? place(i) + " looks most at " + place(best)
          : place(i) + " is looked at most by " + place(best)) + ": " + line[best].toFixed(digits);
      }).join("\n") || null, event);
      drawLines([side, i]);
    });
    linesCanvas.addEventListener("mouseleave", () => {
      tell(null);
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
      const chip = element("button", { type: "button", class: "viewer-token",
        "data-position": i, "aria-pressed": "false", text: (i + 1) + "\u00a0" + t,
        style: "border:1px solid " + P.border + ";border-radius:3px;font:inherit;"
        + "padding:0 3px;cursor:pointer;background:" + P.paper + ";color:" + P.ink }, chips);
      chip.addEventListener("mouseenter", () => { if (!state.pinned) setFocus(i); });
      chip.addEventListener("click", () => {
        state.pinned = !(state.pinned && state.focus === i);
        setFocus(i);
        notify();
      });
      return chip;
    });
    const focusCanvases = ["from", "to"].map((side) => {
      const canvas = element("canvas", { class: "viewer-focus-" + side, role: "img",
        "aria-label": side === "from" ? "where the chosen token looks, one row per head"
          : "who looks at the chosen token, one row per head; the lists below say it in words" },
        focusPanel);
      canvas.addEventListener("mousemove", (event) => focusHover(canvas, side, event));
      canvas.addEventListener("mouseleave", () => { tell(null); });
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
        chip.style.background = i === state.focus ? P.chip : P.paper;
        chip.style.fontWeight = i === state.focus && state.pinned ? "bold" : "normal";
        chip.setAttribute("aria-pressed", String(i === state.focus && state.pinned));
      });
      lists.replaceChildren();
      if (!layerHere(state.layer)) {
        focusCanvases.forEach((canvas) => fit(canvas, 400, 24));
        const g = focusCanvases[0].getContext("2d");
        g.fillStyle = P.ink;
        g.font = LABEL_FONT;
        g.fillText(missing(state.layer), 4, 16);
        return;
      }
      const { left, top, cell, row } = focusGeometry;
      const step = Math.max(1, Math.ceil(11 / cell));
      ["from", "to"].forEach((side, s) => {
        const canvas = focusCanvases[s];
        const values = focusValues(side);
        fit(canvas, left + seq * cell + 8, top + data.heads * row + 40);
        const g = canvas.getContext("2d");
        g.fillStyle = P.paper;
        g.fillRect(0, 0, canvas.width, canvas.height);
        g.fillStyle = P.ink;
        g.font = "bold " + LABEL_FONT;
        g.textBaseline = "middle";
        g.fillText((side === "from" ? "Where " + place(state.focus) + " looks"
          : "Who looks at " + place(state.focus)) + ", layer " + (state.layer + 1)
          + " (one row per head)", 4, 9);
        g.font = LABEL_FONT;
        const top1 = state.scale === "shared" ? 1 : Math.max(...values) || 1;
        const image = new ImageData(seq, data.heads);
        paint(image, values, 1 / top1, P.lut);
        scratch.width = seq;
        scratch.height = data.heads;
        scratch.getContext("2d").putImageData(image, 0, 0);
        g.imageSmoothingEnabled = false;
        g.drawImage(scratch, left, top, seq * cell, data.heads * row);
        g.textAlign = "right";
        for (let h = 0; h < data.heads; h += 1) g.fillText("head " + (h + 1), left - 4, top + h * row + row / 2);
        g.textAlign = "center";
        for (let k = 0; k < seq; k += step) g.fillText(String(k + 1), left + k * cell + cell / 2, top + data.heads * row + 8);
        g.strokeStyle = P.highlight;
        g.lineWidth = 2;
        g.strokeRect(left + state.focus * cell - 1, top - 1, cell + 2, data.heads * row + 2);
        if (divider > 0) {
          g.strokeStyle = P.divider;
          g.beginPath();
          g.moveTo(left + divider * cell, top - 4);
          g.lineTo(left + divider * cell, top + data.heads * row + 2);
          g.stroke();
        }
        g.fillStyle = P.ink;
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
            : place(k) + " \u2192 " + place(state.focus)) + ": " + mean[k].toFixed(digits) }, list);
        });
      });
    }

    function focusHover(canvas, side, event) {
      if (!layerHere(state.layer)) return;
      const { left, top, cell, row } = focusGeometry;
      const box = canvas.getBoundingClientRect();
      const k = Math.floor((event.clientX - box.left - left) / cell);
      const h = Math.floor((event.clientY - box.top - top) / row);
      if (k < 0 || k >= seq || h < 0 || h >= data.heads) { tell(null); return; }
      const map = mapOf(state.layer, h);
      const [from, to] = side === "from" ? [state.focus, k] : [k, state.focus];
      tell("layer " + (state.layer + 1) + ", head " + (h + 1) + ": " + place(from)
        + " \u2192 " + place(to) + ": " + map[from * seq + to].toFixed(digits), event);
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
    qkToken.addEventListener("change", () => { state.focus = Number(qkToken.value); drawQK(); notify(); });
    const qkScroll = element("div", { style: "max-width:100%;max-height:760px;overflow:auto" },
                             qkPanel);
    const qkCanvas = element("canvas", { class: "viewer-qk-canvas", role: "img",
      "aria-label": "the query of the looking token, every key, their products, the scores "
        + "and their softmax; hover for each number" }, qkScroll);
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
        fit(qkCanvas, data.qk_error ? 900 : 420, 24);
        g.fillStyle = P.paper; g.fillRect(0, 0, qkCanvas.css.w, 24);
        g.fillStyle = P.ink; g.font = LABEL_FONT;
        if (data.qk_error) {
          g.fillStyle = P.ink; g.font = LABEL_FONT;
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
      fit(qkCanvas, Math.max(x4 + 126, Math.ceil(measure.measureText("one row per token "
        + "looked at; q x k feature by feature; blue < 0 < red; score = sum of q x k / 64").width) + 8),
          top + seq * rh + 30);
      g.fillStyle = P.paper;
      g.fillRect(0, 0, qkCanvas.width, qkCanvas.height);
      let vmax = 0;
      for (let i = 0; i < keys.length; i += 1) vmax = Math.max(vmax, Math.abs(keys[i]));
      for (let f = 0; f < d; f += 1) vmax = Math.max(vmax, Math.abs(query[f]));
      let pmax = 0;
      for (let i = 0; i < products.length; i += 1) pmax = Math.max(pmax, Math.abs(products[i]));
      g.font = "bold " + LABEL_FONT;
      g.fillStyle = P.ink;
      g.textBaseline = "middle";
      g.fillText("layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": query of "
                 + place(state.focus) + " (" + d + " numbers)", 4, 9);
      for (let f = 0; f < d; f += 1) {
        g.fillStyle = diverging(query[f], vmax);
        g.fillRect(x1 + f * cw, 18, cw, rh);
      }
      g.strokeStyle = P.ink;
      g.strokeRect(x1 - 0.5, 17.5, d * cw + 1, rh + 1);
      g.fillStyle = P.ink;
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
        g.fillStyle = P.ink;
        g.fillText(lineLabels[j], left - 4, y + rh / 2);
        for (let f = 0; f < d; f += 1) {
          g.fillStyle = diverging(keys[j * d + f], vmax);
          g.fillRect(x1 + f * cw, y, cw, rh - 1);
          g.fillStyle = diverging(products[j * d + f], pmax);
          g.fillRect(x2 + f * cw, y, cw, rh - 1);
        }
        g.fillStyle = P.ink;
        g.textAlign = "right";
        g.fillText(scores[j].toFixed(2), x3 + 40, y + rh / 2);
        g.fillStyle = "rgb(" + colourOf(P.anchors, soft[j]).join(",") + ")";
        g.fillRect(x4, y + 1, Math.max(1, soft[j] * 64), rh - 3);
        g.strokeStyle = "#8a8f98";
        g.strokeRect(x4 + 0.5, y + 1.5, 64, rh - 4);
        g.fillStyle = P.ink;
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
      if (j < 0 || j >= seq) { tell(null); return; }
      const f = Math.floor((x - (x < x2 ? x1 : x2)) / cw);
      const head = "layer " + (state.layer + 1) + ", head " + (state.head + 1) + ": ";
      if (x >= x1 && x < x1 + d * cw) {
        tell(head + "key of " + place(j) + ", feature " + (f + 1) + ": "
          + numbers.keys[j * d + f].toFixed(4), event);
      } else if (x >= x2 && x < x2 + d * cw) {
        tell(head + "query of " + place(state.focus) + " \u00d7 key of "
          + place(j) + ", feature " + (f + 1) + ": " + numbers.products[j * d + f].toFixed(4), event);
      } else if (x >= x3 && x < x4) {
        tell(head + "score " + place(state.focus) + " \u2192 " + place(j) + ": "
          + numbers.scores[j].toFixed(4), event);
      } else if (x >= x4) {
        tell(head + "softmax " + place(state.focus) + " \u2192 " + place(j)
          + ": " + numbers.weights[j].toFixed(4), event);
      }
    });
    qkCanvas.addEventListener("mouseleave", () => { tell(null); });

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
      markGrid();
      mapCanvas.setAttribute("aria-label", caption() + "; the table below lists its strongest "
                             + "links");
      hoverCanvas.setAttribute("aria-label", title(layer, head) + ": arrow keys move between "
                               + "cells, each cell's tokens and weight are read out");
      if (state.mode === "heatmap") { drawMap(); drawHover(); }
      if (state.mode === "lines") drawLines(null);
      if (state.mode === "token") drawFocus();
      if (state.mode === "qk") drawQK();
      if (state.mode === "heatmap" || state.mode === "lines") drawTable();
      if (!quiet && options.onSelect) options.onSelect(layer, head);
    }

    function notify() {  // tell the notebook what is shown now (the view, token and scale)
      if (options.onState) options.onState({ mode: state.mode, focus: state.focus,
                                             scale: state.scale });
    }

    function showMode() {
      scroller.style.display = state.mode === "heatmap" ? "block" : "none";
      linesPanel.style.display = state.mode === "lines" ? "block" : "none";
      focusPanel.style.display = state.mode === "token" ? "block" : "none";
      qkPanel.style.display = state.mode === "qk" ? "block" : "none";
      tableBox.style.display = state.mode === "heatmap" || state.mode === "lines" ? "" : "none";
      zoomSelect.parentElement.style.display = state.mode === "heatmap" ? "" : "none";
    }

    function apply(changes) {  // a view, token or scale chosen from Python
      if (changes.mode && modeSelect.querySelector("option[value='" + changes.mode + "']")) {
        state.mode = changes.mode;
      }
      if (changes.focus !== undefined) state.focus = Math.min(Math.max(changes.focus, 0), seq - 1);
      if (changes.scale) state.scale = changes.scale;
      modeSelect.value = state.mode;
      scaleSelect.value = state.scale;
      showMode();
      select(state.layer, state.head, true);
    }

    function currentCanvases() {  // what the PNG shows: the grid and the drawn view
      const shown = parts === "head" ? [] : [gridCanvas];
      if (state.mode === "heatmap") shown.push(mapCanvas);
      if (state.mode === "lines") shown.push(linesCanvas);
      if (state.mode === "token") shown.push(...focusCanvases);
      if (state.mode === "qk") shown.push(qkCanvas);
      return shown;
    }

    function exportTitle() {  // model, sentence, layer and head: what a saved file shows
      const text = data.text ? "\u201c" + (data.text.length > 80 ? data.text.slice(0, 79)
        + "\u2026" : data.text) + "\u201d" : "";
      return [data.model || "Attention", text, title(state.layer, state.head)]
        .filter(Boolean).join(" \u00b7 ");
    }

    function viewPicture() {  // one canvas: the pieces side by side (token focus: stacked)
      const pieces = currentCanvases();
      const side = pieces.length && state.mode === "token" ? pieces.slice(1) : [];
      const row = state.mode === "token" ? pieces.slice(0, 1) : pieces;
      const stackW = Math.max(0, ...side.map((c) => c.css.w));
      const stackH = side.reduce((sum, c) => sum + c.css.h, 0);
      const heading = exportTitle() + " (" + modeSelect.options[modeSelect.selectedIndex].text
        + "; colours: " + scaleSelect.options[scaleSelect.selectedIndex].text + ")"
        + (data.note ? ". " + data.note : "");
      const band = 22;  // px: the title above the pieces
      const width = row.reduce((sum, c) => sum + c.css.w + 12, 0) + stackW;
      const height = band + Math.max(stackH, ...row.map((c) => c.css.h));
      const out = document.createElement("canvas");
      fit(out, Math.max(width, Math.ceil(measure.measureText(heading).width * 1.2) + 8), height);
      const g = out.getContext("2d");
      g.fillStyle = P.paper;
      g.fillRect(0, 0, out.css.w, out.css.h);
      g.fillStyle = P.ink;
      g.font = "bold 12px sans-serif";
      g.textBaseline = "middle";
      g.fillText(heading, 4, band / 2);
      let x = 0;
      row.forEach((c) => { g.drawImage(c, x, band, c.css.w, c.css.h); x += c.css.w + 12; });
      let y = band;
      side.forEach((c) => { g.drawImage(c, x, y, c.css.w, c.css.h); y += c.css.h; });
      return out;
    }

    function fileStem() {
      return "attention-layer" + (state.layer + 1) + "-head" + (state.head + 1);
    }

    pngButton.addEventListener("click", () => {
      viewPicture().toBlob((blob) => saveFile(fileStem() + ".png", blob), "image/png");
    });
    htmlButton.addEventListener("click", async () => {
      const [packedWeights, packedThumbs] = await Promise.all(
        [[weights, seq], [thumbValues, 0]].map(([values, side]) => (values ? packed(values, side)
          : "")));
      const carried = Object.assign({}, data, { weights: packedWeights, thumbs: packedThumbs,
        bits: 8, packed: true, layer: state.layer, head: state.head, mode: state.mode,
        scale: state.scale, focus: state.focus, qk: qkBytes.length ? base64Of(qkBytes) : "",
        parts: parts === "head" ? "head" : "all" });
      saveFile(fileStem() + ".html", new Blob([pageHtml(carried, exportTitle())],
                                              { type: "text/html" }));
    });

    layerSelect.addEventListener("change", () => select(Number(layerSelect.value), state.head));
    headSelect.addEventListener("change", () => select(state.layer, Number(headSelect.value)));
    scaleSelect.addEventListener("change", () => {
      state.scale = scaleSelect.value;
      select(state.layer, state.head, true);
      notify();
    });
    modeSelect.addEventListener("change", () => {
      state.mode = modeSelect.value;
      showMode();
      select(state.layer, state.head, true);
      notify();
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
    return { select: select, apply: apply, state: state, picture: viewPicture,
             numbers: qkNumbers };
  }

  async function packed(values, seq) {  // weights in [0, 1] -> 8 bits, deflated, base64;
    const bytes = new Uint8Array(values.length);  // with `seq`, each map column by column
    for (let i = 0; i < values.length; i += 1) bytes[i] = Math.round(values[i] * 255);
    if (seq) bytes.set(transposed(bytes, seq));
    const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
    return base64Of(new Uint8Array(await new Response(stream).arrayBuffer()));
  }

  async function load(root, data, options) {  // mount, once packed numbers are unpacked
    return mount(root, await inflated(data), options);
  }

  window.AttentionViewer = { mount: mount, load: load, pageHtml: pageHtml, saveFile: saveFile };
})();
