// ESLint for the repository's JavaScript: `make lint` runs it (scripts/lint-js).
// The web UI is linted with type information (TypeScript reads the plain JS, nothing is
// compiled), which is what lets no-floating-promises and no-misused-promises see a promise that
// nobody handles, such as an async function passed as an event listener.
import path from "node:path";
import { fileURLToPath } from "node:url";

import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

// Not import.meta.dirname: Debian 12's Node 18 lacks it.
const ROOT = path.dirname(fileURLToPath(import.meta.url));
const UI = "services/gateway/src/collections_gateway/static/**/*.js";
const HTML_SINKS = ["innerHTML", "outerHTML", "insertAdjacentHTML"];

export default defineConfig([
  globalIgnores(["**/node_modules/", "**/.venv/", ".local/", "**/cdk.out/"]),
  {
    files: ["**/*.js"],
    extends: [js.configs.recommended],
    rules: {
      eqeqeq: ["error", "smart"],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    files: [UI],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: globals.browser,
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: false }],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
      // Values from the API are text: never parse them as HTML.
      "no-restricted-properties": [
        "error",
        ...HTML_SINKS.map((property) => ({ property, message: "Use textContent or DOM nodes." })),
        { object: "document", property: "write", message: "Use DOM nodes." },
        ...["alert", "confirm", "prompt"].map((property) => ({
          object: "window",
          property,
          message: "Use the in-page dialogs in dialogs.js.",
        })),
      ],
      "no-restricted-globals": [
        "error",
        ...["alert", "confirm", "prompt"].map((name) => ({
          name,
          message: "Use the in-page dialogs in dialogs.js.",
        })),
      ],
    },
  },
  {
    files: ["services/analyzer/tagger/**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
]);
