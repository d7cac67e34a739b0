// Albums: the sidebar (everything, favourites, each album), the shown album's bar (rename,
// share, delete) and the item panel's album section. Choosing a view goes through browse.js;
// `chooseAlbum` lets other modules (bulk actions) ask which album.
import * as api from "./api.js";
import { browse, browsing, resetBrowse } from "./browse.js";
import { addDetailSection } from "./detail.js";
import { confirmDialog, formDialog, promptDialog } from "./dialogs.js";
import { $, button, show, text } from "./dom.js";
import { plural } from "./format.js";
import { handle, notify, reportError } from "./notices.js";
import { shareAlbum } from "./share.js";
import { items, store } from "./state.js";

/** @type {any[]} */
let albums = [];

export function albumList() {
  return albums;
}

function albumNamed(id) {
  return albums.find((album) => album.id === id);
}

function entry(label, onClick, current) {
  const item = document.createElement("li");
  const choice = button(label, onClick, "view");
  if (current) choice.setAttribute("aria-current", "page");
  item.append(choice);
  return item;
}

function drawSidebar() {
  const view = browsing();
  for (const choice of document.querySelectorAll("#sidebar [data-view]")) {
    const current = choice instanceof HTMLElement && choice.dataset.view === view.scope;
    if (current) choice.setAttribute("aria-current", "page");
    else choice.removeAttribute("aria-current");
  }
  $("#albums").replaceChildren(
    ...albums.map((album) =>
      entry(
        `${album.name} (${album.item_count})`,
        () => openAlbum(album),
        view.scope === "album" && view.albumId === album.id,
      ),
    ),
  );
}

function drawAlbumBar() {
  const view = browsing();
  const album = view.scope === "album" ? albumNamed(view.albumId) : null;
  show($("#album-bar"), Boolean(album));
  show($("[data-bulk=remove_from_album]"), Boolean(album));
  if (!album) return;
  $("#album-title").textContent = album.name;
  $("#album-description").textContent = album.description;
  $("#album-share-note").textContent = album.share
    ? `Shared by link until ${new Date(album.share.expires_at).toLocaleString()}`
    : "Not shared";
}

/** Read the albums again (counts, covers, links) and redraw the sidebar and the album bar. */
export async function loadAlbums() {
  albums = (await api.json("/albums")).albums;
  drawSidebar();
  drawAlbumBar();
}

function openAlbum(album) {
  browse({ scope: "album", albumId: album.id, albumName: album.name, sort: "taken" });
}

async function createAlbum(name) {
  const album = await api.post("/albums", { name });
  await loadAlbums();
  return album;
}

async function newAlbum() {
  const name = await promptDialog({ title: "New album", label: "Name", confirm: "Create" });
  if (!name) return;
  openAlbum(await createAlbum(name));
  notify(`Created the album “${name}”.`);
}

async function rename() {
  const album = albumNamed(browsing().albumId);
  if (!album) return;
  const name = await promptDialog({ title: "Rename album", label: "Name", value: album.name, confirm: "Rename" });
  if (!name || name === album.name) return;
  await api.send("PATCH", `/albums/${album.id}`, { name });
  await loadAlbums();
}

async function remove() {
  const album = albumNamed(browsing().albumId);
  if (!album) return;
  const sure = await confirmDialog({
    title: "Delete this album?",
    message: `“${album.name}” and its link go; its ${plural(album.item_count, "item")} stay in your library.`,
    confirm: "Delete album",
    danger: true,
  });
  if (!sure) return;
  await api.call(`/albums/${album.id}`, { method: "DELETE" });
  resetBrowse();
  await loadAlbums();
  notify(`Deleted the album “${album.name}”.`);
}

async function share() {
  const album = albumNamed(browsing().albumId);
  if (!album) return;
  await shareAlbum(album);
  await loadAlbums();
}

/**
 * Ask which album (or a new one by name); resolves to the album or null.
 * @param {{title: string, confirm: string}} options
 */
export async function chooseAlbum({ title, confirm }) {
  const choice = document.createElement("select");
  choice.append(new Option("a new album…", ""));
  for (const album of albums) choice.append(new Option(album.name, album.id));
  if (albums.length) choice.value = albums[0].id;
  const name = document.createElement("input");
  name.maxLength = 200;
  name.placeholder = "name of the new album";
  const body = text("div", "", "field");
  const pick = text("label", "Album", "field");
  pick.append(choice);
  const named = text("label", "New album's name", "field");
  named.append(name);
  body.append(pick, named);
  if (!(await formDialog({ title, body, focus: choice, confirm }))) return null;
  if (choice.value) return albumNamed(choice.value) ?? null;
  const wanted = name.value.trim();
  return wanted ? createAlbum(wanted) : null;
}

async function addTo(item, section) {
  const album = await chooseAlbum({ title: "Add to album", confirm: "Add" });
  if (!album) return;
  await api.post(`/albums/${album.id}/items`, { item_ids: [item.id] });
  item.album_ids = [...new Set([...(item.album_ids ?? []), album.id])];
  section.replaceWith(albumSection(item));
  await loadAlbums();
}

async function takeOut(item, albumId, section) {
  await api.send("DELETE", `/albums/${albumId}/items`, { item_ids: [item.id] });
  item.album_ids = (item.album_ids ?? []).filter((id) => id !== albumId);
  section.replaceWith(albumSection(item));
  if (items.get(item.id)) items.accept({ ...items.get(item.id).item, album_ids: item.album_ids });
  await loadAlbums();
}

function albumSection(item) {
  const section = text("section", "", "albums-of-item");
  section.setAttribute("aria-label", "Albums");
  section.append(text("h3", "Albums"));
  const list = document.createElement("ul");
  for (const id of item.album_ids ?? []) {
    const name = albumNamed(id)?.name ?? "an album";
    const line = text("li", name);
    const drop = button("remove", handle(() => takeOut(item, id, section)), "link");
    drop.setAttribute("aria-label", `Remove from ${name}`);
    line.append(" ", drop);
    list.append(line);
  }
  if (!list.childElementCount) list.append(text("li", "in no album", "muted"));
  section.append(list, button("Add to album…", handle(() => addTo(item, section)), "secondary"));
  return section;
}

export function setupAlbums() {
  for (const choice of document.querySelectorAll("#sidebar [data-view]")) {
    if (!(choice instanceof HTMLElement)) continue;
    const scope = choice.dataset.view === "favorites" ? "favorites" : "all";
    choice.addEventListener("click", () => browse({ scope, albumId: null, albumName: "" }));
  }
  $("#album-new").addEventListener("click", handle(newAlbum));
  $("#album-rename").addEventListener("click", handle(rename));
  $("#album-delete").addEventListener("click", handle(remove));
  $("#album-share").addEventListener("click", handle(share));
  store.on("browse", () => {
    drawSidebar();
    drawAlbumBar();
  });
  store.on("user", (user) => {
    albums = [];
    if (user) loadAlbums().catch(reportError);
  });
  addDetailSection((item) => albumSection(item));
}
