// The caller's preferences: one switch today, whether GPS positions in uploads are kept.
import * as api from "./api.js";
import { $ } from "./dom.js";
import { handle } from "./notices.js";

function describe(preferences) {
  const located = preferences.items_with_location;
  return preferences.keep_gps
    ? `kept for you only, never in thumbnails or previews · ${located} with a location`
    : "not kept: turning this off forgets every stored position";
}

export async function loadPreferences() {
  try {
    const preferences = await api.json("/me/preferences");
    $("#keep-gps").checked = preferences.keep_gps;
    $("#keep-gps-note").textContent = describe(preferences);
  } catch (error) {
    $("#keep-gps-note").textContent = error instanceof Error ? error.message : String(error);
  }
}

export function setupPreferences() {
  const box = $("#keep-gps");
  const note = $("#keep-gps-note");
  box.addEventListener(
    "change",
    handle(async () => {
      box.disabled = true;
      try {
        const preferences = await api.send("PATCH", "/me/preferences", { keep_gps: box.checked });
        box.checked = preferences.keep_gps;
        note.textContent = describe(preferences);
      } catch (error) {
        box.checked = !box.checked;
        note.textContent = error instanceof Error ? error.message : String(error);
      } finally {
        box.disabled = false;
      }
    }),
  );
}
