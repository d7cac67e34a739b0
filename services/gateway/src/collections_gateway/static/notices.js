// In-page messages: errors stay until dismissed, information fades. `handle` wraps an event
// handler so that whatever it throws or rejects with is shown here instead of being lost.
import { $, button, text } from "./dom.js";

const INFO_MS = 5000;

export function notify(message, { kind = "info" } = {}) {
  const notice = text("div", "", `notice ${kind}`);
  notice.setAttribute("role", kind === "error" ? "alert" : "status");
  notice.append(text("span", message));
  notice.append(button("dismiss", () => notice.remove(), "link"));
  $("#notices").append(notice);
  if (kind !== "error") setTimeout(() => notice.remove(), INFO_MS);
  return notice;
}

function isAbort(error) {
  return error instanceof DOMException && error.name === "AbortError";
}

/** Show what went wrong; aborts are the user's choice and a session end has its own screen. */
export function reportError(error) {
  if (isAbort(error) || error?.code === "session_ended") return;
  const message = error instanceof Error ? error.message : String(error);
  notify(message || "Something went wrong.", { kind: "error" });
}

/**
 * An event listener that runs `work(event)` and reports its failure in the page. `work` starts
 * synchronously, so it can still call `event.preventDefault()`.
 * @param {(event: any) => unknown} work
 * @returns {(event: Event) => void}
 */
export function handle(work) {
  return (event) => {
    try {
      Promise.resolve(work(event)).catch(reportError);
    } catch (error) {
      reportError(error);
    }
  };
}
