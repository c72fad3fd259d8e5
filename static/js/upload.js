// d-DeVIS upload forms: drag and drop, client-side checks, XHR upload with progress.
//
// Markup (works without JS as a plain multipart form):
//
//   <form data-upload method="post" action="/recordings/new/" enctype="multipart/form-data"
//         data-max-bytes="10485760" data-accept=".wav,.flac,.ogg,.mp3">
//     <input type="hidden" name="csrfmiddlewaretoken" value="...">
//     <input type="file" name="file" accept=".wav,.flac,.ogg,.mp3" required>
//     <input type="text" name="title">            (any other fields are sent too)
//     <button type="submit" class="btn btn-primary">Upload</button>
//   </form>
//
// data-max-bytes          size limit in bytes (optional; no limit when absent)
// data-accept             comma-separated extensions (default: the file input's accept)
// data-redirect-template  optional, e.g. "/recordings/{id}/": used when the server answers
//                         JSON with an "id" instead of a redirect
//
// Server answers: a redirect (XHR follows it; we then go to xhr.responseURL), or a 4xx
// with JSON {"detail": ...} / field errors, or HTML containing [data-error-message].
//
// Events on the form (bubbling): upload:start, upload:progress {loaded, total},
// upload:error {message, status}, upload:done {url}.

import { h } from "./dom.js";

const DONE = "uploadReady"; // data-upload-ready

/** The CSRF token from <body hx-headers='{"X-CSRFToken": "..."}'>, else the csrftoken cookie. */
export function csrfToken() {
  const raw = document.body?.getAttribute("hx-headers");
  if (raw) {
    try {
      const token = JSON.parse(raw)["X-CSRFToken"];
      if (token) return token;
    } catch (_) {
      /* not JSON: fall through */
    }
  }
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return "";
  const one = (x) => x.toFixed(1).replace(/\.0$/, "");
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${one(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${one(n / 1024 / 1024)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

function flatten(value) {
  if (value == null) return "";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(flatten).filter(Boolean).join(" ");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([k, v]) => (k === "detail" || k === "non_field_errors" ? flatten(v) : `${k}: ${flatten(v)}`))
      .join(" ");
  }
  return String(value);
}

/** A human message from a failed XHR: JSON detail / field errors, or [data-error-message] in HTML. */
export function errorMessageFrom(xhr) {
  const type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
  const text = xhr.responseText || "";
  if (type.includes("json") || /^\s*[{[]/.test(text)) {
    try {
      const data = JSON.parse(text);
      const msg = data && data.detail != null ? flatten(data.detail) : flatten(data);
      if (msg) return msg;
    } catch (_) {
      /* not JSON after all */
    }
  }
  if (type.includes("html") || /<[a-z!]/i.test(text)) {
    const doc = new DOMParser().parseFromString(text, "text/html");
    const el = doc.querySelector("[data-error-message]") || doc.querySelector(".errorlist");
    const msg = el?.textContent.replace(/\s+/g, " ").trim();
    if (msg) return msg;
  }
  if (xhr.status === 413) return "The file is larger than the server accepts.";
  if (xhr.status === 403) return "The server refused the request (your session may have expired). Reload the page and try again.";
  if (xhr.status === 0) return "Network error: the server could not be reached. Check your connection and try again.";
  return `The server answered with an error (HTTP ${xhr.status}).`;
}

const ICON_UPLOAD =
  '<svg viewBox="0 0 24 24" width="30" height="30" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><path d="M12 16V4M7 9l5-5 5 5"/><path d="M4 15v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3"/></svg>';
const ICON_FILE =
  '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><path d="M9 18V5l12-2v13"/><circle cx="6" cy="18" r="3"/><circle cx="18" cy="16" r="3"/></svg>';

function listExtensions(exts) {
  const list = exts.map((e) => e.replace(/^\./, "").toUpperCase());
  if (list.length <= 1) return list.join("");
  return `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
}

function enhance(form) {
  const input = form.querySelector('input[type="file"]');
  if (!input) return;

  const accept = (form.dataset.accept || input.getAttribute("accept") || "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.startsWith("."));
  const maxBytes = parseInt(form.dataset.maxBytes, 10) || 0;
  const submitButtons = () => [...form.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]')];

  // ---- build the drop zone around the existing file input
  const zoneId = `${input.id || "upload"}-zone-${Math.random().toString(36).slice(2, 8)}`;
  const chooseBtn = h("button", { type: "button", class: "btn btn-sm", text: "Choose a file" });
  const hintParts = [];
  if (accept.length) hintParts.push(listExtensions(accept));
  if (maxBytes) hintParts.push(`up to ${formatBytes(maxBytes)}`);
  const prompt = h(
    "div",
    { class: "dz-prompt" },
    h("span", { class: "dz-icon" }),
    h("div", { class: "dz-title" }, "Drag a sound file here, or ", chooseBtn),
    h("div", { class: "dz-hint", text: hintParts.join(" · ") }),
  );
  prompt.querySelector(".dz-icon").innerHTML = ICON_UPLOAD;

  const fileName = h("span", { class: "dz-file-name" });
  const fileSize = h("span", { class: "dz-file-size" });
  const changeBtn = h("button", { type: "button", class: "btn btn-sm btn-ghost", text: "Change" });
  const removeBtn = h("button", { type: "button", class: "btn btn-sm btn-ghost", text: "Remove" });
  const fileRow = h(
    "div",
    { class: "dz-file", hidden: true },
    h("span", { class: "dz-file-icon" }),
    h("span", { class: "dz-file-text" }, fileName, fileSize),
    h("span", { class: "spacer" }),
    changeBtn,
    removeBtn,
  );
  fileRow.querySelector(".dz-file-icon").innerHTML = ICON_FILE;

  const zone = h("div", { class: "dropzone", id: zoneId }, prompt, fileRow);
  input.replaceWith(zone);
  zone.prepend(input);
  input.classList.add("visually-hidden");
  input.tabIndex = -1; // the visible buttons drive it
  // The browser cannot point its "required" bubble at a hidden input; check() says it instead.
  input.required = false;

  const message = h("div", { class: "msg msg-error upload-msg", role: "alert", hidden: true });
  const progressBar = h("span", { style: "width: 0%" });
  const progressText = h("span", { class: "upload-progress-text", "aria-live": "polite" });
  const cancelBtn = h("button", { type: "button", class: "btn btn-sm btn-ghost", text: "Cancel" });
  const progress = h(
    "div",
    { class: "upload-progress", hidden: true },
    h("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0", "aria-label": "Upload progress" }, progressBar),
    h("div", { class: "row" }, progressText, h("span", { class: "spacer" }), cancelBtn),
  );
  zone.after(message, progress);

  // ---- state
  let xhr = null;

  const showError = (text) => {
    message.textContent = text;
    message.hidden = false;
    zone.classList.add("is-invalid");
  };
  const clearError = () => {
    message.hidden = true;
    message.textContent = "";
    zone.classList.remove("is-invalid");
  };
  const setBusy = (busy) => {
    form.classList.toggle("is-uploading", busy);
    form.setAttribute("aria-busy", busy ? "true" : "false");
    submitButtons().forEach((b) => (b.disabled = busy));
    chooseBtn.disabled = changeBtn.disabled = removeBtn.disabled = busy;
    progress.hidden = !busy;
  };
  const setProgress = (pct, text) => {
    progressBar.style.width = `${pct}%`;
    progress.querySelector(".progress").setAttribute("aria-valuenow", String(Math.round(pct)));
    progressText.textContent = text;
  };

  const check = (file) => {
    if (!file) return "Choose a sound file first.";
    const name = file.name.toLowerCase();
    if (accept.length && !accept.some((ext) => name.endsWith(ext))) {
      return `“${file.name}” is not a supported sound file. Choose a ${listExtensions(accept)} file.`;
    }
    if (maxBytes && file.size > maxBytes) {
      return `“${file.name}” is ${formatBytes(file.size)}; the limit is ${formatBytes(maxBytes)}.`;
    }
    if (file.size === 0) return `“${file.name}” is empty.`;
    return "";
  };

  const showFile = () => {
    const file = input.files && input.files[0];
    clearError();
    if (!file) {
      fileRow.hidden = true;
      prompt.hidden = false;
      zone.classList.remove("has-file");
      return;
    }
    fileName.textContent = file.name; // textContent: user data is never parsed as HTML
    fileSize.textContent = formatBytes(file.size);
    fileRow.hidden = false;
    prompt.hidden = true;
    zone.classList.add("has-file");
    const problem = check(file);
    if (problem) {
      showError(problem);
      input.value = "";
      fileRow.hidden = true;
      prompt.hidden = false;
      zone.classList.remove("has-file");
    }
  };

  const pick = () => {
    if (!xhr) input.click();
  };
  chooseBtn.addEventListener("click", pick);
  changeBtn.addEventListener("click", pick);
  removeBtn.addEventListener("click", () => {
    input.value = "";
    showFile();
    chooseBtn.focus();
  });
  input.addEventListener("change", showFile);

  // ---- drag and drop
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  zone.addEventListener("dragenter", (e) => {
    if (!hasFiles(e) || xhr) return;
    e.preventDefault();
    depth += 1;
    zone.classList.add("is-dragover");
  });
  zone.addEventListener("dragover", (e) => {
    if (!hasFiles(e) || xhr) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-dragover");
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("is-dragover");
  });
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove("is-dragover");
    if (xhr) return;
    const files = e.dataTransfer?.files;
    if (!files || !files.length) return;
    if (files.length > 1) {
      showError("Drop one file at a time.");
      return;
    }
    const dt = new DataTransfer();
    dt.items.add(files[0]);
    input.files = dt.files;
    showFile();
  });

  // ---- submit through XHR
  const finish = () => {
    xhr = null;
    setBusy(false);
  };

  cancelBtn.addEventListener("click", () => {
    if (xhr) xhr.abort();
  });

  form.addEventListener("submit", (e) => {
    if (e.defaultPrevented) return;
    e.preventDefault();
    if (xhr) return;
    clearError();
    const file = input.files && input.files[0];
    const problem = check(file);
    if (problem) {
      showError(problem);
      chooseBtn.focus();
      return;
    }

    let data;
    try {
      data = new FormData(form, e.submitter || undefined);
    } catch (_) {
      data = new FormData(form);
    }
    const action = form.getAttribute("action") ? form.action : window.location.href;
    const method = (form.getAttribute("method") || "post").toUpperCase();

    xhr = new XMLHttpRequest();
    xhr.open(method, action);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "text/html,application/json;q=0.9");

    xhr.upload.addEventListener("progress", (ev) => {
      if (!ev.lengthComputable) return;
      const pct = (ev.loaded / ev.total) * 100;
      setProgress(pct, `Uploading ${file.name} — ${Math.floor(pct)}% (${formatBytes(ev.loaded)} of ${formatBytes(ev.total)})`);
      form.dispatchEvent(new CustomEvent("upload:progress", { bubbles: true, detail: { loaded: ev.loaded, total: ev.total } }));
    });
    xhr.upload.addEventListener("load", () => {
      setProgress(100, "Uploaded. Checking the file…");
      form.classList.add("is-processing");
    });

    xhr.addEventListener("load", () => {
      const req = xhr;
      form.classList.remove("is-processing");
      if (req.status >= 200 && req.status < 300) {
        const redirected = req.responseURL && req.responseURL !== action;
        let target = redirected ? req.responseURL : "";
        if (!target && /json/i.test(req.getResponseHeader("Content-Type") || "")) {
          try {
            const body = JSON.parse(req.responseText);
            const tpl = form.dataset.redirectTemplate;
            if (body && body.id != null && tpl) target = tpl.replace("{id}", encodeURIComponent(body.id));
            else if (body && typeof body.redirect === "string") target = body.redirect;
          } catch (_) {
            /* ignore */
          }
        }
        if (!target) {
          // 2xx without a redirect: an HTML page with an error marker, or else show that page.
          const doc = /html/i.test(req.getResponseHeader("Content-Type") || "")
            ? new DOMParser().parseFromString(req.responseText, "text/html")
            : null;
          const marker = doc?.querySelector("[data-error-message]");
          if (marker) {
            const msg = marker.textContent.replace(/\s+/g, " ").trim();
            finish();
            showError(msg);
            form.dispatchEvent(new CustomEvent("upload:error", { bubbles: true, detail: { message: msg, status: req.status } }));
            return;
          }
          target = req.responseURL || action;
        }
        setProgress(100, "Done. Opening…");
        form.dispatchEvent(new CustomEvent("upload:done", { bubbles: true, detail: { url: target } }));
        window.location = target;
        return;
      }
      const msg = errorMessageFrom(req);
      finish();
      showError(msg);
      form.dispatchEvent(new CustomEvent("upload:error", { bubbles: true, detail: { message: msg, status: req.status } }));
    });
    xhr.addEventListener("error", () => {
      const msg = errorMessageFrom({ status: 0, responseText: "", getResponseHeader: () => "" });
      finish();
      showError(msg);
      form.dispatchEvent(new CustomEvent("upload:error", { bubbles: true, detail: { message: msg, status: 0 } }));
    });
    xhr.addEventListener("abort", () => {
      finish();
      setProgress(0, "");
      showError("Upload cancelled.");
    });

    setBusy(true);
    setProgress(0, `Uploading ${file.name} — 0%`);
    form.dispatchEvent(new CustomEvent("upload:start", { bubbles: true }));
    xhr.send(data);
  });

  showFile(); // a file may already be selected (back/forward cache)

  // Coming back to this page from the back/forward cache: it must not stay "uploading".
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted || !form.isConnected) return;
    if (xhr) xhr.abort();
    xhr = null;
    form.classList.remove("is-processing");
    setBusy(false);
    setProgress(0, "");
  });
}

/** Enhance every not-yet-initialised form[data-upload] in root (root itself included). */
export function initUploads(root = document) {
  const found = [];
  if (root instanceof Element && root.matches("form[data-upload]")) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll("form[data-upload]"));
  for (const form of found) {
    if (form.dataset[DONE]) continue;
    form.dataset[DONE] = "1";
    try {
      enhance(form);
    } catch (err) {
      console.error("upload: could not enhance form", err);
    }
  }
}
