// Search: the query box and mode; results replace the library in `items` (with their scores),
// and an agentic answer or plan shows above the grid. Clearing goes back to the library.
import * as api from "./api.js";
import { $, show, text } from "./dom.js";
import { loadLibrary } from "./grid.js";
import { handle } from "./notices.js";
import { items } from "./state.js";

const LIMIT = 48;
const UNAVAILABLE = {
  no_llm: "No answer: no language model is configured.",
  llm_unavailable: "No answer: the language model did not answer.",
  no_results: "No answer: nothing to answer from.",
};
const PLANNERS = { llm: "Planned by Claude", rules: "Planned by rules" };
let searches = 0;

/** The browser's IANA time zone, so "yesterday" means the user's yesterday. */
function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function explain(found) {
  const answer = $("#answer");
  const parts = [];
  if (found.answer) parts.push(text("p", found.answer));
  else if (found.no_match) parts.push(text("p", "Nothing in your collection matches that.", "muted"));
  if (found.answer_unavailable) {
    const why = UNAVAILABLE[found.answer_unavailable] ?? `No answer: ${found.answer_unavailable}`;
    parts.push(text("p", why, "muted small"));
  }
  if (found.plan?.steps?.length) {
    const planner = PLANNERS[found.plan.source];
    const steps = found.plan.steps.join(" · ");
    parts.push(text("p", planner ? `${planner}: ${steps}` : steps, "muted small"));
  }
  answer.replaceChildren(...parts);
  show(answer, parts.length > 0);
}

async function search(query, mode) {
  const ticket = ++searches;
  const before = items.view;
  const body = { query, mode, limit: LIMIT, answer: mode === "agentic", tz: timeZone() };
  const found = await api.post("/search", body);
  // A newer search, or the library, was asked for while this one ran: it wins.
  if (ticket !== searches || items.view !== before) return;
  items.reset({ kind: "search", query, mode, tookMs: Number(found.took_ms) || 0 });
  const results = Array.isArray(found.results) ? found.results : [];
  items.append(
    results.map((result) => ({ item: { ...result.item, id: result.item_id }, score: result.score })),
    false,
  );
  explain(found);
}

export function clearSearch() {
  $("#search-query").value = "";
  show($("#answer"), false);
}

export function setupSearch() {
  $("#search-form").addEventListener(
    "submit",
    handle(async (event) => {
      event.preventDefault();
      const query = $("#search-query").value.trim();
      if (!query) {
        show($("#answer"), false);
        return loadLibrary();
      }
      return search(query, $("#search-mode").value);
    }),
  );
  $("#search-clear").addEventListener(
    "click",
    handle(() => {
      clearSearch();
      return loadLibrary();
    }),
  );
}
