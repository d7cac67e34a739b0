// The item panel's analysis history (GET /items/{id}/analyses), newest first and read-only: each
// version's provider, model, date and summary. It is read when the section is opened.
import * as api from "./api.js";
import { addDetailSection } from "./detail.js";
import { text } from "./dom.js";
import { reportError } from "./notices.js";

function version(entry) {
  const line = text("li", "", "version");
  const when = new Date(entry.created_at).toLocaleString();
  line.append(text("strong", `v${entry.version}`), ` · ${entry.provider} · ${entry.model} · ${when}`);
  if (entry.analysis?.summary) line.append(text("p", entry.analysis.summary, "small"));
  return line;
}

async function fill(list, itemId) {
  const { analyses } = await api.json(`/items/${itemId}/analyses`);
  list.replaceChildren(...analyses.map(version));
  if (!analyses.length) list.append(text("li", "No analysis yet.", "muted"));
}

function section(item) {
  const details = document.createElement("details");
  details.className = "versions";
  details.append(text("summary", "Analysis versions"));
  const list = document.createElement("ol");
  list.setAttribute("aria-label", "Analysis versions, newest first");
  details.append(list);
  details.addEventListener("toggle", () => {
    if (details.open) fill(list, item.id).catch(reportError);
  });
  return details;
}

export function setupVersions() {
  addDetailSection(section);
}
