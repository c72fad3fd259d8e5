// The main menu on a phone: the links fold behind one button (aria-expanded says which way).
// Without this script the links simply stay in the top bar; the CSS only folds them once the
// button works (the top bar gets .nav-collapsible).

function setOpen(toggle, nav, open) {
  toggle.setAttribute("aria-expanded", String(open));
  nav.classList.toggle("is-open", open);
}

export function initNav(root = document) {
  for (const toggle of root.querySelectorAll("[data-nav-toggle]:not([data-nav-ready])")) {
    const nav = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) continue;
    toggle.dataset.navReady = "true";
    toggle.hidden = false;
    toggle.closest(".topbar")?.classList.add("nav-collapsible");
    toggle.addEventListener("click", () => setOpen(toggle, nav, toggle.getAttribute("aria-expanded") !== "true"));
    // Escape closes the menu and gives the focus back to its button, as a disclosure should.
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(toggle, nav, false);
        toggle.focus();
      }
    });
  }
}
