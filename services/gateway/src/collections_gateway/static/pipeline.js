// The status view: the caller's items by status, what is in progress at which stage, what
// failed and why, with a retry. Backed by GET /items/summary; refreshed (at most twice a second)
// whenever live.js hands a status change to `items`, while the panel is open.
import * as api from "./api.js";
import { $, button, show, text } from "./dom.js";
import { failureText, plural } from "./format.js";
import { handle, reportError } from "./notices.js";
import { items } from "./state.js";

const STAGES = {
  upload: "waiting for the upload",
  ingest: "checking the file",
  analyze: "analyzing",
  embed: "indexing",
};
const REFRESH_MS = 500;

let pending = null;

function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function counts(summary) {
  const row = text("div", "", "counts");
  for (const [status, count] of Object.entries(summary.by_status)) {
    row.append(text("span", `${status} ${count}`, `badge ${status}`));
  }
  return row;
}

function progressRow(entry) {
  const row = text("li", "");
  row.append(text("span", entry.filename || entry.id, "name"));
  const stage = STAGES[entry.stage] || entry.stage;
  row.append(text("span", `${stage} · for ${since(entry.since)}`, "muted small"));
  return row;
}

function failedRow(entry) {
  const row = text("li", "");
  row.append(text("span", entry.filename || entry.id, "name"));
  if (entry.failure) row.append(text("span", failureText(entry.failure), "error small"));
  const retry = button(
    "Retry",
    handle(async () => {
      retry.disabled = true;
      try {
        await api.call(`/items/${entry.id}/reprocess`, { method: "POST" });
      } finally {
        retry.disabled = false;
      }
      await refresh();
    }),
  );
  row.append(retry);
  return row;
}

function section(title, entries, render, empty) {
  const box = text("section", "");
  box.append(text("h3", `${title} (${entries.length})`));
  if (!entries.length) box.append(text("p", empty, "muted small"));
  const list = text("ul", "", "pipeline-list");
  for (const entry of entries) list.append(render(entry));
  box.append(list);
  return box;
}

async function refresh() {
  const summary = await api.json("/items/summary");
  $("#pipeline-body").replaceChildren(
    text("p", plural(summary.total, "item"), "muted"),
    counts(summary),
    section("In progress", summary.in_progress, progressRow, "nothing is being processed"),
    section("Failed", summary.failed, failedRow, "nothing failed"),
  );
}

function isOpen() {
  return !$("#pipeline").classList.contains("hidden");
}

function toggle(open) {
  show($("#pipeline"), open);
  $("#pipeline-toggle").setAttribute("aria-expanded", String(open));
  if (open) refresh().catch(reportError);
  else $("#pipeline-toggle").focus();
}

function soon() {
  if (!isOpen() || pending) return;
  pending = setTimeout(() => {
    pending = null;
    refresh().catch(reportError);
  }, REFRESH_MS);
}

export function closePipeline() {
  show($("#pipeline"), false);
  $("#pipeline-toggle").setAttribute("aria-expanded", "false");
}

export function setupPipeline() {
  $("#pipeline-toggle").addEventListener("click", () => toggle(!isOpen()));
  $("#pipeline-close").addEventListener("click", () => toggle(false));
  $("#pipeline").addEventListener("keydown", (event) => {
    if (event.key === "Escape") toggle(false);
  });
  items.addEventListener("change", soon);
}
