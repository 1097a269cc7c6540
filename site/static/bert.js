// BERT in the browser: the course's WordPiece tokenizer and forward pass, in plain JavaScript.
//
// A mirror of course_lib (tokenizer.py, embeddings.py, attention.py, layers.py, model.py) for the
// course site: a visitor types a text and sees every head of every layer with no kernel and no
// network beyond this site. No dependency; Float32Array arithmetic, one token row at a time.
// The weights come from site/browser_model.py (a manifest and one binary file, fp32 or fp16).
// Layers and heads are counted from 0 here, as in Python; the page shows them from 1.

(function (global) {
  "use strict";

  const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  const SPECIAL_RE = /(\[PAD\]|\[UNK\]|\[CLS\]|\[SEP\]|\[MASK\])/;
  const CJK_RANGES = [[0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f],
    [0x2b740, 0x2b81f], [0x2b820, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f]];
  const CONTROL = /^\p{C}$/u;
  const SPACE_SEPARATOR = /^\p{Zs}$/u;
  const PUNCTUATION = /^\p{P}$/u;
  const NONSPACING_MARK = /\p{Mn}/gu;

  // ---- stage 1: basic tokenization (tokenizer.py: basic_tokenize) ----------------------------
  function isCjk(code) {
    return code >= 0x3400 && CJK_RANGES.some(([low, high]) => low <= code && code <= high);
  }
  function isWhitespace(ch) { return " \t\n\r".includes(ch) || SPACE_SEPARATOR.test(ch); }
  function isControl(ch) { return !"\t\n\r".includes(ch) && CONTROL.test(ch); }
  function isPunctuation(ch) {
    const code = ch.codePointAt(0);
    return (code >= 33 && code <= 47) || (code >= 58 && code <= 64) ||
      (code >= 91 && code <= 96) || (code >= 123 && code <= 126) || PUNCTUATION.test(ch);
  }

  function splitOnPunctuation(word) {
    const pieces = [];
    let current = "";
    for (const ch of word) {
      if (isPunctuation(ch)) {
        if (current) pieces.push(current);
        pieces.push(ch);
        current = "";
      } else {
        current += ch;
      }
    }
    if (current) pieces.push(current);
    return pieces;
  }

  function basicTokenizePart(text, lowercase) {
    let cleaned = "";
    for (const ch of text) {  // for...of walks code points, as Python does
      if (ch === "\u0000" || ch === "\ufffd" || isControl(ch)) continue;
      const spaced = isWhitespace(ch) ? " " : ch;
      cleaned += isCjk(spaced.codePointAt(0)) ? ` ${spaced} ` : spaced;
    }
    const words = [];
    for (let word of cleaned.normalize("NFC").split(/\s+/u)) {
      if (!word) continue;
      if (SPECIAL_TOKENS.includes(word)) { words.push(word); continue; }
      if (lowercase) {
        word = word.toLowerCase().normalize("NFD").replace(NONSPACING_MARK, "");
      }
      words.push(...splitOnPunctuation(word));
    }
    return words;
  }

  function basicTokenize(text, lowercase) {
    const words = [];
    text.split(SPECIAL_RE).forEach((part, index) => {
      if (index % 2 === 1) words.push(part);
      else if (part) words.push(...basicTokenizePart(part, lowercase));
    });
    return words;
  }

  // ---- stage 2: WordPiece, greedy longest match first (tokenizer.py: _wordpiece) -------------
  function wordpiece(word, vocab, longest, maxChars) {
    const chars = Array.from(word);  // code points, as Python's len() counts
    if (chars.length > maxChars) return ["[UNK]"];
    const pieces = [];
    let start = 0;
    while (start < chars.length) {
      const prefix = start > 0 ? "##" : "";
      let end = Math.min(chars.length, start + longest);
      let piece = null;
      while (end > start) {
        const candidate = prefix + chars.slice(start, end).join("");
        if (vocab.has(candidate)) { piece = candidate; break; }
        end -= 1;
      }
      if (piece === null) return ["[UNK]"];
      pieces.push(piece);
      start = end;
    }
    return pieces;
  }

  class Tokenizer {
    constructor(tokens, lowercase = true, maxCharsPerWord = 100) {
      this.tokens = tokens;
      this.vocab = new Map(tokens.map((token, id) => [token, id]));
      this.lowercase = lowercase;
      this.maxChars = maxCharsPerWord;
      this.longest = Math.max(...tokens.map((t) => Array.from(t).length));
    }
    tokenize(text) {
      const out = [];
      for (const word of basicTokenize(text, this.lowercase)) {
        if (SPECIAL_TOKENS.includes(word)) out.push(word);
        else out.push(...wordpiece(word, this.vocab, this.longest, this.maxChars));
      }
      return out;
    }
    // [CLS] a [SEP] (b [SEP]), cut to maxLength as tokenizer.py's encode does: a single text
    // keeps its first tokens; a pair loses tokens from the longer text (on a tie, from b).
    encode(text, pair = null, maxLength = 512) {
      let a = this.tokenize(text);
      let b = pair === null ? null : this.tokenize(pair);
      if (b === null) {
        a = a.slice(0, maxLength - 2);
      } else {
        while (a.length + b.length > maxLength - 3) {
          if (a.length > b.length) a = a.slice(0, -1); else b = b.slice(0, -1);
        }
      }
      const tokens = ["[CLS]", ...a, "[SEP]", ...(b ? [...b, "[SEP]"] : [])];
      const typeIds = tokens.map((_, i) => (i < a.length + 2 ? 0 : 1));
      const unk = this.vocab.get("[UNK]");
      return { tokens, ids: tokens.map((t) => this.vocab.get(t) ?? unk), typeIds };
    }
  }

  // ---- the forward pass (model.py: embeddings -> encoder layers) ------------------------------
  // x (rows, inDim) -> x W^T + b, W (outDim, inDim) row-major as nn.Linear keeps it. Four rows
  // of x share each load of a weight: the weights are the memory traffic that costs.
  function linear(x, rows, inDim, weight, bias, outDim) {
    const y = new Float32Array(rows * outDim);
    let r = 0;
    for (; r + 3 < rows; r += 4) {
      const x0 = r * inDim, x1 = x0 + inDim, x2 = x1 + inDim, x3 = x2 + inDim;
      for (let o = 0; o < outDim; o++) {
        const wo = o * inDim;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let i = 0; i < inDim; i++) {
          const w = weight[wo + i];
          s0 += x[x0 + i] * w;
          s1 += x[x1 + i] * w;
          s2 += x[x2 + i] * w;
          s3 += x[x3 + i] * w;
        }
        const b = bias[o];
        y[r * outDim + o] = s0 + b;
        y[(r + 1) * outDim + o] = s1 + b;
        y[(r + 2) * outDim + o] = s2 + b;
        y[(r + 3) * outDim + o] = s3 + b;
      }
    }
    for (; r < rows; r++) {  // the last rows, one at a time
      const xr = r * inDim;
      for (let o = 0; o < outDim; o++) {
        const wo = o * inDim;
        let s = 0;
        for (let i = 0; i < inDim; i++) s += x[xr + i] * weight[wo + i];
        y[r * outDim + o] = s + bias[o];
      }
    }
    return y;
  }

  function layerNorm(x, rows, dim, gamma, beta, eps) {  // in place, over the last axis
    for (let r = 0; r < rows; r++) {
      const off = r * dim;
      let mean = 0;
      for (let i = 0; i < dim; i++) mean += x[off + i];
      mean /= dim;
      let variance = 0;
      for (let i = 0; i < dim; i++) { const d = x[off + i] - mean; variance += d * d; }
      const scale = 1 / Math.sqrt(variance / dim + eps);
      for (let i = 0; i < dim; i++) x[off + i] = (x[off + i] - mean) * scale * gamma[i] + beta[i];
    }
    return x;
  }

  // JavaScript has no erf: this is 1 - erfc(x) with the Chebyshev-fitted erfc of Numerical
  // Recipes (Press et al., 3rd ed. 2007, section 6.2.2), fractional error below 1.2e-7.
  function erf(x) {
    const z = Math.abs(x);
    const t = 1 / (1 + 0.5 * z);
    const tau = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 +
      t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 +
      t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? 1 - tau : tau - 1;
  }

  function gelu(x) {  // in place: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), layers.py
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * x[i] * (1 + erf(x[i] / Math.SQRT2));
    return x;
  }

  class Model {
    constructor(config, tensors, tokenizer) {
      this.config = config;
      this.t = tensors;  // our parameter names -> Float32Array
      this.tokenizer = tokenizer;
    }

    embed(ids, typeIds) {  // embeddings.py: word + position + segment, then LayerNorm
      const H = this.config.hidden_size;
      const x = new Float32Array(ids.length * H);
      const word = this.t["embeddings.word_embeddings.weight"];
      const position = this.t["embeddings.position_embeddings.weight"];
      const segment = this.t["embeddings.token_type_embeddings.weight"];
      ids.forEach((id, p) => {
        for (let i = 0; i < H; i++) {
          x[p * H + i] = word[id * H + i] + position[p * H + i] + segment[typeIds[p] * H + i];
        }
      });
      return layerNorm(x, ids.length, H, this.t["embeddings.layer_norm.weight"],
        this.t["embeddings.layer_norm.bias"], this.config.layer_norm_eps);
    }

    // One encoder layer (layers.py: EncoderLayer, post-LN): returns [output, maps per head].
    layer(x, seq, index) {
      const c = this.config, H = c.hidden_size, heads = c.num_heads, d = H / heads;
      const p = (name) => this.t[`encoder.layers.${index}.${name}`];
      const q = linear(x, seq, H, p("attention.query.weight"), p("attention.query.bias"), H);
      const k = linear(x, seq, H, p("attention.key.weight"), p("attention.key.bias"), H);
      const v = linear(x, seq, H, p("attention.value.weight"), p("attention.value.bias"), H);
      const context = new Float32Array(seq * H);
      const maps = [];
      const scale = 1 / Math.sqrt(d);
      for (let h = 0; h < heads; h++) {  // head h uses columns h*d .. (h+1)*d of q, k, v
        const w = new Float32Array(seq * seq);  // (seq_q, seq_k)
        for (let i = 0; i < seq; i++) {
          const qi = i * H + h * d, row = i * seq;
          let max = -Infinity;
          for (let j = 0; j < seq; j++) {  // scores: q_i . k_j / sqrt(d)
            const kj = j * H + h * d;
            let s = 0;
            for (let e = 0; e < d; e++) s += q[qi + e] * k[kj + e];
            w[row + j] = s * scale;
            if (w[row + j] > max) max = w[row + j];
          }
          let sum = 0;  // softmax over the keys
          for (let j = 0; j < seq; j++) { w[row + j] = Math.exp(w[row + j] - max); sum += w[row + j]; }
          for (let j = 0; j < seq; j++) w[row + j] /= sum;
          for (let j = 0; j < seq; j++) {  // weighted sum of the values
            const a = w[row + j], vj = j * H + h * d;
            for (let e = 0; e < d; e++) context[qi + e] += a * v[vj + e];
          }
        }
        maps.push(w);
      }
      const attended = linear(context, seq, H, p("attention.output.weight"), p("attention.output.bias"), H);
      for (let i = 0; i < attended.length; i++) attended[i] += x[i];  // residual
      const h1 = layerNorm(attended, seq, H, p("attention_norm.weight"), p("attention_norm.bias"), c.layer_norm_eps);
      const inner = gelu(linear(h1, seq, H, p("feed_forward.intermediate.weight"),
        p("feed_forward.intermediate.bias"), c.intermediate_size));
      const out = linear(inner, seq, c.intermediate_size, p("feed_forward.output.weight"),
        p("feed_forward.output.bias"), H);
      for (let i = 0; i < out.length; i++) out[i] += h1[i];  // residual
      return [layerNorm(out, seq, H, p("output_norm.weight"), p("output_norm.bias"), c.layer_norm_eps), maps];
    }

    // ids -> {hiddenStates: [embeddings, layer 1, ...], attentions: [layer][head] (seq*seq)}.
    // onLayer(index, maps) is called as each layer finishes, so a page can draw layer 1 first.
    async forward(ids, typeIds, onLayer = null) {
      const seq = ids.length;
      let x = this.embed(ids, typeIds || ids.map(() => 0));
      const hiddenStates = [x], attentions = [];
      for (let index = 0; index < this.config.num_layers; index++) {
        const [out, maps] = this.layer(x, seq, index);
        hiddenStates.push(out);
        attentions.push(maps);
        x = out;
        if (onLayer) {
          onLayer(index, maps);
          await new Promise((resolve) => setTimeout(resolve, 0));  // let the page paint
        }
      }
      return { hiddenStates, attentions };
    }
  }

  function halfToFloat(bits) {
    const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
    if (exponent === 0) return sign * Math.pow(2, -14) * (fraction / 1024);
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * Math.pow(2, exponent - 15) * (1 + fraction / 1024);
  }

  // Fetch a model exported by site/browser_model.py: manifest.json, vocab.txt, weights.bin.
  async function load(baseUrl) {
    const get = async (name) => {
      const response = await fetch(new URL(name, baseUrl));
      if (!response.ok) throw new Error(`could not load ${name}: HTTP ${response.status}`);
      return response;
    };
    const manifest = await (await get("manifest.json")).json();
    const vocab = (await (await get("vocab.txt")).text()).split("\n");
    if (vocab[vocab.length - 1] === "") vocab.pop();
    const buffer = await (await get(manifest.weights)).arrayBuffer();
    const tensors = {};
    for (const [name, entry] of Object.entries(manifest.tensors)) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      if (manifest.dtype === "float16") {
        const half = new Uint16Array(buffer, entry.offset, count);
        const values = new Float32Array(count);
        for (let i = 0; i < count; i++) values[i] = halfToFloat(half[i]);
        tensors[name] = values;
      } else {
        tensors[name] = new Float32Array(buffer, entry.offset, count);
      }
    }
    return new Model(manifest.config, tensors, new Tokenizer(vocab, manifest.lowercase));
  }

  global.CourseBert = { load, Tokenizer, Model, erf };
})(typeof window !== "undefined" ? window : globalThis);
