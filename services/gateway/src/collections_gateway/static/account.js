// Deleting the account's contents (DELETE /me): every image, analysis, album, link and chat. The
// user types their email to confirm, then is signed out.
import * as api from "./api.js";
import { promptDialog } from "./dialogs.js";
import { $ } from "./dom.js";
import { handle, notify } from "./notices.js";
import { store } from "./state.js";

async function deleteAccount() {
  const email = String(store.get("user") ?? "");
  const typed = await promptDialog({
    title: "Delete everything in your account?",
    message: `Every image, analysis, album, shared link and chat is removed for good. Type ${email} to confirm.`,
    label: "Your email",
    confirm: "Delete everything",
    maxLength: 254,
  });
  if (typed == null) return;
  if (typed.toLowerCase() !== email.toLowerCase()) {
    notify("The email did not match: nothing was deleted.", { kind: "error" });
    return;
  }
  const deleted = await api.json("/me", { method: "DELETE" });
  try {
    await api.logout();
  } catch {
    // Signed out here either way.
  }
  store.set("user", null);
  notify(`Deleted ${deleted.items} images, ${deleted.albums ?? 0} albums and ${deleted.chat_sessions} chats.`);
}

export function setupAccount() {
  $("#delete-account").addEventListener("click", handle(deleteAccount));
}
