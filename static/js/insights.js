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
