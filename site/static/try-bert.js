// "Type your own text" on the course site: the shipped MiniLM runs in this page (bert.js), and
// the attention viewer (viewer.js, the explorer's own renderer) shows every head of every layer.
// No kernel, no network beyond this site: the weights are fetched only when the visitor asks.
(function () {
  "use strict";
  const MAX_TOKENS = 128;
  const THUMB = 48;  // as the Python explorer's thumbnails (interactive.py: THUMB)
  let model = null;

  // Maps (layer, head, seq, seq) -> the viewer's data (interactive.py: viewer_parts, 16-bit).
  function viewerData(enc, attentions, text) {
    const layers = attentions.length, heads = attentions[0].length, seq = enc.ids.length;
    const weights = new Uint16Array(layers * heads * seq * seq);
    const side = Math.min(THUMB, seq);
    const thumbs = new Uint16Array(layers * heads * side * side);
    const edge = (k) => Math.floor((k * seq) / side);  // first index of each block
    attentions.forEach((maps, l) => maps.forEach((w, h) => {
      const at = (l * heads + h) * seq * seq;
      for (let i = 0; i < seq * seq; i++) weights[at + i] = Math.round(Math.min(1, Math.max(0, w[i])) * 65535);
      const small = (l * heads + h) * side * side;
      for (let r = 0; r < side; r++) {  // rows averaged in blocks, columns summed
        const r0 = edge(r), r1 = r + 1 < side ? edge(r + 1) : seq;
        for (let c = 0; c < side; c++) {
          const c0 = edge(c), c1 = c + 1 < side ? edge(c + 1) : seq;
          let sum = 0;
          for (let i = r0; i < r1; i++) for (let j = c0; j < c1; j++) sum += w[i * seq + j];
          thumbs[small + r * side + c] = Math.round(Math.min(1, sum / (r1 - r0)) * 65535);
        }
      }
    }));
    return { tokens: enc.tokens, segments: enc.typeIds, layers, heads, seq,
      head_names: [...Array(heads).keys()].map((h) => String(h + 1)), rollout: false,
      included: [...Array(layers).keys()], thumb: side, layer: 0, head: 0, note: "",
      parts: "all", hidden_rows: [], hidden_cols: [], description: "", bits: 16,
      qk_layer: -1, head_size: 0, model: "all-MiniLM-L6-v2, run in your browser", text,
      weights: new DataView(weights.buffer), thumbs: new DataView(thumbs.buffer) };
  }

  function setUp(box) {
    const megabytes = Math.round(Number(box.dataset.bytes) / 1e6);
    box.innerHTML = "";
    const label = document.createElement("label");
    label.textContent = "Your text (up to " + MAX_TOKENS + " tokens): ";
    const input = document.createElement("textarea");
    input.rows = 3;
    input.className = "try-bert-text";
    input.value = "The cat sat on the mat because it was tired.";
    label.appendChild(input);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "try-bert-run";
    button.textContent = "Show its attention (loads MiniLM, " + megabytes + " MB, once)";
    const status = document.createElement("p");
    status.className = "try-bert-status";
    status.setAttribute("aria-live", "polite");
    const view = document.createElement("div");
    view.className = "try-bert-view";
    box.append(label, button, status, view);
    let viewer = null;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        if (!model) {
          status.textContent = "Loading MiniLM's weights (" + megabytes + " MB)...";
          model = await CourseBert.load(new URL(box.dataset.model, location.href));
        }
        const text = input.value;
        const enc = model.tokenizer.encode(text, null, MAX_TOKENS);
        const started = performance.now();
        const out = await model.forward(enc.ids, enc.typeIds, (layer) => {
          status.textContent = "Layer " + (layer + 1) + " of " + model.config.num_layers + " done...";
        });
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        if (viewer && viewer.destroy) viewer.destroy();
        view.innerHTML = "";
        viewer = AttentionViewer.mount(view, viewerData(enc, out.attentions, text), {});
        status.textContent = enc.ids.length + " tokens, every head of every layer computed in " +
          "your browser in " + seconds + " s.";
      } catch (error) {
        status.textContent = "Could not run the model: " + error.message;
      } finally {
        button.disabled = false;
      }
    });
  }

  function start() { document.querySelectorAll(".try-bert").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
