// Select mode and the bulk action bar: a click (or Enter / Space) on a tile selects it instead
// of opening it, shift-click selects the range from the last one, "select all loaded" takes the
// grid. Actions go to POST /items/bulk, 500 ids a request, and each id's outcome is counted.
import * as api from "./api.js";
import { chooseAlbum, loadAlbums } from "./albums.js";
import { browsing } from "./browse.js";
import { confirmDialog } from "./dialogs.js";
import { $, show } from "./dom.js";
import { plural } from "./format.js";
import { addTileDecorator, redecorate } from "./grid.js";
import { handle, notify } from "./notices.js";
import { items } from "./state.js";

const BATCH = 500;
const selected = new Set();
let selecting = false;
let anchor = null;

function paint(cell, entry) {
  const tile = cell.querySelector(".tile");
  const chosen = selecting && selected.has(entry.item.id);
  cell.classList.toggle("selected", chosen);
  if (selecting) tile.setAttribute("aria-pressed", String(chosen));
  else tile.removeAttribute("aria-pressed");
}

function counted() {
  $("#bulk-count").textContent = `${selected.size} selected`;
  for (const action of document.querySelectorAll("#bulk-bar [data-bulk]")) {
    if (action instanceof HTMLButtonElement) action.disabled = selected.size === 0;
  }
  redecorate();
}

function setSelecting(on) {
  selecting = on;
  selected.clear();
  anchor = null;
  $("#select-toggle").setAttribute("aria-pressed", String(on));
  show($("#bulk-bar"), on);
  counted();
}

function range(from, to) {
  const order = items.entries().map((entry) => entry.item.id);
  const [start, end] = [order.indexOf(from), order.indexOf(to)].sort((a, b) => a - b);
  return start < 0 ? [to] : order.slice(start, end + 1);
}

function choose(event) {
  if (!selecting || !(event.target instanceof Element)) return;
  const cell = event.target.closest(".cell");
  if (!cell || !(cell instanceof HTMLElement) || !event.target.closest(".tile")) return;
  event.preventDefault();
  event.stopPropagation();
  const id = cell.dataset.id;
  if (event.shiftKey && anchor) {
    for (const other of range(anchor, id)) selected.add(other);
  } else if (selected.has(id)) {
    selected.delete(id);
  } else {
    selected.add(id);
  }
  anchor = id;
  counted();
}

async function bulk(action, ids, albumId) {
  const outcomes = [];
  for (let start = 0; start < ids.length; start += BATCH) {
    const body = { action, item_ids: ids.slice(start, start + BATCH) };
    if (albumId) body.album_id = albumId;
    const result = await api.post("/items/bulk", body);
    outcomes.push(...result.results);
  }
  return outcomes;
}

function report(outcomes, verb) {
  const done = outcomes.filter((outcome) => outcome.status !== "failed");
  const failed = outcomes.length - done.length;
  const reasons = [...new Set(outcomes.filter((o) => o.status === "failed").map((o) => o.code))];
  const tail = failed ? `; ${failed} could not be (${reasons.join(", ")})` : "";
  notify(`${plural(done.length, "item")} ${verb}${tail}.`, { kind: failed ? "error" : "info" });
  return done.map((outcome) => outcome.item_id);
}

async function favorite(ids, starred) {
  const done = report(await bulk(starred ? "favorite" : "unfavorite", ids), starred ? "starred" : "unstarred");
  for (const id of done) {
    const entry = items.get(id);
    if (entry) items.accept({ ...entry.item, favorite: starred });
  }
}

async function addToAlbum(ids) {
  const album = await chooseAlbum({ title: `Add ${plural(ids.length, "item")} to an album`, confirm: "Add" });
  if (!album) return;
  report(await bulk("add_to_album", ids, album.id), `added to “${album.name}”`);
  await loadAlbums();
}

async function removeFromAlbum(ids) {
  const view = browsing();
  if (view.scope !== "album" || !view.albumId) return;
  const done = report(await bulk("remove_from_album", ids, view.albumId), "taken out of the album");
  for (const id of done) items.remove(id);
  await loadAlbums();
}

async function remove(ids) {
  const sure = await confirmDialog({
    title: `Delete ${plural(ids.length, "image")}?`,
    message: "They, their thumbnails and every analysis are removed. This cannot be undone.",
    confirm: "Delete",
    danger: true,
  });
  if (!sure) return;
  for (const id of report(await bulk("delete", ids), "deleted")) items.remove(id);
  await loadAlbums();
}

async function act(action) {
  const ids = [...selected];
  if (!ids.length) return;
  if (action === "favorite" || action === "unfavorite") await favorite(ids, action === "favorite");
  else if (action === "add_to_album") await addToAlbum(ids);
  else if (action === "remove_from_album") await removeFromAlbum(ids);
  else if (action === "delete") await remove(ids);
  else if (action === "analyze") report(await bulk("analyze", ids), "sent for a new analysis");
  for (const id of ids) if (!items.get(id)) selected.delete(id);
  counted();
}

export function setupSelection() {
  addTileDecorator(paint);
  $("#grid").addEventListener("click", choose, { capture: true });
  $("#select-toggle").addEventListener("click", () => setSelecting(!selecting));
  $("#select-done").addEventListener("click", () => setSelecting(false));
  $("#select-all").addEventListener("click", () => {
    for (const entry of items.entries()) selected.add(entry.item.id);
    counted();
  });
  for (const action of document.querySelectorAll("#bulk-bar [data-bulk]")) {
    if (!(action instanceof HTMLButtonElement)) continue;
    action.addEventListener(
      "click",
      handle(async () => {
        action.disabled = true;
        try {
          await act(action.dataset.bulk ?? "");
        } finally {
          action.disabled = selected.size === 0;
        }
      }),
    );
  }
  items.addEventListener("change", (event) => {
    if (event.detail.type === "reset" && selecting) setSelecting(false);
  });
}
