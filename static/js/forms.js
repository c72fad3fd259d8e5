// d-DeVIS forms over htmx: how a refused request explains itself, and upload progress.
//
// Every htmx form holds an error slot, <p data-form-error hidden> (templates/_form_error.html),
// and its fields their own error lists (templates/_field_errors.html). A 4xx answer is either
//  - made for it (core/htmx.py): the form again with its errors, or only the message, with
//    HX-Retarget naming what it replaces. It is swapped in like a 2xx, so every message
//    sits next to the control it is about;
//  - or anything else (a CSRF failure, a 404 page, the request-size limit): its message is
//    put into the error slot of the form that sent the request.
// A 5xx or a network failure says so in the same slot. A new request clears the slot.
//
// Uploads: a form with hx-encoding="multipart/form-data" may hold [data-upload-progress]
// (a .progress bar) and [data-upload-progress-text]; htmx's htmx:xhr:progress moves them.
// A file dropped on a .dropzone lands in its file input.

function slotFor(elt) {
  const form = elt.closest("form") || elt;
  let slot = form.querySelector("[data-form-error]");
  if (!slot) {
    slot = document.createElement("p");
    slot.className = "msg msg-error form-error";
    slot.dataset.formError = "";
    slot.setAttribute("role", "alert");
    form.append(slot);
  }
  return slot;
}

function show(elt, message) {
  const slot = slotFor(elt);
  slot.textContent = message;
  slot.hidden = false;
}

function textOf(el) {
  return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
}

/** A sentence from a failed answer: a JSON detail, an error marker or a page's heading and text. */
export function messageFrom(xhr) {
  const text = xhr.responseText || "";
  if (/json/i.test(xhr.getResponseHeader("Content-Type") || "")) {
    try {
      const data = JSON.parse(text);
      if (data && typeof data.detail === "string") return data.detail;
      const first = Object.values(data || {}).flat()[0];
      if (typeof first === "string") return first;
    } catch (_) {
      /* not JSON after all */
    }
  }
  if (/<[a-z!]/i.test(text)) {
    // Without its <style>s: the parsed page is under this page's CSP, and their nonce is another's.
    const doc = new DOMParser().parseFromString(text.replace(/<style[\s\S]*?<\/style>/gi, ""), "text/html");
    const marked = textOf(doc.querySelector("[data-error-message], [data-form-error], .errorlist"));
    if (marked) return marked;
    const card = doc.querySelector("main .card") || doc.querySelector("main");
    const sentence = textOf(card?.querySelector("p"));
    if (sentence) return sentence;
  } else if (text.trim() && text.length < 300) {
    return text.trim();
  }
  if (xhr.status === 403) return "The server refused this (your session may have expired): reload the page and try again.";
  if (xhr.status === 404) return "This is gone, or it belongs to someone else.";
  if (xhr.status === 413) return "That is larger than the server accepts.";
  if (xhr.status >= 500) return "The server failed to answer this time; try again in a moment.";
  return `The server refused this (HTTP ${xhr.status}).`;
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest("form");
  const slot = form?.querySelector("[data-form-error]");
  if (slot) {
    slot.hidden = true;
    slot.textContent = "";
  }
});

document.addEventListener("htmx:beforeSwap", (event) => {
  const { xhr, requestConfig } = event.detail;
  if (xhr.status < 400) return;
  if (xhr.status < 500 && xhr.getResponseHeader("HX-Retarget")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    return;
  }
  event.detail.shouldSwap = false;
  event.detail.isError = false; // explained here, not by htmx's generic error event
  show(requestConfig?.elt || event.detail.elt, messageFrom(xhr));
});

document.addEventListener("htmx:sendError", (event) => {
  show(event.detail.elt, "The server could not be reached. Check your connection and try again.");
});

document.addEventListener("htmx:xhr:progress", (event) => {
  const form = event.target.closest("form");
  const bar = form?.querySelector("[data-upload-progress]");
  if (!bar || !event.detail.lengthComputable) return;
  const percent = Math.round((100 * event.detail.loaded) / event.detail.total);
  bar.setAttribute("aria-valuenow", String(percent));
  bar.firstElementChild.style.width = `${percent}%`;
  const text = form.querySelector("[data-upload-progress-text]");
  if (text) text.textContent = percent < 100 ? `Uploading… ${percent}%` : "Uploaded. Checking the file…";
});

// A file dropped anywhere on a drop zone goes to its file input, not to a new browser tab.
document.addEventListener("dragover", (event) => {
  if (event.target.closest?.(".dropzone")) event.preventDefault();
});
document.addEventListener("drop", (event) => {
  const input = event.target.closest?.(".dropzone")?.querySelector("input[type=file]");
  if (!input || event.target === input || !event.dataTransfer?.files.length) return;
  event.preventDefault();
  input.files = event.dataTransfer.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});

// A read-only field to copy (a course's join link) selects itself when focused: no inline
// handler, which the Content-Security-Policy forbids.
document.addEventListener("focusin", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.hasAttribute("data-select-on-focus")) {
    event.target.select();
  }
});
