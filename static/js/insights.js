// Sweep plot: a click on a point opens that variant in the lab (the table below does the same without JS).
document.addEventListener("click", (event) => {
  const point = event.target.closest("circle[data-point]");
  if (!point) return;
  const form = document.querySelector(`form[data-point-form="${point.dataset.point}"]`);
  if (form) form.requestSubmit();
});

// Hovering a line or a legend entry brings that digit forward.
document.addEventListener("mouseover", (event) => {
  const line = event.target.closest(".digit-line");
  const chart = event.target.closest(".sweep-chart");
  if (!chart) return;
  for (const g of chart.querySelectorAll(".digit-line")) g.classList.toggle("dim", Boolean(line) && g !== line);
});
document.addEventListener("mouseout", (event) => {
  const chart = event.target.closest(".sweep-chart");
  if (chart && !chart.contains(event.relatedTarget)) {
    for (const g of chart.querySelectorAll(".digit-line")) g.classList.remove("dim");
  }
});

// "Listen to what it likes" buttons keep their words while they play (the lab's ▶ buttons swap
// their text for ■): one sound at a time, shared with the lab's player.
if (!window.ddevisListen) {
  window.ddevisListen = true;
  const player = new Audio();
  let playing = null;
  const stop = () => {
    player.pause();
    if (playing) {
      playing.classList.remove("is-playing");
      playing.setAttribute("aria-pressed", "false");
      playing = null;
    }
  };
  player.addEventListener("ended", stop);
  player.addEventListener("error", () => {
    if (playing) playing.title = "This sound could not be loaded.";
    stop();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("button[data-play]")) {
      stop(); // the lab's player takes over
      return;
    }
    const button = event.target.closest("button[data-listen]");
    if (!button) return;
    event.preventDefault();
    const same = playing === button;
    stop();
    if (same) return;
    document.querySelector("button[data-play].is-playing")?.click(); // stops the lab's player
    for (const media of document.querySelectorAll("audio, video")) media.pause();
    player.src = button.dataset.listen;
    player.play().catch(() => {});
    playing = button;
    button.classList.add("is-playing");
    button.setAttribute("aria-pressed", "true");
  });
  document.addEventListener("play", (event) => { if (event.target !== player) stop(); }, true);
}
