// The grid of tiles and the count above it, drawn from `items` (state.js): whatever adds,
// changes or removes an item (a page, an upload, a live status change, a delete) is drawn here.
import * as api from "./api.js";
import { browseParams, browsing } from "./browse.js";
import { $, show, text } from "./dom.js";
import { caption, monthOf, plural } from "./format.js";
import { handle, reportError } from "./notices.js";
import { items, store } from "./state.js";

const PAGE = 48;
const tiles = new Map();
const decorators = [];
let cursor = null;

/**
 * `decorate(cell, entry)` adds to a tile's cell (a star, a selection mark) each time it draws;
 * the cell holds the tile's button, so a decoration can be a control of its own.
 * @param {(cell: HTMLElement, entry: any) => void} decorate
 */
export function addTileDecorator(decorate) {
  decorators.push(decorate);
}

/** Draw every tile's decorations again (a mode that changes them all, such as selection). */
export function redecorate() {
  for (const [id, cell] of tiles) {
    const entry = items.get(id);
    if (entry) for (const decorate of decorators) decorate(cell, entry);
  }
}

function draw(cell, entry) {
  const { item, score } = entry;
  const node = cell.querySelector(".tile");
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
  for (const decorate of decorators) decorate(cell, entry);
}

function tile(entry) {
  const template = $("#tile");
  const cell = template.content.firstElementChild.cloneNode(true);
  cell.dataset.id = entry.item.id;
  cell.querySelector(".tile").addEventListener("click", () => store.emit("open-item", entry.item.id));
  draw(cell, entry);
  return cell;
}

// On the timeline, a heading starts each month (drawn again after every change: a page is small).
function regroup() {
  const grid = $("#grid");
  for (const head of grid.querySelectorAll(".group-head")) head.remove();
  if (items.view.kind !== "library" || items.view.sort !== "taken") return;
  let month = null;
  for (const entry of items.entries()) {
    const label = monthOf(entry.item);
    if (label === month) continue;
    month = label;
    grid.insertBefore(text("h3", label, "group-head"), tiles.get(entry.item.id) ?? null);
  }
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
  const everything = view.scope === "all" || !view.scope;
  show($("#empty"), view.kind === "library" && everything && !view.status && items.size === 0 && !view.loading);
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
  if (type !== "changed" && type !== "more") regroup();
  count();
}

function pageParams(view) {
  const params = browseParams(view);
  params.set("limit", String(PAGE));
  if (view.status) params.set("status", view.status);
  if (view.before) params.set("to", view.before);
  return params;
}

/** The next page of the library view (the first after `loadLibrary`). */
async function loadPage(view) {
  if (view.loading && cursor) return;
  const params = pageParams(view);
  if (cursor) params.set("cursor", cursor);
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

/** Show the library from its first item: the status filter and what browse.js asks for. */
export function loadLibrary() {
  cursor = null;
  const status = $("#status-filter").value;
  const view = items.reset({ kind: "library", status, loading: false, ...browsing() });
  return loadPage(view);
}

/** Fetch the first page again and fold it in (after the live feed missed a stretch). */
export async function resync() {
  const view = items.view;
  if (view.kind !== "library") return;
  const page = await api.json(`/items?${pageParams(view)}`);
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
  store.on("browse", () => {
    if (store.get("user")) loadLibrary().catch(reportError);
  });
}
