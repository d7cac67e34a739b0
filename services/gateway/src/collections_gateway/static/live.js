// Live status: `GET /events` (server-sent events over fetch, which can send the token). Each
// change re-reads the item and hands it to `items`. Once subscribed, the first page is read
// again: changes before the subscription (or during a reconnect) were not sent.
import * as api from "./api.js";
import { $ } from "./dom.js";
import { resync } from "./grid.js";
import { items } from "./state.js";

// The server comments every 15 s; silence for longer means a dead connection.
const IDLE_MS = 40_000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

let feed = null;

function indicate(state, label) {
  const live = $("#live");
  live.dataset.state = state;
  live.textContent = label;
}

async function refreshItem(id) {
  try {
    items.accept(await api.json(`/items/${id}`));
  } catch (error) {
    // Deleted meanwhile: drop it. Anything else: the next change or resync corrects the tile.
    if (error instanceof api.ApiError && error.status === 404) items.remove(id);
  }
}

function parse(data) {
  try {
    const change = JSON.parse(data);
    return typeof change?.item_id === "string" ? change : null;
  } catch {
    return null;
  }
}

async function listen(signal) {
  const response = await api.call("/events", { signal, headers: { accept: "text/event-stream" } });
  for await (const message of api.events(response, { idleMs: IDLE_MS })) {
    if (message.event === "comment" && message.data === "connected") {
      indicate("connected", "live");
      await resync();
    } else if (message.event === "status") {
      const change = parse(message.data);
      if (change) await refreshItem(change.item_id);
    }
  }
}

async function follow(signal) {
  let wait = FIRST_RETRY_MS;
  while (!signal.aborted) {
    try {
      await listen(signal);
      wait = FIRST_RETRY_MS;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof api.ApiError && error.code === "session_ended") return;
    }
    indicate("reconnecting", "reconnecting…");
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, MAX_RETRY_MS);
  }
}

/** Follow the signed-in user's status changes until `stopLive`. */
export function startLive() {
  stopLive();
  feed = new AbortController();
  indicate("connecting", "connecting…");
  follow(feed.signal).catch(() => indicate("off", "offline"));
}

export function stopLive() {
  feed?.abort();
  feed = null;
  indicate("off", "offline");
}
