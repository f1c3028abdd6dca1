// The engine's speech planner (crates/engine/src/speech.rs), compiled to
// WebAssembly (crates/wasm, built into rollcoach.wasm by web/build-wasm.sh).
// Its bindings are a small C ABI passing JSON: the page writes a JSON text
// into the module's input buffer and calls a function with its length;
// results come back as JSON in the module's result buffer.

let loading = null;

// The module's exports, loaded once (the session runner, runner.js, shares them).
export function load() {
  if (!loading) {
    loading = (async () => {
      const resp = fetch('rollcoach.wasm');
      let instance;
      try {
        ({ instance } = await WebAssembly.instantiateStreaming(resp, {}));
      } catch {
        // A server or browser without streaming compilation.
        const bytes = await (await fetch('rollcoach.wasm')).arrayBuffer();
        ({ instance } = await WebAssembly.instantiate(bytes, {}));
      }
      return instance.exports;
    })();
    loading.catch(() => { loading = null; });
  }
  return loading;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Planner {
  // A planner for `protocol` (the protocol object as the server serves it),
  // for a voice at `rate` times espeak-ng's default rate (session time: a
  // session clock running `speed` times real time divides the rate by it).
  static async create(protocol, rate) {
    const wasm = await load();
    return new Planner(wasm, protocol, rate);
  }

  constructor(wasm, protocol, rate) {
    this.wasm = wasm;
    const len = this.write(JSON.stringify(protocol));
    this.handle = wasm.planner_new(len, rate);
    if (this.handle === 0) throw new Error(`speech planner: ${this.result()}`);
  }

  // Writes `text` into the module's input buffer; returns its length in bytes.
  write(text) {
    const bytes = encoder.encode(text);
    const ptr = this.wasm.input(bytes.length);
    // A fresh view: the memory may have grown since the last call.
    new Uint8Array(this.wasm.memory.buffer, ptr, bytes.length).set(bytes);
    return bytes.length;
  }

  result(ptr = this.wasm.result_ptr()) {
    const len = this.wasm.result_len();
    return decoder.decode(new Uint8Array(this.wasm.memory.buffer, ptr, len));
  }

  // Feeds an engine output (its JSON text, as the server's frame carries it)
  // at session time `at`.
  output(at, json) {
    if (!this.handle) return;
    const len = this.write(json);
    if (this.wasm.planner_output(this.handle, at, len) !== 0) {
      throw new Error(`speech planner: ${this.result()}`);
    }
  }

  // Utterance `id` ended (said whole, or cut) at session time `at`.
  finished(id, at) {
    if (this.handle) this.wasm.planner_finished(this.handle, id, at);
  }

  // What to do at session time `now`: [{ type: 'say', id, text, kind,
  // expected_ms } | { type: 'cut', id } | { type: 'skip', text, kind }].
  poll(now) {
    if (!this.handle) return [];
    return JSON.parse(this.result(this.wasm.planner_poll(this.handle, now)));
  }

  // When to poll again though nothing happens (session time), or null.
  nextWake() {
    if (!this.handle) return null;
    const t = this.wasm.planner_next_wake(this.handle);
    return t < 0 ? null : t;
  }

  free() {
    if (this.handle) this.wasm.planner_free(this.handle);
    this.handle = 0;
  }
}
