// d-DeVIS entry module, loaded on every page after htmx:
//   <script src=".../htmx-2.min.js" defer></script>
//   <script type="module" src="{% static 'js/app.js' %}"></script>
// Enhances [data-waveform], form[data-upload] and [data-recorder] on load and in every
// fragment htmx swaps in. Each init marks what it did (data-*-ready), so running twice is harmless.

import { initWaveforms } from "./waveform.js";
import { initUploads } from "./upload.js";
import { initRecorders } from "./recorder.js";

const inits = [
  ["waveform", initWaveforms],
  ["upload", initUploads],
  ["recorder", initRecorders],
];

export function initAll(root = document) {
  for (const [name, init] of inits) {
    try {
      const result = init(root);
      if (result && typeof result.catch === "function") {
        result.catch((err) => console.error(`d-DeVIS: ${name} init failed`, err));
      }
    } catch (err) {
      console.error(`d-DeVIS: ${name} init failed`, err);
    }
  }
}

function start() {
  initAll(document);
  if (window.htmx && typeof window.htmx.onLoad === "function") {
    window.htmx.onLoad((el) => initAll(el));
  } else {
    // htmx not (yet) there: its htmx:load event carries the new element all the same.
    document.addEventListener("htmx:load", (e) => initAll(e.detail?.elt || e.target));
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start, { once: true });
} else {
  start();
}

window.ddevis = Object.assign(window.ddevis || {}, { initAll });
