// Offline COCO-80 object tagger for the local analyzer.
//
// A long-running process: it loads CenterNet (bundled inside the @vladmandic/human npm package)
// on the tfjs WASM backend once, prints {"ready": true, ...}, then answers one JSON line per
// request line on stdin:
//   in:  {"id": "1", "base64": "<JPEG bytes>"}   or   {"id": "1", "path": "/abs/file.jpg"}
//   out: {"id": "1", "ms": 118.2, "objects": [{"label": "kite", "score": 0.58, "area": 0.02}]}
//        {"id": "1", "error": "..."}                               (one bad image, keep serving)
// Nothing is ever fetched from the network: every URL the library asks for must be a file:// URL
// inside this package's node_modules, anything else is refused.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { pathToFileURL, fileURLToPath } = require('url');
const jpeg = require('jpeg-js');

const MODULES = path.join(__dirname, 'node_modules');
const MODEL_DIR = path.join(MODULES, '@vladmandic', 'human', 'models');
const WASM_DIR = path.join(MODULES, '@tensorflow', 'tfjs-backend-wasm', 'dist');
const MIN_SCORE = Number(process.env.TAGGER_MIN_SCORE || 0.25);
const MAX_DETECTED = 20;

// Node's fetch() cannot read file:// URLs, and the library must never reach the network, so
// fetch is replaced by a reader of our own model and wasm files only.
globalThis.fetch = async (input) => {
  const url = typeof input === 'string' ? input : input.url;
  if (!url.startsWith('file://')) throw new Error(`network access refused: ${url}`);
  const file = path.resolve(fileURLToPath(url));
  if (!file.startsWith(MODEL_DIR + path.sep) && !file.startsWith(WASM_DIR + path.sep)) {
    throw new Error(`file outside the model directories refused: ${file}`);
  }
  const type = file.endsWith('.json') ? 'application/json'
    : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
  return new Response(fs.readFileSync(file), { status: 200, headers: { 'Content-Type': type } });
};

// The package's "exports" map does not resolve the node-wasm build by name; load it by path.
const { Human } = require(path.join(MODULES, '@vladmandic', 'human', 'dist', 'human.node-wasm.js'));

const config = {
  backend: 'wasm',
  wasmPath: `${pathToFileURL(WASM_DIR).href}/`,
  wasmPlatformFetch: false,
  modelBasePath: `${pathToFileURL(MODEL_DIR).href}/`,
  debug: false,
  async: false,
  cacheSensitivity: 0,
  filter: { enabled: false },
  face: { enabled: false },
  body: { enabled: false },
  hand: { enabled: false },
  gesture: { enabled: false },
  segmentation: { enabled: false },
  object: { enabled: true, modelPath: 'centernet.json', minConfidence: MIN_SCORE, maxDetected: MAX_DETECTED },
};

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function readImage(request) {
  if (typeof request.base64 === 'string') return Buffer.from(request.base64, 'base64');
  if (typeof request.path === 'string') return fs.readFileSync(request.path);
  throw new Error('a request needs "base64" or "path"');
}

async function tag(human, request) {
  // Bounded decode: the caller sends a downscaled preview, so anything big is a mistake.
  const raw = jpeg.decode(readImage(request), {
    useTArray: true, formatAsRGBA: false, maxResolutionInMP: 25, maxMemoryUsageInMB: 256,
  });
  const tensor = human.tf.tensor4d(raw.data, [1, raw.height, raw.width, 3], 'int32');
  const started = performance.now();
  try {
    const result = await human.detect(tensor);
    const objects = result.object.map((o) => ({
      label: o.label,
      score: Number(o.score.toFixed(3)),
      area: Number((o.boxRaw[2] * o.boxRaw[3]).toFixed(4)),
    }));
    return { id: request.id, ms: Number((performance.now() - started).toFixed(1)), objects };
  } finally {
    human.tf.dispose(tensor);
  }
}

async function main() {
  const human = new Human(config);
  const started = performance.now();
  await human.load();
  await human.warmup();
  send({
    ready: true,
    model: 'centernet',
    backend: human.tf.getBackend(),
    load_ms: Number((performance.now() - started).toFixed(1)),
  });
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let request = { id: null };
    try {
      request = JSON.parse(line);
      send(await tag(human, request));
    } catch (error) {
      send({ id: request.id ?? null, error: String(error && error.message ? error.message : error) });
    }
  }
}

main().catch((error) => {
  process.stderr.write(`tagger failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
