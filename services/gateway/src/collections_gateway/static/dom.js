// DOM helpers. Every value from the API goes through textContent, never through HTML parsing.
// The JSDoc types are read by the linter's type-aware rules (an async function passed where a
// listener is expected is reported); nothing is compiled.

/**
 * The first element matching a selector; a missing element is a bug in the page, not a state.
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {HTMLElement}
 */
export function $(selector, root = document) {
  const element = root.querySelector(selector);
  if (!(element instanceof HTMLElement)) throw new Error(`the page has no ${selector}`);
  return element;
}

/**
 * @param {Element} element
 * @param {boolean} visible
 */
export function show(element, visible) {
  element.classList.toggle("hidden", !visible);
}

/**
 * A new element with text content and, optionally, a class.
 * @param {string} tag
 * @param {unknown} value
 * @param {string} [className]
 * @returns {HTMLElement}
 */
export function text(tag, value, className) {
  const element = document.createElement(tag);
  element.textContent = value == null ? "" : String(value);
  if (className) element.className = className;
  return element;
}

/**
 * A `<button type="button">`; `onClick` must not return a promise (wrap it in `handle`).
 * @param {string} label
 * @param {(event: MouseEvent) => void} onClick
 * @param {string} [className]
 * @returns {HTMLButtonElement}
 */
export function button(label, onClick, className) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  if (className) element.className = className;
  element.addEventListener("click", onClick);
  return element;
}

/**
 * A link to an outside http(s) page, opened in a new tab without a referrer; `null` for any
 * other scheme (a `javascript:` URL from a model or a web page never becomes a link).
 * @param {string} label
 * @param {string} href
 * @param {string} [className]
 * @returns {HTMLAnchorElement | null}
 */
export function link(label, href, className) {
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  const element = document.createElement("a");
  element.href = url.href;
  element.textContent = label;
  element.target = "_blank";
  element.rel = "noopener noreferrer";
  element.referrerPolicy = "no-referrer";
  if (className) element.className = className;
  return element;
}
