// The lab page: operation tabs, sliders bound to number inputs, filter play buttons,
// and the zoom panel. Everything here enhances markup that already works without it.
// Clicks and keys are delegated from the document; initLab(root) enhances what a page
// or an htmx swap brings (app.js calls it).

const player = new Audio();
let playingButton = null;

function stopPlaying() {
  player.pause();
  if (playingButton) {
    playingButton.textContent = "▶";
    playingButton.classList.remove("is-playing");
    playingButton = null;
  }
}
player.addEventListener("ended", stopPlaying);
player.addEventListener("error", () => {
  if (playingButton) playingButton.title = "This sound could not be loaded.";
  stopPlaying();
});
// Another player on the page started: this one stops (one sound at a time).
document.addEventListener("play", (event) => { if (event.target !== player) stopPlaying(); }, true);

document.addEventListener("click", (event) => {
  const play = event.target.closest("button[data-play]");
  if (play) {
    event.preventDefault();
    const same = playingButton === play;
    stopPlaying();
    if (same) return;
    for (const media of document.querySelectorAll("audio, video")) media.pause();
    player.src = play.dataset.play;
    player.play().catch(() => {});
    playingButton = play;
    play.textContent = "■";
    play.classList.add("is-playing");
    return;
  }
  const tab = event.target.closest("[data-op-tab]");
  if (tab) {
    selectOperation(tab.closest("#edit"), tab.dataset.opTab);
    return;
  }
  if (event.target.closest("[data-close-zoom]")) {
    const zoom = document.getElementById("filter-zoom");
    if (zoom) {
      const empty = document.createElement("div");
      empty.id = "filter-zoom";
      empty.className = "zoom-empty";
      zoom.replaceWith(empty);
    }
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") document.querySelector("[data-close-zoom]")?.click();
});

function selectOperation(panel, name, { keepPreview = false } = {}) {
  if (!panel) return;
  for (const button of panel.querySelectorAll("[data-op-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.opTab === name));
  }
  for (const form of panel.querySelectorAll("[data-op-form]")) {
    form.hidden = form.dataset.opForm !== name;
  }
  const preview = panel.querySelector("#preview");
  if (preview && !keepPreview) preview.replaceChildren();
}

function bindRanges(root) {
  for (const range of root.querySelectorAll("input[type=range][data-range-for]")) {
    if (range.dataset.bound) continue;
    range.dataset.bound = "1";
    const number = document.getElementById(range.dataset.rangeFor);
    if (!number) continue;
    range.addEventListener("input", () => {
      number.value = range.value;
      number.dispatchEvent(new Event("input", { bubbles: true }));
    });
    number.addEventListener("input", () => { if (number.value !== "") range.value = number.value; });
  }
}

let regionListener = false;

/** Tabs of the edit panel and sliders in root (the page, or what htmx swapped in). */
// Once the open layer's maps are shown, the other layers' are fetched in the background (the explorer
// lists them in a <template>): their tabs then open from the browser's cache without competing with
// what the student is looking at.
function prefetchOtherLayers(root) {
  const held = root.querySelector ? root.querySelector("template[data-prefetch-maps]") : null;
  if (!held || held.dataset.done) return;
  held.dataset.done = "1";
  const maps = [...root.querySelectorAll(".filter-grid img")];
  const shown = maps.map((img) => (img.complete ? Promise.resolve() : new Promise((done) => {
    img.addEventListener("load", done, { once: true });
    img.addEventListener("error", done, { once: true });
  })));
  Promise.all(shown).then(() => document.head.append(held.content.cloneNode(true)));
}

export function initLab(root = document) {
  bindRanges(root);
  prefetchOtherLayers(root);
  const panel = root.querySelector ? root.querySelector("#edit") : null;
  if (panel && !panel.dataset.enhanced) {
    panel.dataset.enhanced = "1";
    panel.classList.add("is-enhanced");
    const first = panel.querySelector("[data-op-tab]");
    const chosen = panel.dataset.selectedOp && panel.querySelector(`[data-op-tab="${panel.dataset.selectedOp}"]`);
    if (chosen || first) selectOperation(panel, (chosen || first).dataset.opTab);
  }
  if (root instanceof Element && root.matches("[data-op-form]")) {
    // A refused edit came back with its errors: it stays the open one.
    const edit = root.closest("#edit");
    if (edit) selectOperation(edit, root.dataset.opForm, { keepPreview: true });
  }
  if (!regionListener) {
    regionListener = true;
    // A region drawn on the waveform is meant for slice or cross-fade: show slice if neither is open.
    document.addEventListener("waveform:region", (event) => {
      const edit = document.getElementById("edit");
      const open = edit?.querySelector("[data-op-form]:not([hidden])");
      if (event.detail && event.detail.start !== null && open && !["slice", "crossfade"].includes(open.dataset.opForm)) {
        selectOperation(edit, "slice");
        const form = edit.querySelector("[data-op-form=slice]");
        form.querySelector("[data-region-start]").value = event.detail.start;
        form.querySelector("[data-region-end]").value = event.detail.end;
      }
    });
  }
}
