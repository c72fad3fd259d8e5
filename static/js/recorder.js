// d-DeVIS in-browser recorder: microphone -> AudioWorklet -> exact-length take ->
// mono 16-bit WAV at the target rate (resampled with OfflineAudioContext) -> sent by the
// htmx form around it, to the same endpoint as an upload.
//
// Markup (the element's content is replaced; put a no-JS hint inside it):
//
//   <form hx-post="/recordings/new/" hx-encoding="multipart/form-data" data-recorder-form>
//     <input type="hidden" name="source" value="record">
//     <input type="file" name="file" hidden data-recorder-file>
//     <div data-recorder data-seconds="2" data-target-rate="16000"></div>
//     <p data-form-error hidden></p>
//   </form>
//
// data-seconds            length of a take in seconds (default 2)
// data-target-rate        sample rate of the saved WAV in Hz (default 16000)
// data-title              default title (optional; otherwise "Recording <date time>")
//
// Saving puts the take in the form's file field (the recorder's title field is the form's
// "title") and submits the form: htmx sends it, the server's refusal lands in the form's
// error slot (forms.js) and its success opens the new recording (HX-Redirect).
//
// Events on the element (bubbling):
//   recorder:take   detail {duration, sampleRate, bytes, peak}   a take is ready to review
//   recorder:error  detail {message}                              microphone failures

import { formatBytes } from "./dom.js";
import { paintMeter, paintTake, recorderView } from "./recorder-view.js";
import { encodeWav, resample } from "./wav.js";

const DONE = "recorderReady"; // data-recorder-ready
const live = new Set();

function stamp(d = new Date()) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

// ---------------------------------------------------------------- the recorder
class Recorder {
  constructor(el) {
    this.el = el;
    this.form = el.closest("form[data-recorder-form]");
    const secs = parseFloat(el.dataset.seconds);
    this.seconds = Number.isFinite(secs) && secs > 0 ? Math.min(30, Math.max(0.5, secs)) : 2;
    const rate = parseInt(el.dataset.targetRate, 10);
    this.targetRate = Number.isFinite(rate) && rate >= 3000 && rate <= 192000 ? rate : 16000;

    this.stream = null;
    this.ctx = null;
    this.source = null;
    this.analyser = null;
    this.worklet = null;
    this.raf = 0;
    this.timers = [];
    this.take = null; // {blob, url, samples, duration, peak}
    this.sending = false;
    this.state = "";
    this.meterLevel = 0;
    this.meterPeak = 0;
    this.meterPeakAt = 0;

    this.build();
    this.setState("idle");
    this.checkPermission();
  }

  // ------------------------------------------------------------ DOM
  build() {
    const el = this.el;
    el.replaceChildren();
    el.classList.add("rec");
    Object.assign(this, recorderView(this.seconds, el.dataset.title || ""));
    el.append(this.secIdle, this.secLive, this.secReview, this.error, this.status);

    this.btnOpen.addEventListener("click", () => this.open());
    this.btnRecord.addEventListener("click", () => this.countdown());
    this.btnCancelCount.addEventListener("click", () => this.cancelCountdown());
    this.btnStop.addEventListener("click", () => this.stopEarly());
    this.btnMicOff.addEventListener("click", () => {
      this.release();
      this.setState("idle", "Microphone is off.");
    });
    this.btnAgain.addEventListener("click", () => this.again());
    this.btnSave.addEventListener("click", () => this.save());
    this.titleInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault(); // the form is sent with the take, never without it
        this.save();
      }
    });
    if (this.form) {
      this.form.addEventListener("htmx:xhr:progress", (e) => {
        if (e.detail.lengthComputable) this.saveBar.style.width = `${(e.detail.loaded / e.detail.total) * 100}%`;
      });
      this.form.addEventListener("htmx:afterRequest", (e) => this.saved(e.detail));
    }
    this.audio.addEventListener("play", () => this.drawTake());
    this.audio.addEventListener("timeupdate", () => this.drawTake());
    this.audio.addEventListener("ended", () => this.drawTake());
    this.audio.addEventListener("seeked", () => this.drawTake());
  }

  setState(state, statusText) {
    const prevFocusInside = this.el.contains(document.activeElement);
    this.state = state;
    this.el.dataset.state = state;
    const liveStates = ["ready", "countdown", "recording", "processing"];
    this.secIdle.hidden = !(state === "idle" || state === "opening");
    this.secLive.hidden = !liveStates.includes(state);
    this.secReview.hidden = !(state === "review" || state === "saving" || state === "saved");
    this.btnOpen.disabled = state === "opening";
    this.countBox.hidden = state !== "countdown";
    this.recBox.hidden = !(state === "recording" || state === "processing");
    this.hint.hidden = state !== "ready";
    this.btnRecord.hidden = !(state === "ready");
    this.btnStop.hidden = state !== "recording";
    this.btnCancelCount.hidden = state !== "countdown";
    this.btnMicOff.hidden = state !== "ready";
    const busy = state === "saving" || (state === "saved" && this.redirecting);
    this.btnSave.disabled = busy;
    this.btnAgain.disabled = busy;
    this.titleInput.readOnly = busy; // not disabled: a disabled field is left out of the form it is sent with
    this.saveBox.hidden = state !== "saving";
    if (statusText != null) this.status.textContent = statusText;
    if (prevFocusInside) {
      const active = document.activeElement;
      if (!active || !this.el.contains(active) || active.disabled || active.offsetParent === null) {
        const primary = { idle: this.btnOpen, ready: this.btnRecord, recording: this.btnStop, countdown: this.btnCancelCount, review: this.btnSave }[state];
        if (primary && !primary.hidden) primary.focus();
      }
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
    if (message) this.el.dispatchEvent(new CustomEvent("recorder:error", { bubbles: true, detail: { message } }));
  }

  async checkPermission() {
    try {
      const p = await navigator.permissions?.query({ name: "microphone" });
      if (p && p.state === "denied") {
        this.permissionNote.textContent =
          "Microphone access is blocked for this site. Allow it in the browser's site settings (the icon at the left of the address bar), then try again.";
        this.permissionNote.hidden = false;
      }
    } catch (_) {
      /* the Permissions API may not know "microphone": no hint then */
    }
  }

  // ------------------------------------------------------------ microphone
  async open() {
    this.showError("");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.showError(
        window.isSecureContext
          ? "This browser cannot record audio. Use the upload form instead."
          : "Recording needs a secure connection (HTTPS). Open the site over HTTPS, or use the upload form instead.",
      );
      return;
    }
    if (typeof AudioWorkletNode === "undefined" || typeof OfflineAudioContext === "undefined") {
      this.showError("This browser does not support in-browser recording (AudioWorklet). Use the upload form instead.");
      return;
    }
    this.setState("opening", "Asking for permission to use the microphone…");
    // Created inside the click so that the browser lets it start.
    const ctx = new AudioContext({ latencyHint: "interactive" });
    this.ctx = ctx;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
        video: false,
      });
    } catch (err) {
      this.release();
      const name = err && err.name;
      let msg;
      if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
        msg = "Microphone access was denied. Allow the microphone for this site in the browser (the icon at the left of the address bar) and press the button again, or use the upload form.";
      } else if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
        msg = "No microphone was found. Plug one in and try again, or use the upload form.";
      } else if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
        msg = "The microphone could not be started; another application may be using it.";
      } else {
        msg = `The microphone could not be opened (${name || "unknown error"}).`;
      }
      this.setState("idle", "Microphone is off.");
      this.showError(msg);
      return;
    }
    if (!this.el.isConnected || this.ctx !== ctx) {
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    this.stream = stream;
    try {
      await ctx.audioWorklet.addModule(new URL("./recorder-worklet.js", import.meta.url));
      if (ctx.state === "suspended") await ctx.resume();
      this.source = ctx.createMediaStreamSource(stream);
      this.analyser = ctx.createAnalyser();
      this.analyser.fftSize = 2048;
      this.analyser.smoothingTimeConstant = 0;
      this.worklet = new AudioWorkletNode(ctx, "ddevis-recorder", { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
      this.worklet.port.onmessage = (e) => this.onWorkletMessage(e.data);
      this.source.connect(this.analyser);
      this.source.connect(this.worklet);
      this.worklet.connect(ctx.destination); // outputs silence; keeps the node pulled
    } catch (err) {
      console.error("recorder: audio setup failed", err);
      this.release();
      this.setState("idle", "Microphone is off.");
      this.showError("The recorder could not start its audio processing. Reload the page and try again.");
      return;
    }
    const track = stream.getAudioTracks()[0];
    this.deviceLabel.textContent = track && track.label ? track.label : "";
    track?.addEventListener("ended", () => {
      if (this.stream === stream) {
        this.release();
        this.setState("idle", "Microphone is off.");
        this.showError("The microphone was disconnected.");
      }
    });
    this.setState("ready", "Microphone on.");
    this.startMeter();
  }

  release() {
    this.stopMeter();
    this.timers.forEach(clearTimeout);
    this.timers = [];
    if (this.worklet) {
      try {
        this.worklet.port.postMessage({ type: "cancel" });
        this.worklet.port.onmessage = null;
        this.worklet.disconnect();
      } catch (_) {
        /* closed already */
      }
    }
    try {
      this.source?.disconnect();
    } catch (_) {
      /* closed already */
    }
    this.stream?.getTracks().forEach((t) => t.stop());
    if (this.ctx && this.ctx.state !== "closed") this.ctx.close().catch(() => {});
    this.stream = this.ctx = this.source = this.analyser = this.worklet = null;
  }

  destroy() {
    this.release();
    this.audio.pause();
    this.audio.removeAttribute("src");
    if (this.take) URL.revokeObjectURL(this.take.url);
    this.take = null;
    live.delete(this);
  }

  // ------------------------------------------------------------ level meter
  startMeter() {
    this.stopMeter();
    const data = new Float32Array(this.analyser.fftSize);
    const tick = (now) => {
      if (!this.analyser) return;
      this.analyser.getFloatTimeDomainData(data);
      let sum = 0;
      let peak = 0;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        sum += v * v;
        const a = v < 0 ? -v : v;
        if (a > peak) peak = a;
      }
      const rms = Math.sqrt(sum / data.length);
      this.drawMeter(rms, peak, now);
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  stopMeter() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
  }

  drawMeter(rms, peak, now) {
    if (!this.canvas.clientWidth) return;
    const toPos = (lin) => {
      const db = 20 * Math.log10(Math.max(lin, 1e-6));
      return Math.max(0, Math.min(1, (db + 60) / 60));
    };
    // fast attack, slow release
    const level = toPos(rms);
    this.meterLevel = level > this.meterLevel ? level : Math.max(level, this.meterLevel - 0.02);
    const pk = toPos(peak);
    if (pk >= this.meterPeak || now - this.meterPeakAt > 1200) {
      this.meterPeak = pk;
      this.meterPeakAt = now;
    }
    const shownDb = this.meterLevel * 60 - 60; // the smoothed level, readable at 60 fps
    this.meterDb.textContent = this.meterLevel <= 0.005 ? "–∞ dB" : `${Math.round(shownDb)} dB`;
    this.el.classList.toggle("is-hot", peak >= 0.99);
    paintMeter(this.canvas, this.el, this.meterLevel, this.meterPeak);
  }

  // ------------------------------------------------------------ taking
  countdown() {
    if (this.state !== "ready") return;
    this.showError("");
    let n = 3;
    const step = () => {
      if (this.state !== "countdown") return;
      if (n === 0) {
        this.startCapture();
        return;
      }
      this.countNum.textContent = String(n);
      this.countNum.classList.remove("pop");
      void this.countNum.offsetWidth; // restart the animation
      this.countNum.classList.add("pop");
      this.status.textContent = `Recording starts in ${n}…`;
      n -= 1;
      this.timers.push(setTimeout(step, 800));
    };
    this.setState("countdown");
    step();
  }

  cancelCountdown() {
    this.timers.forEach(clearTimeout);
    this.timers = [];
    this.setState("ready", "Cancelled. Press Record when you are ready.");
  }

  startCapture() {
    if (!this.worklet || !this.ctx) return;
    const frames = Math.round(this.seconds * this.ctx.sampleRate);
    this.captureTotal = frames;
    this.recBar.style.width = "0%";
    this.recTime.textContent = `0.0 / ${this.seconds.toFixed(1)} s`;
    this.setState("recording", "Recording… say your digit now.");
    this.worklet.port.postMessage({ type: "start", frames });
  }

  stopEarly() {
    if (this.state === "recording" && this.worklet) this.worklet.port.postMessage({ type: "stop" });
  }

  onWorkletMessage(msg) {
    if (!msg) return;
    if (msg.type === "progress" && this.state === "recording") {
      const pct = (msg.frames / msg.total) * 100;
      this.recBar.style.width = `${pct}%`;
      this.recBar.parentElement.setAttribute("aria-valuenow", String(Math.round(pct)));
      this.recTime.textContent = `${(msg.frames / this.ctx.sampleRate).toFixed(1)} / ${this.seconds.toFixed(1)} s`;
    } else if (msg.type === "done" && this.state === "recording") {
      this.recBar.style.width = "100%";
      this.finishTake(msg.samples, msg.sampleRate);
    }
  }

  async finishTake(samples, srcRate) {
    this.setState("processing", "Preparing the take…");
    this.stopMeter();
    if (samples.length < 0.25 * srcRate) {
      this.setState("ready", "That take was too short. Press Record to try again.");
      this.startMeter();
      return;
    }
    let out;
    try {
      out = await resample(samples, srcRate, this.targetRate);
    } catch (err) {
      console.error("recorder: resampling failed", err);
      this.setState("ready");
      this.startMeter();
      this.showError("The take could not be converted. Try again.");
      return;
    }
    let peak = 0;
    let sum = 0;
    for (let i = 0; i < out.length; i++) {
      const a = Math.abs(out[i]);
      if (a > peak) peak = a;
      sum += out[i] * out[i];
    }
    const blob = encodeWav(out, this.targetRate);
    if (this.take) URL.revokeObjectURL(this.take.url);
    const url = URL.createObjectURL(blob);
    const duration = out.length / this.targetRate;
    this.take = { blob, url, samples: out, duration, peak, rms: Math.sqrt(sum / out.length) };
    this.audio.src = url;
    const khz = this.targetRate % 1000 ? (this.targetRate / 1000).toFixed(1) : this.targetRate / 1000;
    this.takeFacts.textContent = `${duration.toFixed(2)} s · ${khz} kHz · mono · 16-bit · ${formatBytes(blob.size)}`;
    if (peak >= 0.999) {
      this.levelPill.className = "pill pill-bad";
      this.levelPill.textContent = "Clipped: move back a little";
    } else if (peak < 0.05) {
      this.levelPill.className = "pill pill-warn";
      this.levelPill.textContent = "Very quiet: speak up or move closer";
    } else {
      this.levelPill.className = "pill pill-ok";
      this.levelPill.textContent = `Level OK · peak ${Math.round(20 * Math.log10(peak))} dB`;
    }
    this.setState("review", `Take ready: ${duration.toFixed(2)} seconds. Listen to it, then save it or record again.`);
    requestAnimationFrame(() => this.drawTake());
    this.el.dispatchEvent(
      new CustomEvent("recorder:take", {
        bubbles: true,
        detail: { duration, sampleRate: this.targetRate, bytes: blob.size, peak },
      }),
    );
  }

  drawTake() {
    if (!this.take || !this.takeCanvas.clientWidth) return;
    const frac = this.audio.duration ? this.audio.currentTime / this.audio.duration : 0;
    paintTake(this.takeCanvas, this.el, this.take.samples, frac);
  }

  again() {
    this.audio.pause();
    this.showError("");
    if (this.stream && this.ctx && this.ctx.state !== "closed") {
      this.setState("ready", "Press Record, wait for the countdown, then say one digit.");
      this.startMeter();
    } else {
      this.setState("idle", "Microphone is off.");
      this.open();
    }
  }

  // ------------------------------------------------------------ saving
  save() {
    if (!this.take || this.sending) return;
    const file = this.form?.querySelector("[data-recorder-file]");
    if (!file) {
      this.showError("This recorder is not inside its form (data-recorder-form), so it cannot save.");
      return;
    }
    this.audio.pause();
    this.showError("");
    if (!this.titleInput.value.trim()) {
      this.titleInput.value = this.el.dataset.title || `Recording ${stamp().replace("T", " ").replace(/-(\d\d)-(\d\d)$/, ":$1:$2")}`;
    }
    const files = new DataTransfer();
    files.items.add(new File([this.take.blob], `recording-${stamp()}.wav`, { type: "audio/wav" }));
    file.files = files.files;
    this.sending = true;
    this.saveBar.style.width = "0%";
    this.setState("saving", "Saving…");
    this.form.requestSubmit();
  }

  /** The form's request ended: the new recording opens, or the take stays to try again. */
  saved({ xhr, successful }) {
    if (!this.sending) return;
    this.sending = false;
    if (successful && xhr.getResponseHeader("HX-Redirect")) {
      this.saveBar.style.width = "100%";
      this.redirecting = true;
      this.release();
      this.setState("saved", "Saved. Opening the recording…");
      return;
    }
    this.setState("review", "Not saved."); // the reason is in the form's error slot
  }
}

// Release the microphone when a recorder leaves the page (htmx swap) or the page is hidden.
const observer = new MutationObserver(() => {
  for (const rec of [...live]) if (!rec.el.isConnected) rec.destroy();
});
window.addEventListener("pagehide", () => {
  for (const rec of live) {
    rec.release();
    if (rec.state !== "saved" && rec.state !== "review") rec.setState("idle", "Microphone is off.");
  }
});

window.addEventListener("pageshow", (e) => {
  if (!e.persisted) return;
  for (const rec of live) {
    if (rec.take && (rec.state === "saved" || rec.state === "saving")) {
      rec.redirecting = false;
      rec.setState("review", "Take ready. Save it or record again.");
    } else if (!rec.take) {
      rec.setState("idle", "Microphone is off.");
    }
  }
});

/** Build a recorder in every not-yet-initialised [data-recorder] in root (root included). */
export function initRecorders(root = document) {
  const found = [];
  if (root instanceof Element && root.matches("[data-recorder]")) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll("[data-recorder]"));
  for (const el of found) {
    if (el.dataset[DONE]) continue;
    el.dataset[DONE] = "1";
    try {
      const rec = new Recorder(el);
      el.ddRecorder = rec;
      live.add(rec);
    } catch (err) {
      console.error("recorder: could not start", err);
    }
  }
  if (live.size && document.body) observer.observe(document.body, { childList: true, subtree: true });
}
