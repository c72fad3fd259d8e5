// d-DeVIS: the one DOM helper the page scripts share.

// h("button", {class: "btn", type: "button", text: "Play"}, child…): an element with its
// attributes (false/null skipped, true as an empty attribute), "class", "text" and children.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) el.append(c);
  return el;
}

/** A size as people read it: 512 B, 1.5 KB, 2 MB. */
export function formatBytes(n) {
  if (!Number.isFinite(n)) return "";
  const one = (x) => x.toFixed(1).replace(/\.0$/, "");
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${one(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${one(n / 1024 / 1024)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
