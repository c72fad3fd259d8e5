// d-DeVIS entry module, the one script every page loads (after htmx, see base.html).
//
// The pattern of every page script: a module listens on the document for what it can
// delegate (clicks, htmx events) when it is imported, and exports init*(root) for what it
// must enhance element by element. initAll runs every init on the page and on each
// fragment htmx swaps in; each marks what it did (data-*-ready), so running twice is harmless.
// Pages add no <script> of their own.

import "./forms.js"; // refused htmx requests explain themselves; upload progress
import "./insights.js"; // the sweep plot
import { initLab } from "./lab.js";
import { initLive } from "./live.js";
import { initNav } from "./nav.js";
import { initRecorders } from "./recorder.js";
import { initWaveforms } from "./waveform.js";

// A waveform fetches, decodes and draws its clip: started while the page loads, it competes with
// the lab's layer explorer for connections and the main thread. It waits until the page's images
// are in (the load event) and the frame that shows them is drawn; what htmx swaps in later starts at once.
function initWaveformsAfterLoad(root) {
  if (document.readyState === "complete") return initWaveforms(root);
  return new Promise((resolve) => {
    const start = () => resolve(initWaveforms(root));
    const afterNextFrame = () => requestAnimationFrame(() => setTimeout(start, 0));
    window.addEventListener("load", afterNextFrame, { once: true });
  });
}

const inits = [
  ["nav", initNav],
  ["waveform", initWaveformsAfterLoad],
  ["lab", initLab],
  ["recorder", initRecorders],
  ["live", initLive],
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
