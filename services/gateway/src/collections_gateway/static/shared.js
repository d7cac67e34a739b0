// The page a shared album's link opens (/shared#<token>), without an account. The token is in
// the URL's fragment, which the browser never sends to a server; the page asks GET
// /shared/{token} for the album and shows its thumbnails; a thumbnail opens its preview.
import { $, button, show, text } from "./dom.js";

const PAGE = 48;
const token = decodeURIComponent(location.hash.replace(/^#/, ""));
let cursor = null;

function gone(message) {
  $("#shared-title").textContent = "This link does not open an album";
  $("#shared-error").textContent = message;
  show($("#shared-more"), false);
}

function preview(item, label) {
  const dialog = document.createElement("dialog");
  dialog.className = "dialog shared-preview";
  dialog.setAttribute("aria-label", label);
  const image = document.createElement("img");
  image.src = item.preview_url;
  image.alt = label;
  image.className = "preview";
  dialog.append(image);
  if (item.tags?.length) dialog.append(text("p", item.tags.join(", "), "muted small"));
  const close = button("Close", () => dialog.close(), "secondary");
  dialog.append(close);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

function tile(item, index) {
  const label = item.summary || `Photo ${index + 1}`;
  const node = button("", () => preview(item, label), "tile");
  node.dataset.id = item.id;
  node.setAttribute("aria-label", `Open ${label}`);
  const image = document.createElement("img");
  image.src = item.thumbnail_url;
  image.alt = label;
  image.loading = "lazy";
  node.append(image);
  if (item.summary) node.append(text("span", item.summary, "caption"));
  return node;
}

async function load() {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) params.set("cursor", cursor);
  const response = await fetch(`/shared/${encodeURIComponent(token)}?${params}`, { referrerPolicy: "no-referrer" });
  if (response.status === 404) return gone("The link is wrong, has expired, or was revoked by its owner.");
  if (response.status === 429) return gone("This link was opened too often just now: try again in a minute.");
  if (!response.ok) return gone(`The album could not be loaded (${response.status}).`);
  const album = await response.json();
  document.title = `${album.name} · Collections`;
  $("#shared-title").textContent = album.name;
  $("#shared-description").textContent = album.description;
  const count = `${album.item_count} photo${album.item_count === 1 ? "" : "s"}`;
  $("#shared-expiry").textContent = `${count} · the link works until ${new Date(album.expires_at).toLocaleString()}`;
  const grid = $("#shared-grid");
  const offset = grid.childElementCount;
  grid.append(...album.items.map((item, index) => tile(item, offset + index)));
  cursor = album.next_cursor;
  show($("#shared-more"), Boolean(cursor));
}

function fail(error) {
  gone(error instanceof Error ? error.message : String(error));
}

$("#shared-more").addEventListener("click", () => {
  load().catch(fail);
});
if (token) load().catch(fail);
else gone("The link has no token.");
