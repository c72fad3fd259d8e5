// d-DeVIS: the recorder's markup and its two canvases (the live level meter and the take's
// waveform). recorder.js owns the behaviour; these functions only build and paint.

import { h } from "./dom.js";

function icon(svg) {
  const span = document.createElement("span");
  span.className = "rec-ico";
  span.setAttribute("aria-hidden", "true");
  span.innerHTML = svg; // static markup only
  return span;
}
const SVG_MIC =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/></svg>';
const SVG_MIC_OFF =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.9" stroke-linecap="round" stroke-linejoin="round"><path d="M3 3l18 18M9 9v2a3 3 0 0 0 5.1 2.1M15 10V6a3 3 0 0 0-5.7-1.3M5 11a7 7 0 0 0 11.5 5.4M19 11a7 7 0 0 1-.6 2.8M12 18v3"/></svg>';
const SVG_DOT = '<svg viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="currentColor"/></svg>';
const SVG_STOP = '<svg viewBox="0 0 16 16"><rect x="3" y="3" width="10" height="10" rx="1.5" fill="currentColor"/></svg>';
const SVG_AGAIN =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M3 12a9 9 0 1 0 3-6.7L3 8"/><path d="M3 3v5h5"/></svg>';
const SVG_SAVE =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M12 4v11M7 10l5 5 5-5"/><path d="M5 20h14"/></svg>';

function button(label, cls, svg) {
  const b = h("button", { type: "button", class: `btn ${cls || ""}`.trim() });
  if (svg) b.append(icon(svg));
  b.append(document.createTextNode(label));
  return b;
}

/**
 * The recorder's elements, unattached: three sections (idle, live, review), the error and
 * status lines, and every control and readout recorder.js updates, by name.
 */
export function recorderView(seconds, title) {
  const v = {};
  const secs = `${seconds % 1 ? seconds.toFixed(1) : seconds} second${seconds === 1 ? "" : "s"}`;

  // idle
  v.btnOpen = button("Turn on the microphone", "btn-primary", SVG_MIC);
  v.permissionNote = h("p", { class: "rec-note", hidden: true });
  v.secIdle = h(
    "section",
    { class: "rec-idle" },
    h("div", { class: "rec-hero-ico" }, icon(SVG_MIC)),
    h("h3", { text: "Record a spoken digit" }),
    h("p", { class: "muted", text: `Say one digit, zero to nine, clearly. Each take is ${secs} long; you can listen to it before saving.` }),
    v.permissionNote,
    h("div", { class: "row rec-actions" }, v.btnOpen),
  );

  // live: meter, countdown, recording progress
  v.canvas = h("canvas", { class: "rec-meter-canvas", "aria-hidden": "true" });
  v.meterDb = h("span", { class: "rec-meter-db", text: "–∞ dB" });
  v.deviceLabel = h("span", { class: "rec-device" });
  v.meter = h(
    "div",
    { class: "rec-meter", role: "img", "aria-label": "Live microphone level" },
    h("div", { class: "rec-meter-head" }, h("span", { class: "rec-meter-title", text: "Input level" }), v.deviceLabel, h("span", { class: "spacer" }), v.meterDb),
    v.canvas,
    h("div", { class: "rec-meter-scale", "aria-hidden": "true" }, ...["-60", "-48", "-36", "-24", "-12", "0 dB"].map((t) => h("span", { text: t }))),
  );
  v.countNum = h("span", { class: "rec-count-num", "aria-hidden": "true" });
  v.countBox = h("div", { class: "rec-count", hidden: true }, v.countNum, h("span", { class: "rec-count-label", text: "Get ready…" }));
  v.recBar = h("span", { style: "width: 0%" });
  v.recTime = h("span", { class: "rec-time" });
  v.recBox = h(
    "div",
    { class: "rec-progress", hidden: true },
    h("div", { class: "row" }, h("span", { class: "rec-dot", "aria-hidden": "true" }), h("strong", { text: "Recording" }), h("span", { class: "spacer" }), v.recTime),
    h("div", { class: "progress", role: "progressbar", "aria-label": "Recording progress", "aria-valuemin": "0", "aria-valuemax": "100" }, v.recBar),
  );
  v.btnRecord = button("Record", "btn-primary rec-btn-record", SVG_DOT);
  v.btnStop = button("Stop early", "btn-danger", SVG_STOP);
  v.btnCancelCount = button("Cancel", "btn-ghost");
  v.btnMicOff = button("Turn microphone off", "btn-ghost", SVG_MIC_OFF);
  v.hint = h("p", { class: "muted rec-hint", text: "Press Record, wait for the 3-2-1 countdown, then say one digit." });
  v.secLive = h(
    "section",
    { class: "rec-live" },
    v.meter,
    v.countBox,
    v.recBox,
    v.hint,
    h("div", { class: "row rec-actions" }, v.btnRecord, v.btnStop, v.btnCancelCount, h("span", { class: "spacer" }), v.btnMicOff),
  );

  // review
  v.takeCanvas = h("canvas", { class: "rec-take-canvas", "aria-hidden": "true" });
  v.audio = h("audio", { controls: true, preload: "auto", class: "rec-audio" });
  v.takeFacts = h("span", { class: "rec-facts" });
  v.levelPill = h("span", { class: "pill" });
  const titleId = `rec-title-${Math.random().toString(36).slice(2, 8)}`;
  v.titleInput = h("input", { type: "text", id: titleId, name: "title", maxlength: "200", autocomplete: "off", placeholder: "e.g. “seven”, my voice" });
  if (title) v.titleInput.value = title;
  v.btnAgain = button("Record again", "", SVG_AGAIN);
  v.btnSave = button("Save recording", "btn-primary", SVG_SAVE);
  v.saveBar = h("span", { style: "width: 0%" });
  v.saveBox = h("div", { class: "progress rec-save-progress", role: "progressbar", "aria-label": "Saving", hidden: true }, v.saveBar);
  v.secReview = h(
    "section",
    { class: "rec-review" },
    h("div", { class: "row rec-review-head" }, h("strong", { text: "Your take" }), v.takeFacts, h("span", { class: "spacer" }), v.levelPill),
    v.takeCanvas,
    v.audio,
    h("div", { class: "rec-title" }, h("label", { for: titleId, text: "Title (optional)" }), v.titleInput),
    v.saveBox,
    h("div", { class: "row rec-actions" }, v.btnAgain, h("span", { class: "spacer" }), v.btnSave),
  );

  v.error = h("div", { class: "msg msg-error rec-error", role: "alert", hidden: true });
  v.status = h("p", { class: "rec-status", role: "status", "aria-live": "polite" });
  return v;
}

/** Size a canvas to its CSS box at the device's pixel ratio; returns [width, height, dpr]. */
function fitCanvas(c) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(c.clientWidth * dpr));
  const hgt = Math.max(1, Math.round(c.clientHeight * dpr));
  if (c.width !== w || c.height !== hgt) {
    c.width = w;
    c.height = hgt;
  }
  return [w, hgt, dpr];
}

/** The segmented level meter: `level` and `peak` in 0..1 over -60..0 dB; colours from `el`'s CSS. */
export function paintMeter(c, el, level, peak) {
  const [w, hgt, dpr] = fitCanvas(c);
  const g = c.getContext("2d");
  const css = getComputedStyle(el);
  const col = (name, fb) => css.getPropertyValue(name).trim() || fb;
  const low = col("--rec-meter-low", "#22a06b");
  const mid = col("--rec-meter-mid", "#e0a100");
  const high = col("--rec-meter-high", "#c0263a");
  const off = col("--rec-meter-off", "#e4e7f1");
  const segs = 48;
  const gap = Math.max(1, Math.round(2 * dpr));
  const sw = (w - gap * (segs - 1)) / segs;
  g.clearRect(0, 0, w, hgt);
  for (let i = 0; i < segs; i++) {
    const pos = (i + 0.5) / segs; // 0..1 over -60..0 dB
    const lit = pos <= level;
    const dbAt = pos * 60 - 60;
    g.fillStyle = lit ? (dbAt > -6 ? high : dbAt > -18 ? mid : low) : off;
    const x = i * (sw + gap);
    g.fillRect(Math.round(x), 0, Math.max(1, Math.round(sw)), hgt);
  }
  // peak hold marker
  if (peak > 0.01) {
    const x = Math.min(w - 2 * dpr, peak * w);
    g.fillStyle = col("--ink", "#1c2233");
    g.fillRect(Math.round(x), 0, Math.round(2 * dpr), hgt);
  }
}

/** The take as bars of its peak level, the part already played (`frac` of it) in the accent colour. */
export function paintTake(c, el, samples, frac) {
  const [w, hgt, dpr] = fitCanvas(c);
  const g = c.getContext("2d");
  const css = getComputedStyle(el);
  const played = css.getPropertyValue("--accent").trim() || "#4c4ddc";
  const rest = css.getPropertyValue("--wf-wave").trim() || "#b4b5f2";
  const s = samples;
  const mid = hgt / 2;
  const bar = Math.max(1, Math.round(2 * dpr));
  const step = bar + Math.max(1, Math.round(dpr));
  const cols = Math.floor(w / step);
  const per = s.length / cols;
  g.clearRect(0, 0, w, hgt);
  g.fillStyle = rest;
  g.fillRect(0, Math.round(mid), w, Math.max(1, Math.round(dpr / 2)));
  for (let i = 0; i < cols; i++) {
    let mx = 0;
    const a = Math.floor(i * per);
    const b = Math.min(s.length, Math.floor((i + 1) * per));
    for (let j = a; j < b; j++) {
      const v = Math.abs(s[j]);
      if (v > mx) mx = v;
    }
    const bh = Math.max(bar, mx * (hgt - 4 * dpr));
    g.fillStyle = (i + 0.5) / cols <= frac ? played : rest;
    g.fillRect(i * step, Math.round(mid - bh / 2), bar, Math.round(bh));
  }
}
