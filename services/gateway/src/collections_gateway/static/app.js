// The Collections web UI: wires the modules together (see README.md for the module map).
// Modules depend downwards only (api, state, dom at the bottom); they meet through state.js.
import { setupAnalysis } from "./analysis.js";
import { setupAccount } from "./account.js";
import { setupAlbums } from "./albums.js";
import { setupAuth } from "./auth.js";
import { resetBrowse } from "./browse.js";
import { closeChat, resetChat, setupChat } from "./chat.js";
import { closeDetail, setupDetail } from "./detail.js";
import { $, show } from "./dom.js";
import { setupFavorites } from "./favorites.js";
import { clearGrid, loadLibrary, setupGrid } from "./grid.js";
import { startLive, stopLive } from "./live.js";
import { reportError } from "./notices.js";
import { closePipeline, setupPipeline } from "./pipeline.js";
import { loadPreferences, setupPreferences } from "./preferences.js";
import { clearSearch, setupSearch } from "./search.js";
import { setupSelection } from "./selection.js";
import { setupSessions } from "./sessions.js";
import { store } from "./state.js";
import { setupTimeline } from "./timeline.js";
import { setupUploads } from "./upload.js";

function signedIn(user) {
  closeDetail();
  resetChat();
  $("#who").textContent = user;
  $("#logout").title = `Signed in as ${user}`;
  show($("#auth"), false);
  for (const id of ["#library", "#search-form", "#account"]) show($(id), true);
  loadLibrary().catch(reportError);
  loadPreferences().catch(reportError);
  startLive();
}

function signedOut() {
  stopLive();
  closeDetail();
  closeChat();
  closePipeline();
  resetChat();
  clearSearch();
  resetBrowse();
  clearGrid();
  $("#who").textContent = "";
  for (const id of ["#library", "#search-form", "#account"]) show($(id), false);
  show($("#auth"), true);
  $("#auth-email").focus();
}

// A last net: a rejection nobody handled is still shown in the page (and, not prevented, still
// reaches the console, where the browser test looks for it).
window.addEventListener("unhandledrejection", (event) => reportError(event.reason));

setupGrid();
setupDetail();
setupAnalysis();
setupUploads();
setupSearch();
setupChat();
setupSessions();
setupPreferences();
setupFavorites();
setupAlbums();
setupSelection();
setupTimeline();
setupAccount();
setupPipeline();
store.on("user", (user) => (user ? signedIn(user) : signedOut()));
setupAuth();
