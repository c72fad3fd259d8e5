// d-DeVIS waveform players (wavesurfer.js 7, vendored in static/vendor/wavesurfer/).
//
// Markup (the element's own content is replaced; put a no-JS fallback in it if you like):
//
//   <div id="wf-main" data-waveform data-src="/recordings/3/audio/"
//        data-regions="true" data-height="112"></div>
//   <input data-region-start data-region-for="wf-main" name="start">
//   <input data-region-end   data-region-for="wf-main" name="end">
//
// data-src       WAV (or any audio) URL, required
// data-regions   "true": drag on the waveform to select one region (movable, resizable)
// data-height    waveform height in px (default 96)
// data-normalize "false": draw true amplitude (default: scaled to the clip's loudest sample,
//                so quiet clips stay readable; use "false" where clips are compared by loudness)
// data-label     accessible name of the player (default "Waveform")
//
// Events, dispatched on the [data-waveform] element and bubbling:
//   waveform:ready   detail {duration}
//   waveform:region  detail {start, end} in seconds rounded to 3 decimals,
//                    or {start: null, end: null} when the selection is cleared
// Inputs anywhere in the document with [data-region-start]/[data-region-end] and
// data-region-for="<element id>" are filled (value "0.123", kept within the input's
// min and max; "" when cleared; "input" and "change" events are fired on them). Typing
// values into them moves the region.
//
// Only one sound plays at a time on the page: any <audio>/<video> (each player here
// uses a hidden <audio> inside its element) pauses the others when it starts.
//
// The element gets `el.ddWaveform = {wavesurfer, regions, setRegion(start, end), clearRegion()}`.

import { h } from "./dom.js";

const DONE = "waveformReady"; // data-waveform-ready
const instances = new Map(); // element -> instance

let libPromise = null;
/** The page's CSP nonce: browsers hide the attribute, but a script element keeps it as `.nonce`. */
function cspNonce() {
  return document.querySelector("script[nonce]")?.nonce || "";
}

function loadLib() {
  if (!libPromise) {
    libPromise = Promise.all([
      import("../vendor/wavesurfer/wavesurfer.esm.js"),
      import("../vendor/wavesurfer/plugins/regions.esm.js"),
    ]).then(([ws, rg]) => ({ WaveSurfer: ws.default, RegionsPlugin: rg.default }));
  }
  return libPromise;
}

// ---------------------------------------------------------------- one sound at a time
document.addEventListener(
  "play",
  (event) => {
    const started = event.target;
    if (!(started instanceof HTMLMediaElement)) return;
    for (const media of document.querySelectorAll("audio, video")) {
      if (media !== started && !media.paused) media.pause();
    }
  },
  true,
);

// ---------------------------------------------------------------- helpers
const round3 = (x) => Math.round(x * 1000) / 1000;

function fmtTime(t, duration) {
  if (!Number.isFinite(t)) t = 0;
  if (duration < 60) return `${t.toFixed(2)} s`;
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

const ICON_PLAY =
  '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d="M4 2.5v11l9-5.5z" fill="currentColor"/></svg>';
const ICON_CLEAR =
  '<svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true"><path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';
const HINT = "Drag to select a region";
const ICON_PAUSE =
  '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path d="M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z" fill="currentColor"/></svg>';

function setButton(btn, icon, label) {
  btn.innerHTML = icon; // static markup only
  btn.append(document.createTextNode(label));
}

function cssVar(el, name, fallback) {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}

function regionInputs(id) {
  if (!id) return { starts: [], ends: [] };
  const sel = (kind) =>
    [...document.querySelectorAll(`[data-region-${kind}]`)].filter((i) => i.dataset.regionFor === id);
  return { starts: sel("start"), ends: sel("end") };
}

/** A region edge for a bound input: to the millisecond, and never past the input's own bounds. */
function edgeFor(input, seconds) {
  let value = round3(seconds);
  const min = parseFloat(input.min);
  const max = parseFloat(input.max);
  if (Number.isFinite(max) && value > max) value = max;
  if (Number.isFinite(min) && value < min) value = min;
  return value.toFixed(3);
}

function setInputValue(input, value) {
  if (input.value === value) return;
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

// ---------------------------------------------------------------- one player
async function setup(el) {
  const src = el.dataset.src;
  const withRegions = el.dataset.regions === "true";
  const height = Math.max(24, parseInt(el.dataset.height, 10) || 96);
  const label = el.dataset.label || "Waveform";

  el.replaceChildren();
  el.classList.add("wf");
  el.style.setProperty("--wf-height", `${height}px`);

  const media = h("audio", { preload: "auto", class: "wf-media" });
  const wave = h("div", {
    class: "wf-wave",
    tabindex: "0",
    role: "group",
    "aria-label": `${label}. Space plays or pauses, arrow keys seek.`,
  });
  const overlay = h("div", { class: "wf-overlay" }, h("span", { class: "spinner", "aria-hidden": "true" }), " Loading waveform…");
  wave.append(overlay);

  const playBtn = h("button", { type: "button", class: "btn btn-sm btn-primary wf-play", disabled: true });
  setButton(playBtn, ICON_PLAY, "Play");
  const time = h("span", { class: "wf-time", "aria-live": "off", text: "0.00 s / –" });
  time.title = "Current time / duration";
  const bar = h("div", { class: "wf-bar" }, playBtn, time);

  let selLabel, playSelBtn, clearBtn;
  if (withRegions) {
    selLabel = h("span", { class: "wf-sel", "aria-live": "polite", text: HINT });
    playSelBtn = h("button", { type: "button", class: "btn btn-sm wf-play-sel", disabled: true });
    setButton(playSelBtn, ICON_PLAY, "Play selection");
    clearBtn = h("button", { type: "button", class: "btn btn-sm btn-ghost wf-clear", disabled: true });
    clearBtn.setAttribute("aria-label", "Clear selection");
    clearBtn.title = "Clear selection";
    setButton(clearBtn, ICON_CLEAR, "Clear");
    bar.append(h("span", { class: "wf-regionbar" }, selLabel, playSelBtn, clearBtn));
  }
  el.append(media, wave, bar);

  if (!src) {
    overlay.textContent = "No audio source given.";
    overlay.classList.add("is-error");
    return null;
  }

  let lib;
  try {
    lib = await loadLib();
  } catch (err) {
    overlay.textContent = "The waveform player could not be loaded.";
    overlay.classList.add("is-error");
    console.error(err);
    return null;
  }
  if (!el.isConnected) return null;

  const { WaveSurfer, RegionsPlugin } = lib;
  const regions = withRegions ? RegionsPlugin.create() : null;
  const regionColor = cssVar(el, "--wf-region", "rgba(76, 77, 220, 0.16)");

  const ws = WaveSurfer.create({
    container: wave,
    // Its shadow root gets a <style>: the page's CSP nonce lets it through (script-src and style-src).
    cspNonce: cspNonce(),
    media,
    url: src,
    height,
    waveColor: cssVar(el, "--wf-wave", "#b4b5f2"),
    progressColor: cssVar(el, "--wf-progress", "#4c4ddc"),
    cursorColor: cssVar(el, "--wf-cursor", "#1c2233"),
    cursorWidth: 2,
    barWidth: 2,
    barGap: 1,
    barRadius: 2,
    normalize: el.dataset.normalize !== "false",
    dragToSeek: false,
    plugins: regions ? [regions] : [],
  });

  let duration = 0;
  let syncing = false; // true while we write to the bound inputs ourselves

  const showTime = (t) => {
    if (!duration) time.textContent = `${fmtTime(t, 1)} / –`;
    else if (duration < 60) time.textContent = `${t.toFixed(2)} / ${duration.toFixed(2)} s`;
    else time.textContent = `${fmtTime(t, duration)} / ${fmtTime(duration, duration)}`;
  };

  ws.on("ready", (d) => {
    duration = d;
    overlay.remove();
    playBtn.disabled = false;
    showTime(ws.getCurrentTime());
    el.dispatchEvent(new CustomEvent("waveform:ready", { bubbles: true, detail: { duration: round3(d) } }));
  });
  ws.on("timeupdate", showTime);
  ws.on("play", () => {
    setButton(playBtn, ICON_PAUSE, "Pause");
    el.classList.add("is-playing");
  });
  ws.on("pause", () => {
    setButton(playBtn, ICON_PLAY, "Play");
    el.classList.remove("is-playing");
  });
  ws.on("error", (err) => {
    console.warn("waveform: could not load", src, err);
    overlay.replaceChildren(
      "Could not load this audio. ",
      h("a", { href: src, text: "Download it" }),
    );
    overlay.classList.add("is-error");
    if (!overlay.isConnected) wave.append(overlay);
    playBtn.disabled = true;
  });

  const toggle = () => {
    if (!duration) return;
    ws.playPause().catch(() => {});
  };
  playBtn.addEventListener("click", toggle);
  wave.addEventListener("keydown", (e) => {
    if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      toggle();
    } else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && duration) {
      e.preventDefault();
      const step = e.shiftKey ? 0.01 : 0.1;
      const t = ws.getCurrentTime() + (e.key === "ArrowLeft" ? -step : step);
      ws.setTime(Math.min(duration, Math.max(0, t)));
    }
  });

  // ------------------------------------------------------------ regions
  let current = null;
  let typedRegion = false; // the region being added follows what was typed: it must not rewrite it

  const describe = (r) => {
    if (!r) return HINT;
    return `${r.start.toFixed(3)}–${r.end.toFixed(3)} s (${(r.end - r.start).toFixed(3)} s)`;
  };

  const publish = (r, { toInputs = true } = {}) => {
    const detail = r ? { start: round3(r.start), end: round3(r.end) } : { start: null, end: null };
    const { starts, ends } = toInputs ? regionInputs(el.id) : { starts: [], ends: [] };
    syncing = true;
    try {
      // The end of the clip rounds up to at most half a millisecond past it: the input's
      // max and the server allow that margin and treat such a time as the end itself.
      starts.forEach((i) => setInputValue(i, r ? edgeFor(i, r.start) : ""));
      ends.forEach((i) => setInputValue(i, r ? edgeFor(i, r.end) : ""));
    } finally {
      syncing = false;
    }
    selLabel.textContent = describe(r);
    playSelBtn.disabled = !r;
    clearBtn.disabled = !r;
    el.classList.toggle("has-region", !!r);
    el.dispatchEvent(new CustomEvent("waveform:region", { bubbles: true, detail }));
  };

  const setRegion = (start, end) => {
    if (!regions || !duration) return;
    start = Math.max(0, Math.min(duration, start));
    end = Math.max(0, Math.min(duration, end));
    if (!(end > start)) return;
    if (current) {
      current.setOptions({ start, end });
      publish(current, { toInputs: false });
    } else {
      typedRegion = true;
      regions.addRegion({ start, end, color: regionColor, drag: true, resize: true });
    }
  };

  const clearRegion = () => {
    if (!regions) return;
    const had = regions.getRegions().length > 0;
    current = null;
    regions.clearRegions();
    if (had) publish(null);
  };

  if (regions) {
    regions.enableDragSelection({ color: regionColor });
    // A new drag replaces the current selection as soon as it starts (one region at a time).
    regions.on("region-initialized", (r) => {
      const previous = current;
      current = null; // silent: the new region is published when the drag ends
      for (const other of regions.getRegions()) if (other !== r) other.remove();
      if (previous && !regions.getRegions().length) el.classList.remove("has-region");
      r.on("update", () => {
        selLabel.textContent = describe(r);
      });
    });
    regions.on("region-created", (r) => {
      for (const other of regions.getRegions()) if (other !== r) other.remove();
      current = r;
      publish(r, { toInputs: !typedRegion });
      typedRegion = false;
    });
    regions.on("region-update", (r) => {
      if (r === current) selLabel.textContent = describe(r);
    });
    regions.on("region-updated", (r) => {
      if (r === current) publish(r);
    });
    regions.on("region-removed", (r) => {
      if (r === current) {
        current = null;
        publish(null);
      }
    });
    playSelBtn.addEventListener("click", () => {
      if (current) current.play(true);
    });
    clearBtn.addEventListener("click", clearRegion);
  }

  const instance = {
    el,
    ws,
    regions,
    setRegion,
    clearRegion,
    onInputChange() {
      if (syncing || !regions) return;
      const { starts, ends } = regionInputs(el.id);
      const s = starts.find((i) => i.value.trim() !== "");
      const e = ends.find((i) => i.value.trim() !== "");
      if (!s && !e) return clearRegion();
      const a = parseFloat(s?.value);
      const b = parseFloat(e?.value);
      if (Number.isFinite(a) && Number.isFinite(b)) setRegion(a, b);
    },
    destroy() {
      try {
        ws.destroy();
      } catch (_) {
        /* already gone */
      }
    },
  };
  el.ddWaveform = { wavesurfer: ws, regions, setRegion, clearRegion };
  instances.set(el, instance);
  return instance;
}

// Typing into a bound input moves the region (delegated: inputs may arrive later via htmx).
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement)) return;
  if (!input.matches("[data-region-start], [data-region-end]")) return;
  const id = input.dataset.regionFor;
  if (!id) return;
  for (const inst of instances.values()) if (inst.el.id === id) inst.onInputChange();
});

// Destroy players whose element left the page (htmx swaps), so audio stops and memory is freed.
const observer = new MutationObserver(() => {
  for (const [el, inst] of instances) {
    if (!el.isConnected) {
      inst.destroy();
      instances.delete(el);
    }
  }
});

/** Enhance every not-yet-initialised [data-waveform] in root (root itself included). */
export function initWaveforms(root = document) {
  const found = [];
  if (root instanceof Element && root.matches("[data-waveform]")) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll("[data-waveform]"));
  const todo = found.filter((el) => !el.dataset[DONE]);
  if (!todo.length) return Promise.resolve([]);
  if (document.body) observer.observe(document.body, { childList: true, subtree: true });
  return Promise.all(
    todo.map((el) => {
      el.dataset[DONE] = "1";
      return setup(el).catch((err) => {
        console.error("waveform: setup failed", err);
        return null;
      });
    }),
  );
}
