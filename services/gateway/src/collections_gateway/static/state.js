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

const created = (entry) => Date.parse(entry.item.created_at) || 0;

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

  #matches(item) {
    return this.view.kind === "library" && (!this.view.status || item.status === this.view.status);
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
    } else if (this.#matches(item)) {
      this.#insert({ item, score: null });
    }
  }

  #insert(entry) {
    const entries = this.entries();
    const index = entries.findIndex((other) => created(other) < created(entry));
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
