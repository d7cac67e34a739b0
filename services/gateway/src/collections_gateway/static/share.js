// The share dialog of an album: make a read-only link with an expiry (POST /albums/{id}/share),
// show it once to copy, or revoke the live one (DELETE). Only a hash of a link is kept, so a
// link cannot be shown again: sharing again makes a new one and retires the old.
import * as api from "./api.js";
import { formDialog } from "./dialogs.js";
import { button, text } from "./dom.js";
import { handle, notify } from "./notices.js";

const DAY = 24 * 3600;
const EXPIRIES = [
  ["1 hour", 3600],
  ["1 day", DAY],
  ["7 days", 7 * DAY],
  ["30 days", 30 * DAY],
  ["1 year", 365 * DAY],
];

function labelled(label, control) {
  const wrapper = text("label", label, "field");
  wrapper.append(control);
  return wrapper;
}

function revokeButton(album) {
  const revoke = button(
    "Revoke the current link",
    handle(async () => {
      revoke.disabled = true;
      await api.call(`/albums/${album.id}/share`, { method: "DELETE" });
      notify(`The link to “${album.name}” no longer works.`);
      revoke.closest("dialog")?.close("cancel");
    }),
    "danger",
  );
  return revoke;
}

function linkBody(link) {
  const field = document.createElement("input");
  field.readOnly = true;
  field.value = link.url;
  field.id = "share-link";
  const copy = button(
    "Copy",
    handle(async () => {
      field.select();
      await navigator.clipboard.writeText(link.url);
      copy.textContent = "Copied";
    }),
    "secondary",
  );
  const body = text("div", "", "field");
  const expiry = text("p", `Works until ${new Date(link.expires_at).toLocaleString()}.`, "muted small");
  expiry.id = "share-expiry";
  body.append(labelled("Link", field), copy, expiry);
  return { body, field };
}

/** Ask how long the link should work, make it, and show it. Resolves when the dialogs close. */
export async function shareAlbum(album) {
  const expiry = document.createElement("select");
  for (const [label, seconds] of EXPIRIES) expiry.append(new Option(label, String(seconds)));
  expiry.value = String(7 * DAY);
  const analyses = document.createElement("input");
  analyses.type = "checkbox";
  const body = text("div", "", "field");
  const optIn = text("label", "", "check");
  optIn.append(analyses, " Also show each photo's summary and tags");
  body.append(labelled("Link works for", expiry), optIn);
  if (album.share) {
    const until = new Date(album.share.expires_at).toLocaleString();
    body.append(text("p", `A link works until ${until}; a new one replaces it.`, "muted small"));
    body.append(revokeButton(album));
  }
  const message = "Anyone with the link sees the album's thumbnails and previews, never the originals, camera data or locations.";
  const made = await formDialog({ title: `Share “${album.name}”`, message, body, focus: expiry, confirm: "Create link" });
  if (!made) return;
  const link = await api.post(`/albums/${album.id}/share`, {
    expires_in: Number(expiry.value),
    include_analysis: analyses.checked,
  });
  const shown = linkBody(link);
  await formDialog({ title: "Link ready", body: shown.body, focus: shown.field, confirm: "Done", cancel: "" });
}
