// Uploads: the file picker and the drop zone, a few files at a time, each with its progress and
// a cancel button. A finished upload goes into `items`, so the grid and its count follow at once.
import * as api from "./api.js";
import { $, button, text } from "./dom.js";
import { reportError } from "./notices.js";
import { items } from "./state.js";

const PARALLEL = 3;
const DONE_MS = 4000;
const waiting = [];
let running = 0;

// The gateway fills the picker's accept list from the types it accepts: one list, not a copy.
function accepted(file) {
  const types = $("#file-input").accept.split(",");
  return !file.type || types.includes(file.type);
}

function row(file) {
  const element = text("li", "", "upload");
  const name = text("span", file.name, "name");
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute("aria-label", `Uploading ${file.name}`);
  const status = text("span", "waiting", "muted small");
  element.append(name, progress, status);
  $("#uploads").prepend(element);
  return { element, progress, status };
}

function finish(view, message, error) {
  view.progress.remove();
  view.element.querySelector("button")?.remove();
  view.status.textContent = message;
  if (error) {
    view.element.classList.add("error");
    view.element.append(button("dismiss", () => view.element.remove(), "link"));
  } else {
    setTimeout(() => view.element.remove(), DONE_MS);
  }
}

async function uploadOne(file, view, controller) {
  view.status.textContent = "uploading";
  try {
    const item = await api.upload(file, {
      signal: controller.signal,
      onProgress: (fraction) => {
        view.progress.value = fraction;
      },
    });
    items.accept(item);
    finish(view, item.duplicate_of ? "already in your collection" : "uploaded, processing…");
  } catch (error) {
    const cancelled = error instanceof DOMException && error.name === "AbortError";
    finish(view, cancelled ? "cancelled" : error instanceof Error ? error.message : String(error), true);
  }
}

function drain() {
  while (waiting.length && running < PARALLEL) {
    const [file, view, controller] = waiting.shift();
    running += 1;
    uploadOne(file, view, controller)
      .finally(() => {
        running -= 1;
        drain();
      })
      .catch(reportError);
  }
}

function enqueue(files) {
  for (const file of files) {
    const view = row(file);
    if (!accepted(file)) {
      finish(view, `not an accepted image type (${file.type})`, true);
      continue;
    }
    const controller = new AbortController();
    view.element.append(button("cancel", () => controller.abort(), "link"));
    waiting.push([file, view, controller]);
  }
  drain();
}

export function setupUploads() {
  const drop = $("#drop");
  const input = $("#file-input");
  input.addEventListener("change", () => {
    enqueue([...input.files]);
    input.value = "";
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    enqueue([...(event.dataTransfer?.files ?? [])]);
  });
}
