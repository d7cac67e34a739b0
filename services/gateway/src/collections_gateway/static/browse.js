// What the library shows, beyond its status filter: the sidebar's scope (everything, the
// favourites or one album) and the timeline's order and month. Changing it reloads the grid
// (grid.js listens to the store's "browse").

import { store } from "./state.js";

/**
 * @typedef {{scope: "all" | "favorites" | "album", albumId: string | null, albumName: string,
 *   sort: "uploaded" | "taken", before: string | null}} Browse
 */

/** @type {Browse} */
const EVERYTHING = { scope: "all", albumId: null, albumName: "", sort: "uploaded", before: null };

/** @returns {Browse} */
export function browsing() {
  return store.get("browse") ?? EVERYTHING;
}

/** Change some of what is shown (a new scope or order also leaves any month jumped to). */
export function browse(change) {
  const next = { ...browsing(), ...change };
  if (("scope" in change || "sort" in change || "albumId" in change) && !("before" in change)) next.before = null;
  store.set("browse", next);
}

/** Back to everything, newest upload first (signing out, or the album shown was deleted). */
export function resetBrowse() {
  store.set("browse", EVERYTHING);
}

/** The query parameters of `GET /items` and `GET /items/timeline` for what is shown. */
export function browseParams(view = browsing()) {
  const params = new URLSearchParams();
  if (view.scope === "album" && view.albumId) params.set("album_id", view.albumId);
  if (view.scope === "favorites") params.set("favorite", "true");
  params.set("sort", view.sort);
  return params;
}
