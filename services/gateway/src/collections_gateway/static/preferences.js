// The caller's preferences: one switch today, whether GPS positions in uploads are kept.
import * as api from "/static/api.js";

function describe(preferences) {
  const located = preferences.items_with_location;
  return preferences.keep_gps
    ? `kept for you only, never in thumbnails or previews · ${located} with a location`
    : "not kept: turning this off forgets every stored position";
}

export async function loadPreferences() {
  const box = document.querySelector("#keep-gps");
  const note = document.querySelector("#keep-gps-note");
  try {
    const preferences = await api.json("/me/preferences");
    box.checked = preferences.keep_gps;
    note.textContent = describe(preferences);
  } catch (error) {
    note.textContent = error.message;
  }
}

export function setupPreferences() {
  const box = document.querySelector("#keep-gps");
  const note = document.querySelector("#keep-gps-note");
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      const preferences = await api.json("/me/preferences", {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ keep_gps: box.checked }),
      });
      box.checked = preferences.keep_gps;
      note.textContent = describe(preferences);
    } catch (error) {
      box.checked = !box.checked;
      note.textContent = error.message;
    } finally {
      box.disabled = false;
    }
  });
}
