// The detail panel: one item's preview, facts and actions. It opens on the "open-item" signal
// (a tile, a chat citation), redraws when the item changes, and shows sections that other
// modules add with `addDetailSection` (albums, an analysis editor...) without editing this file.
import * as api from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { $, button, show, text } from "./dom.js";
import { caption, failureText } from "./format.js";
import { handle, notify, reportError } from "./notices.js";
import { items, store } from "./state.js";

const sections = [];
let shown = null;
let opening = 0;

/** `render(item)` returns a Node for the panel (or null); it runs each time the panel draws. */
export function addDetailSection(render) {
  sections.push(render);
}

function field(list, label, value) {
  if (value == null || value === "" || (Array.isArray(value) && !value.length)) return;
  list.append(text("dt", label), text("dd", Array.isArray(value) ? value.join(", ") : String(value)));
}

function facts(item) {
  const analysis = item.analysis?.analysis;
  const list = document.createElement("dl");
  field(list, "Status", item.status);
  field(list, "Summary", analysis?.summary);
  field(list, "Description", analysis?.description);
  field(list, "Category", analysis?.category);
  field(list, "Tags", analysis?.tags);
  field(list, "Objects", analysis?.objects);
  field(list, "Text in image", analysis?.text);
  field(list, "Colours", analysis?.colors);
  field(list, "Setting", analysis?.setting);
  field(list, "Taken", item.exif?.taken_at);
  field(list, "Camera", [item.exif?.camera_make, item.exif?.camera_model].filter(Boolean).join(" "));
  if (item.exif?.gps_latitude != null && item.exif?.gps_longitude != null) {
    field(list, "Location", `${item.exif.gps_latitude.toFixed(5)}, ${item.exif.gps_longitude.toFixed(5)}`);
  }
  field(list, "Size", item.width ? `${item.width}×${item.height}` : null);
  if (item.analysis) {
    field(list, "Analysis", `v${item.analysis.version} · ${item.analysis.provider} · ${item.analysis.model}`);
  }
  return list;
}

// A button that is disabled while its request runs, so a double click sends one request.
function action(label, work, className) {
  const element = button(label, handle(async () => {
    element.disabled = true;
    try {
      await work();
    } finally {
      element.disabled = false;
    }
  }), className);
  return element;
}

// Not disabled while the dialog asks: focus goes back to this button when it closes.
async function remove(item, trigger) {
  const sure = await confirmDialog({
    title: "Delete this image?",
    message: `“${item.filename}”, its thumbnails and every analysis are removed. This cannot be undone.`,
    confirm: "Delete",
    danger: true,
  });
  if (!sure) return;
  trigger.disabled = true;
  try {
    await api.call(`/items/${item.id}`, { method: "DELETE" });
  } finally {
    trigger.disabled = false;
  }
  items.remove(item.id);
  closeDetail();
  notify(`Deleted “${item.filename}”.`);
}

function actions(item) {
  const row = text("div", "", "actions");
  row.append(
    action("Analyze again", async () => {
      await api.call(`/items/${item.id}/analyze`, { method: "POST" });
      notify("A new analysis was requested.");
    }),
    action("Reprocess", async () => {
      await api.call(`/items/${item.id}/reprocess`, { method: "POST" });
      notify("The image will be processed again.");
    }),
  );
  if (item.original_url) {
    const link = text("a", "Download original");
    link.href = item.original_url;
    link.rel = "noopener noreferrer";
    row.append(link);
  }
  const deletion = button("Delete", handle(() => remove(item, deletion)), "danger");
  row.append(deletion);
  return row;
}

// What a status change alters: preview, failure and facts. Actions and added sections are left
// alone, so a focused button or a half-edited form survives a live update.
function body(item) {
  const part = text("div", "", "detail-body");
  if (item.preview_url) {
    const image = document.createElement("img");
    image.src = item.preview_url;
    image.alt = caption(item);
    image.className = "preview";
    part.append(image);
  }
  if (item.failure) part.append(text("p", failureText(item.failure), "error"));
  part.append(facts(item));
  return part;
}

function draw(item) {
  const panel = $("#detail");
  const head = text("div", "", "panel-head");
  const title = text("h2", item.filename);
  title.id = "detail-title";
  title.tabIndex = -1;
  head.append(title, button("close", closeDetail, "link"));
  panel.replaceChildren(head, body(item), actions(item));
  for (const render of sections) {
    const section = render(item);
    if (section) panel.append(section);
  }
}

async function openDetail(id) {
  const ticket = ++opening;
  const returnTo = shown?.returnTo ?? document.activeElement;
  const item = await api.json(`/items/${id}`);
  if (ticket !== opening) return;
  shown = { id, returnTo };
  draw(item);
  show($("#detail"), true);
  $("#detail-title").focus();
}

export function closeDetail() {
  const returnTo = shown?.returnTo;
  shown = null;
  opening += 1;
  show($("#detail"), false);
  // The tile that opened the panel may be gone (deleted, or a new search): the grid, then.
  if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
  else if (returnTo) $("#grid").focus();
}

// A live change carries the full item (live.js reads it again), so no request is needed.
function follow({ type, id }) {
  if (type !== "changed" || !shown || id !== shown.id) return;
  const item = items.get(id)?.item;
  const current = document.querySelector("#detail .detail-body");
  if (current && item && "preview_url" in item) current.replaceWith(body(item));
}

export function setupDetail() {
  store.on("open-item", (id) => {
    openDetail(id).catch(reportError);
  });
  items.addEventListener("change", (event) => follow(event.detail));
  $("#detail").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeDetail();
  });
}
