// d-DeVIS live mode: the microphone streams through the recorder's AudioWorklet; about five
// times a second the last second goes to POST /api/live/ (one request in flight at a time,
// a tick is skipped while one is out), and the answer moves the ten probability bars, every
// layer's per-filter energy strip, the chosen filter's map and its energy over time. The
// scrolling spectrogram is drawn in the browser from an AnalyserNode.
//
// Freeze (the button, Space or F): the last few seconds go into the freeze form's file field
// and the form is sent (htmx), so the take is saved by the lab's own upload and opens there.
// Nothing leaves the browser for good before that.
//
// Markup: templates/live/live.html ([data-live] and its parts).

import { h } from "./dom.js";
import { encodeWav } from "./wav.js";

const RATE = 16000; // the rate asked of the audio context: what the server keeps (canonical audio)
const SHOWN_HZ = 8000; // the spectrogram shows 0-8 kHz whatever the context's rate
const TICK_MS = 200; // five windows a second
const HISTORY = 150; // columns kept in the strips and the trace: 30 s at five a second

// A perceptual dark-to-bright ramp (close to magma) for energies in [0, 1].
const RAMP = [
  [0, [12, 8, 38]],
  [0.25, [80, 18, 123]],
  [0.5, [182, 54, 121]],
  [0.75, [251, 136, 97]],
  [1, [252, 253, 191]],
];
function colour(t) {
  const x = Math.max(0, Math.min(1, t));
  for (let i = 1; i < RAMP.length; i++) {
    const [b, cb] = RAMP[i];
    if (x <= b) {
      const [a, ca] = RAMP[i - 1];
      const f = (x - a) / (b - a);
      return ca.map((v, k) => Math.round(v + (cb[k] - v) * f));
    }
  }
  return RAMP[RAMP.length - 1][1];
}
const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (_) {
    return "";
  }
}

/** Shift a canvas one column (`w` px) to the left and return the context, to draw the new column. */
function scroll(canvas, w) {
  const ctx = canvas.getContext("2d");
  ctx.drawImage(canvas, w, 0, canvas.width - w, canvas.height, 0, 0, canvas.width - w, canvas.height);
  return ctx;
}

class Live {
  constructor(el) {
    this.el = el;
    this.api = el.dataset.api;
    this.windowS = parseFloat(el.dataset.windowS) || 1;
    this.freezeS = parseFloat(el.dataset.freezeS) || 3;
    this.classroom = el.dataset.classroom === "1";
    this.versions = JSON.parse(el.dataset.versions);
    this.part = (name) => el.querySelector(`[data-live-${name}]`);
    this.ctx = null;
    this.stream = null;
    this.worklet = null;
    this.analyser = null;
    this.rate = RATE;
    this.ring = new Float32Array(Math.ceil(this.freezeS * this.rate));
    this.written = 0; // samples ever written into the ring
    this.timer = 0;
    this.raf = 0;
    this.busy = false;
    this.pauseUntil = 0;
    this.stats = { sent: 0, skipped: 0, errors: 0, times: [], started: 0 };
    this.trace = [];
    this.layerMax = {};
    this.build();
  }

  get version() {
    const id = parseInt(this.part("version").value, 10);
    return this.versions.find((v) => v.id === id) || this.versions[0];
  }

  // ------------------------------------------------------------ DOM
  build() {
    this.part("start").addEventListener("click", () => this.start());
    this.part("stop").addEventListener("click", () => this.stop("Microphone is off."));
    this.part("freeze").addEventListener("click", () => this.freeze());
    this.part("fullscreen")?.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else this.el.requestFullscreen?.().catch(() => {});
    });
    this.part("version").addEventListener("change", () => this.versionChanged());
    this.part("layer").addEventListener("change", () => {
      this.startOnALiveFilter();
      this.filterChanged();
    });
    this.part("filter").addEventListener("input", () => this.filterChanged());
    document.addEventListener("keydown", (e) => {
      if (!this.el.isConnected || e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
      const typing = e.target.closest?.("input, select, textarea, [contenteditable]");
      if (typing) return;
      if (e.code === "Space" || e.key === "f" || e.key === "F") {
        e.preventDefault(); // Space would scroll the page or press the focused button
        this.freeze();
      }
    });
    const form = this.part("freeze-form");
    form.addEventListener("htmx:afterRequest", (e) => {
      if (e.detail.successful && e.detail.xhr.getResponseHeader("HX-Redirect")) {
        this.stop("Saved. Opening the take…");
      } else {
        this.setStatus("Not saved; the reason is below.");
        this.part("freeze").disabled = !this.stream;
        if (this.stream && !this.timer) this.timer = setInterval(() => this.tick(), TICK_MS);
      }
    });
    this.versionChanged();
  }

  versionChanged() {
    const version = this.version;
    this.part("freeze-version").value = String(version.id);
    const link = this.part("classroom-link");
    if (link) link.href = `${link.pathname}?classroom=1&model_version=${version.id}`;
    // The bars: one per label, in the version's order.
    const bars = this.part("bars");
    bars.replaceChildren(
      ...version.labels.map((label) =>
        h(
          "div",
          { class: "live-bar", "data-label": label, "data-probability": "0" },
          h("span", { class: "live-bar-label", text: label }),
          h("span", { class: "live-bar-track" }, h("span", { class: "live-bar-fill" })),
          h("span", { class: "live-bar-value", text: "0%" }),
        ),
      ),
    );
    // The layer picker and one strip per layer (rows = filters).
    const select = this.part("layer");
    const keep = select.value;
    select.replaceChildren(...version.layers.map((layer) => h("option", { value: layer.name, text: `${layer.name} (${layer.filters})` })));
    if (version.layers.some((l) => l.name === keep)) select.value = keep;
    else if (version.layers.length > 1) select.value = version.layers[1].name; // a middle layer says most
    const strips = this.part("layers");
    strips.replaceChildren(
      ...version.layers.map((layer) => {
        const canvas = h("canvas", {
          class: "live-strip",
          width: String(HISTORY * 4),
          height: String(layer.filters * 6),
          "data-layer": layer.name,
          "aria-label": `Energy of the ${layer.filters} filters of ${layer.name} over time`,
        });
        canvas.style.height = `${Math.max(40, layer.filters * 4)}px`; // a row a filter, whatever the width
        canvas.addEventListener("click", (e) => {
          const rect = canvas.getBoundingClientRect();
          const row = Math.floor(((e.clientY - rect.top) / rect.height) * layer.filters);
          select.value = layer.name;
          this.part("filter").value = String(Math.max(0, Math.min(layer.filters - 1, row)));
          this.filterChanged();
        });
        return h("div", { class: "live-strip-row" }, h("span", { class: "live-strip-name", text: layer.name }), canvas);
      }),
    );
    this.layerMax = {};
    this.startOnALiveFilter();
    this.filterChanged();
  }

  // A dead filter (never active on the evaluation set) shows nothing: begin on the first that lives.
  startOnALiveFilter() {
    const layer = this.version.layers.find((l) => l.name === this.part("layer").value);
    const input = this.part("filter");
    const dead = new Set((layer && layer.dead) || []);
    if (!layer || !dead.has(parseInt(input.value, 10))) return;
    const alive = [...Array(layer.filters).keys()].find((k) => !dead.has(k));
    if (alive !== undefined) input.value = String(alive);
  }

  filterChanged() {
    const layer = this.version.layers.find((l) => l.name === this.part("layer").value) || this.version.layers[0];
    const input = this.part("filter");
    input.max = String(layer ? layer.filters - 1 : 0);
    let index = parseInt(input.value, 10);
    if (!Number.isFinite(index) || index < 0) index = 0;
    if (layer && index >= layer.filters) index = layer.filters - 1;
    this.filter = layer ? { layer: layer.name, index } : null;
    this.part("freeze-layer").value = this.filter ? this.filter.layer : "";
    this.part("freeze-filter").value = this.filter ? String(index) : "";
    this.el.querySelectorAll(".live-strip-row").forEach((row) => {
      row.classList.toggle("is-chosen", !!layer && row.querySelector("canvas").dataset.layer === layer.name);
    });
    this.trace = [];
    this.drawTrace();
  }

  setStatus(text) {
    this.part("status").textContent = text;
  }

  showError(text) {
    const slot = this.part("error");
    slot.textContent = text || "";
    slot.hidden = !text;
  }

  // ------------------------------------------------------------ microphone
  async start() {
    this.showError("");
    if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode === "undefined") {
      this.showError(
        window.isSecureContext
          ? "This browser cannot stream the microphone (AudioWorklet). Use a recent Chrome, Edge or Firefox."
          : "The microphone needs a secure connection (HTTPS). Open the site over HTTPS.",
      );
      return;
    }
    this.part("start").disabled = true;
    this.setStatus("Asking for permission to use the microphone…");
    let ctx = new AudioContext({ latencyHint: "interactive", sampleRate: RATE });
    this.ctx = ctx;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
        video: false,
      });
      let source;
      try {
        source = ctx.createMediaStreamSource(this.stream);
      } catch (err) {
        if (err?.name !== "NotSupportedError") throw err;
        // Firefox connects a microphone only to a context at the device's rate: take that rate
        // (the server resamples the windows to canonical audio).
        ctx.close().catch(() => {});
        ctx = this.ctx = new AudioContext({ latencyHint: "interactive" });
        source = ctx.createMediaStreamSource(this.stream);
      }
      this.rate = ctx.sampleRate;
      this.ring = new Float32Array(Math.ceil(this.freezeS * this.rate));
      this.written = 0;
      await ctx.audioWorklet.addModule(new URL("./recorder-worklet.js", import.meta.url));
      if (ctx.state === "suspended") await ctx.resume();
      this.analyser = ctx.createAnalyser();
      this.analyser.fftSize = 2 ** Math.round(Math.log2((512 * this.rate) / RATE)); // ~32 ms, a power of two
      this.analyser.smoothingTimeConstant = 0;
      this.worklet = new AudioWorkletNode(ctx, "ddevis-recorder", { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
      this.worklet.port.onmessage = (e) => e.data?.type === "chunk" && this.keep(e.data.samples);
      source.connect(this.analyser);
      source.connect(this.worklet);
      this.worklet.connect(ctx.destination); // silence out; keeps the node pulled
      this.worklet.port.postMessage({ type: "stream", frames: Math.round(this.rate / 20) }); // 50 ms chunks
    } catch (err) {
      const name = err?.name;
      this.release();
      this.part("start").disabled = false;
      this.setStatus("Microphone is off.");
      this.showError(
        name === "NotAllowedError" || name === "SecurityError"
          ? "Microphone access was denied. Allow the microphone for this site (the icon left of the address bar) and press Start again."
          : name === "NotFoundError"
            ? "No microphone was found. Plug one in and try again."
            : `The microphone could not be started (${name || "unknown error"}).`,
      );
      return;
    }
    this.part("start").hidden = true;
    this.part("stop").hidden = false;
    this.part("freeze").disabled = false;
    this.stats = { sent: 0, skipped: 0, errors: 0, times: [], started: performance.now() };
    this.setStatus("Listening. Say a digit; press Space (or F) to freeze the last seconds into the lab.");
    this.timer = setInterval(() => this.tick(), TICK_MS);
    const draw = () => {
      this.drawSpectrogram();
      this.raf = requestAnimationFrame(draw);
    };
    this.raf = requestAnimationFrame(draw);
  }

  keep(samples) {
    const n = this.ring.length;
    for (let i = 0; i < samples.length; i++) this.ring[(this.written + i) % n] = samples[i];
    this.written += samples.length;
  }

  /** The last `seconds` of the microphone (fewer if it has not been on that long). */
  last(seconds) {
    const n = Math.min(Math.round(seconds * this.rate), this.written, this.ring.length);
    const out = new Float32Array(n);
    const start = this.written - n;
    for (let i = 0; i < n; i++) out[i] = this.ring[(start + i) % this.ring.length];
    return out;
  }

  release() {
    clearInterval(this.timer);
    cancelAnimationFrame(this.raf);
    this.timer = this.raf = 0;
    try {
      this.worklet?.port.postMessage({ type: "cancel" });
      this.worklet?.disconnect();
    } catch (_) {
      /* closed already */
    }
    this.stream?.getTracks().forEach((t) => t.stop());
    if (this.ctx && this.ctx.state !== "closed") this.ctx.close().catch(() => {});
    this.ctx = this.stream = this.worklet = this.analyser = null;
  }

  stop(text) {
    this.release();
    this.part("start").hidden = false;
    this.part("start").disabled = false;
    this.part("stop").hidden = true;
    this.part("freeze").disabled = true;
    this.setStatus(text);
  }

  // ------------------------------------------------------------ windows
  async tick() {
    if (this.written < 0.25 * this.rate) return; // not a quarter of a second yet
    if (performance.now() < this.pauseUntil) return; // the engine is away: ask again in a moment
    if (this.busy) {
      this.stats.skipped += 1; // one window in flight at a time: this one is dropped
      return;
    }
    this.busy = true;
    const blob = encodeWav(this.last(this.windowS), this.rate);
    const query = new URLSearchParams({ model_version: String(this.version.id) });
    if (this.filter) {
      query.set("layer", this.filter.layer);
      query.set("filter", String(this.filter.index));
    }
    const sentAt = performance.now();
    try {
      const response = await fetch(`${this.api}?${query}`, {
        method: "POST",
        body: blob,
        headers: { "Content-Type": "audio/wav", "X-CSRFToken": csrfToken(), Accept: "application/json" },
        credentials: "same-origin",
      });
      const answer = await response.json().catch(() => ({}));
      this.stats.sent += 1;
      if (response.ok) {
        this.stats.times.push(performance.now() - sentAt);
        if (this.stats.times.length > 50) this.stats.times.shift();
        this.showError("");
        this.show(answer);
      } else if (response.status !== 429) {
        this.stats.errors += 1;
        this.showError(answer.detail || `The server answered ${response.status}.`);
        if (response.status === 503) this.pauseUntil = performance.now() + 2000;
      }
    } catch (_) {
      this.stats.errors += 1;
      this.showError("The site cannot be reached; live mode will go on when it can.");
    } finally {
      this.busy = false;
      this.drawStats();
    }
  }

  show(answer) {
    const probabilities = answer.probabilities || {};
    let best = null;
    for (const bar of this.part("bars").children) {
      const p = probabilities[bar.dataset.label] ?? 0;
      bar.dataset.probability = p.toFixed(4);
      bar.querySelector(".live-bar-fill").style.width = `${(p * 100).toFixed(1)}%`;
      bar.querySelector(".live-bar-value").textContent = `${Math.round(p * 100)}%`;
      bar.classList.toggle("is-top", bar.dataset.label === answer.predicted_label);
      if (best === null || p > best) best = p;
    }
    const digit = this.part("digit");
    digit.textContent = answer.silent ? "…" : answer.predicted_label;
    digit.title = answer.silent ? "Silence" : `${Math.round(best * 100)}%`;
    this.el.dataset.predicted = answer.silent ? "" : answer.predicted_label;
    for (const layer of answer.layers || []) this.drawStrip(layer);
    if (answer.filter && this.filter && answer.filter.layer === this.filter.layer && answer.filter.index === this.filter.index) {
      const layer = (answer.layers || []).find((l) => l.name === answer.filter.layer);
      this.trace.push(layer ? layer.energy[answer.filter.index] : 0);
      if (this.trace.length > HISTORY) this.trace.shift();
      this.drawMap(answer.filter);
      this.drawTrace();
    }
  }

  // ------------------------------------------------------------ drawing
  drawSpectrogram() {
    const canvas = this.part("spectrogram");
    if (!this.analyser || !canvas.width) return;
    const all = new Uint8Array(this.analyser.frequencyBinCount);
    this.analyser.getByteFrequencyData(all);
    const bins = all.subarray(0, Math.min(all.length, Math.ceil((SHOWN_HZ / (this.rate / 2)) * all.length)));
    const ctx = scroll(canvas, 2);
    const rowH = canvas.height / bins.length;
    for (let i = 0; i < bins.length; i++) {
      ctx.fillStyle = css(colour(bins[i] / 255));
      ctx.fillRect(canvas.width - 2, canvas.height - (i + 1) * rowH, 2, Math.ceil(rowH));
    }
  }

  drawStrip(layer) {
    const canvas = this.el.querySelector(`canvas.live-strip[data-layer="${CSS.escape(layer.name)}"]`);
    if (!canvas) return;
    // Colours are relative to the loudest this layer has been lately, so quiet layers still show.
    const peak = Math.max(...layer.energy, 1e-6);
    const max = Math.max(peak, (this.layerMax[layer.name] || 0) * 0.995);
    this.layerMax[layer.name] = max;
    const ctx = scroll(canvas, 4);
    const rowH = canvas.height / layer.energy.length;
    layer.energy.forEach((e, i) => {
      ctx.fillStyle = css(colour(e / max));
      ctx.fillRect(canvas.width - 4, i * rowH, 4, Math.ceil(rowH));
    });
    if (this.filter && this.filter.layer === layer.name) {
      ctx.fillStyle = "rgba(255,255,255,.9)";
      ctx.fillRect(canvas.width - 4, this.filter.index * rowH, 4, 1);
    }
  }

  drawMap(chosen) {
    const canvas = this.part("map");
    const [rows, cols] = chosen.shape;
    if (!rows || !cols) return;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const [R, G, B] = colour(chosen.map[r][c] / 255);
        const o = ((rows - 1 - r) * cols + c) * 4; // the lowest frequency at the bottom
        image.data.set([R, G, B, 255], o);
      }
    }
    const buffer = document.createElement("canvas");
    buffer.width = cols;
    buffer.height = rows;
    buffer.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(buffer, 0, 0, canvas.width, canvas.height);
    canvas.dataset.peak = String(chosen.peak);
    const caption = canvas.parentElement.querySelector("figcaption");
    if (caption) {
      caption.textContent =
        chosen.peak > 0
          ? "Its map of the last second (time across, frequency up)"
          : "Silent in the last second: nothing here makes this filter fire";
    }
  }

  drawTrace() {
    const canvas = this.part("trace");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = getComputedStyle(this.el).getPropertyValue("--surface-2") || "#f0f2f8";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (this.trace.length < 2) return;
    const max = Math.max(...this.trace, 1e-6);
    const step = canvas.width / (HISTORY - 1);
    const x0 = canvas.width - (this.trace.length - 1) * step;
    ctx.beginPath();
    this.trace.forEach((v, i) => {
      const x = x0 + i * step;
      const y = canvas.height - 6 - (v / max) * (canvas.height - 12);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.lineWidth = this.classroom ? 4 : 2;
    ctx.strokeStyle = "#4c4ddc";
    ctx.stroke();
  }

  drawStats() {
    const { sent, skipped, errors, times, started } = this.stats;
    const seconds = (performance.now() - started) / 1000;
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
    this.part("stats").textContent =
      `${(sent / Math.max(seconds, 1e-3)).toFixed(1)} updates a second · ${Math.round(median)} ms a window (median of the last ${sorted.length})` +
      ` · ${skipped} skipped while busy · ${errors} error${errors === 1 ? "" : "s"}`;
  }

  // ------------------------------------------------------------ freezing
  freeze() {
    if (!this.stream || this.part("freeze").disabled) return;
    const samples = this.last(this.freezeS);
    if (samples.length < 0.25 * this.rate) {
      this.showError("There is not enough sound yet to freeze; speak first.");
      return;
    }
    const form = this.part("freeze-form");
    const files = new DataTransfer();
    files.items.add(new File([encodeWav(samples, this.rate)], "live.wav", { type: "audio/wav" }));
    this.part("freeze-file").files = files.files;
    const digit = this.el.dataset.predicted;
    const when = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    this.part("freeze-title").value = `Live take ${when}${digit ? ` (heard “${digit}”)` : ""}`;
    this.part("freeze").disabled = true;
    this.setStatus("Freezing the last seconds…");
    clearInterval(this.timer); // the take is what was heard: no new windows while it is saved
    this.timer = 0;
    form.requestSubmit();
  }
}

/** Build live mode in every not-yet-initialised [data-live] in root. */
export function initLive(root = document) {
  const found = [];
  if (root instanceof Element && root.matches("[data-live]")) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll("[data-live]"));
  for (const el of found) {
    if (el.dataset.liveReady || !el.dataset.versions) continue;
    el.dataset.liveReady = "1";
    el.ddLive = new Live(el);
  }
}

window.addEventListener("pagehide", () => {
  document.querySelectorAll("[data-live]").forEach((el) => el.ddLive?.stop("Microphone is off."));
});
