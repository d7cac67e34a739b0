// Shared state with change events: who is signed in, which item to show, and the items on screen.
// Modules talk through here instead of importing each other, which keeps the import graph one-way.

/** Named values and one-off signals; `on(name, handler)` hears both. */
export class Store extends EventTarget {
  #values;

  constructor(values) {
    super();
    this.#values = { ...values };
  }

  get(name) {
    return this.#values[name];
  }

  set(name, value) {
    if (this.#values[name] === value) return;
    this.#values[name] = value;
    this.emit(name, value);
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  /** Returns a function that stops listening. */
  on(name, handler) {
    const listener = (event) => handler(event.detail);
    this.addEventListener(name, listener);
    return () => this.removeEventListener(name, listener);
  }
}

// user: the signed-in email or null. Signals: "open-item" (an item id to show in detail).
export const store = new Store({ user: null });

// Where an item sorts: by upload, or on the timeline by the date taken (else the upload).
function sortKey(entry, sort) {
  const item = entry.item;
  return Date.parse(sort === "taken" ? item.taken_at || item.created_at : item.created_at) || 0;
}

/**
 * The items the grid shows: the library (newest first, optionally one status) or search
 * results (by score). Emits "change" with {type: "reset" | "added" | "changed" | "removed", id,
 * before} after every change, so anything that counts or draws them stays in step.
 */
export class ItemList extends EventTarget {
  #entries = new Map();
  #order = [];
  view = { kind: "library", status: "" };
  more = false;

  get size() {
    return this.#order.length;
  }

  get(id) {
    return this.#entries.get(id);
  }

  entries() {
    return this.#order.map((id) => this.#entries.get(id));
  }

  #changed(type, id = null, before = null) {
    this.dispatchEvent(new CustomEvent("change", { detail: { type, id, before } }));
  }

  /** Start a new view; returns it so a late response for an older view can be recognised. */
  reset(view) {
    this.view = view;
    this.more = false;
    this.#entries.clear();
    this.#order = [];
    this.#changed("reset");
    return view;
  }

  /** Add a page (or the results) at the end, in the order given. */
  append(entries, more) {
    for (const entry of entries) {
      if (this.#entries.has(entry.item.id)) continue;
      this.#entries.set(entry.item.id, entry);
      this.#order.push(entry.item.id);
      this.#changed("added", entry.item.id);
    }
    this.more = more;
    this.#changed("more");
  }

  // Favourites and albums (browse.js) also decide: an item unstarred or taken out leaves them.
  #matches(item) {
    const view = this.view;
    if (view.kind !== "library" || (view.status && item.status !== view.status)) return false;
    if (view.scope === "favorites" && item.favorite === false) return false;
    const albums = item.album_ids;
    return !(view.scope === "album" && Array.isArray(albums) && !albums.includes(view.albumId));
  }

  /** An item that was uploaded or changed: shown, updated or dropped as the view says. */
  accept(item) {
    const entry = this.#entries.get(item.id);
    if (entry && this.view.kind === "search") {
      this.#entries.set(item.id, { ...entry, item: { ...entry.item, ...item } });
      this.#changed("changed", item.id);
    } else if (entry && this.#matches(item)) {
      this.#entries.set(item.id, { ...entry, item: { ...entry.item, ...item } });
      this.#changed("changed", item.id);
    } else if (entry) {
      this.remove(item.id);
    } else if (this.#matches(item) && this.#newcomer(item)) {
      this.#insert({ item, score: null });
    }
  }

  // A new item belongs to a view of everything, or of an album or the favourites it is in; a
  // view that jumped to a month starts before any new upload.
  #newcomer(item) {
    const view = this.view;
    if (view.before) return false;
    if (view.scope === "favorites") return item.favorite === true;
    if (view.scope === "album") return Array.isArray(item.album_ids) && item.album_ids.includes(view.albumId);
    return true;
  }

  #insert(entry) {
    const entries = this.entries();
    const sort = this.view.sort;
    const index = entries.findIndex((other) => sortKey(other, sort) < sortKey(entry, sort));
    // Past the last loaded page the item belongs to a page not fetched yet.
    if (index < 0 && this.more) return;
    const at = index < 0 ? this.#order.length : index;
    this.#entries.set(entry.item.id, entry);
    this.#order.splice(at, 0, entry.item.id);
    this.#changed("added", entry.item.id, this.#order[at + 1] ?? null);
  }

  remove(id) {
    if (!this.#entries.delete(id)) return;
    this.#order = this.#order.filter((other) => other !== id);
    this.#changed("removed", id);
  }
}

export const items = new ItemList();
