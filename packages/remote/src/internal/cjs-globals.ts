import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

// ssh2's bundled poly1305 (emscripten output) reads `__dirname` when it loads. In an ESM bundle
// (our actions are ESM because @actions/core 3 is) that name does not exist, so the first
// connection would crash. It is defined here, before ssh2 is evaluated; the value is only used
// to locate a wasm file that is embedded anyway.
const scope = globalThis as { __dirname?: string };
scope.__dirname ??= dirname(fileURLToPath(import.meta.url));
