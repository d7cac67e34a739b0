// Favourites: a star on each tile and in the item panel (PUT / DELETE /items/{id}/favorite).
// A change goes through `items`, so a tile unstarred while the favourites are shown leaves them.
import * as api from "./api.js";
import { addDetailSection } from "./detail.js";
import { text } from "./dom.js";
import { caption } from "./format.js";
import { addTileDecorator } from "./grid.js";
import { handle } from "./notices.js";
import { items } from "./state.js";

/** Star or unstar; every star of the item on screen follows. */
export async function setFavorite(item, favorite) {
  await api.call(`/items/${item.id}/favorite`, { method: favorite ? "PUT" : "DELETE" });
  const entry = items.get(item.id);
  if (entry) items.accept({ ...entry.item, favorite });
  for (const star of document.querySelectorAll(`.star[data-id="${CSS.escape(item.id)}"]`)) {
    paint(/** @type {HTMLElement} */ (star), favorite);
  }
}

// A toggle button: pressed means a favourite. On a tile it names the image, in the panel it
// says so in words (the panel's title names the image).
function paint(star, favorite) {
  const mark = favorite ? "★" : "☆";
  star.textContent = star.classList.contains("in-panel") ? `${mark} Favourite` : mark;
  star.setAttribute("aria-pressed", String(favorite));
  if (star.classList.contains("on-tile")) star.setAttribute("aria-label", `Favourite: ${star.dataset.label}`);
  star.title = favorite ? "Remove from favourites" : "Add to favourites";
}

function star(item, className) {
  const element = /** @type {HTMLButtonElement} */ (text("button", "", `star ${className}`));
  element.type = "button";
  element.dataset.id = item.id;
  element.dataset.label = caption(item);
  paint(element, Boolean(item.favorite));
  element.addEventListener(
    "click",
    handle(async (event) => {
      event.stopPropagation();
      element.disabled = true;
      try {
        await setFavorite(item, element.getAttribute("aria-pressed") !== "true");
      } finally {
        element.disabled = false;
      }
    }),
  );
  return element;
}

function decorate(cell, entry) {
  const item = entry.item;
  // Search results carry no favourite state: no star rather than a wrong one.
  if (typeof item.favorite !== "boolean") return;
  const current = cell.querySelector(".star");
  if (current instanceof HTMLElement) {
    current.dataset.label = caption(item);
    paint(current, item.favorite);
  } else {
    cell.append(star(item, "on-tile"));
  }
}

export function setupFavorites() {
  addTileDecorator(decorate);
  addDetailSection((item) => {
    const row = text("div", "", "actions");
    row.append(star(item, "in-panel"));
    return row;
  });
}
