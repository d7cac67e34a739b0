// The grid of tiles and the count above it, drawn from `items` (state.js): whatever adds,
// changes or removes an item (a page, an upload, a live status change, a delete) is drawn here.
import * as api from "./api.js";
import { $, show } from "./dom.js";
import { caption, plural } from "./format.js";
import { handle } from "./notices.js";
import { items, store } from "./state.js";

const PAGE = 48;
const tiles = new Map();
let cursor = null;

function draw(node, entry) {
  const { item, score } = entry;
  const image = node.querySelector("img");
  if (item.thumbnail_url && image.getAttribute("src") !== item.thumbnail_url) image.src = item.thumbnail_url;
  image.alt = caption(item);
  const badge = node.querySelector(".badge");
  badge.textContent = score != null ? score.toFixed(2) : item.status;
  badge.className = `badge ${score != null ? "score" : item.status}`;
  node.querySelector(".caption").textContent = caption(item);
  const state = score != null ? `score ${score.toFixed(2)}` : item.status;
  node.setAttribute("aria-label", `${caption(item)} (${state})`);
  node.title = item.failure ? `${item.failure.code}: ${item.failure.message}` : item.filename || "";
}

function tile(entry) {
  const template = $("#tile");
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.id = entry.item.id;
  node.addEventListener("click", () => store.emit("open-item", entry.item.id));
  draw(node, entry);
  return node;
}

function count() {
  const view = items.view;
  const summary = $("#summary");
  if (view.kind === "search") {
    summary.textContent = `${plural(items.size, "result")} in ${Math.round(view.tookMs)} ms`;
  } else {
    summary.textContent = `${plural(items.size, "item")}${items.more ? "+" : ""}`;
  }
  show($("#more"), view.kind === "library" && items.more);
  show($("#empty"), view.kind === "library" && !view.status && items.size === 0 && !view.loading);
}

function redraw({ type, id, before }) {
  const grid = $("#grid");
  if (type === "reset") {
    tiles.clear();
    grid.replaceChildren();
  } else if (type === "added") {
    const node = tile(items.get(id));
    tiles.set(id, node);
    grid.insertBefore(node, (before && tiles.get(before)) || null);
  } else if (type === "changed") {
    const node = tiles.get(id);
    if (node) draw(node, items.get(id));
  } else if (type === "removed") {
    tiles.get(id)?.remove();
    tiles.delete(id);
  }
  count();
}

/** The next page of the library view (the first after `loadLibrary`). */
async function loadPage(view) {
  if (view.loading && cursor) return;
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) params.set("cursor", cursor);
  if (view.status) params.set("status", view.status);
  view.loading = true;
  try {
    const page = await api.json(`/items?${params}`);
    if (items.view !== view) return;
    cursor = page.next_cursor;
    items.append(page.items.map((item) => ({ item, score: null })), Boolean(cursor));
  } finally {
    view.loading = false;
    if (items.view === view) count();
  }
}

/** Show the library from its newest item, with the status filter applied. */
export function loadLibrary() {
  cursor = null;
  const view = items.reset({ kind: "library", status: $("#status-filter").value, loading: false });
  return loadPage(view);
}

/** Fetch the first page again and fold it in (after the live feed missed a stretch). */
export async function resync() {
  const view = items.view;
  if (view.kind !== "library") return;
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (view.status) params.set("status", view.status);
  const page = await api.json(`/items?${params}`);
  if (items.view !== view) return;
  for (const item of page.items) items.accept(item);
}

export function clearGrid() {
  cursor = null;
  items.reset({ kind: "library", status: "", loading: true });
}

export function setupGrid() {
  items.addEventListener("change", (event) => redraw(event.detail));
  $("#status-filter").addEventListener("change", handle(loadLibrary));
  $("#more").addEventListener("click", handle(() => loadPage(items.view)));
}
