// LLAMA_ENGINE_PENDING: the Llama-family loader (src/io/hfModel) lands before the Llama engine
// (src/model/llama). Until then every place that needs an engine for a loaded llama refuses it with this
// one line; the engine work replaces each `refuseLlamaEngine` call (grep LLAMA_ENGINE_PENDING).
export const LLAMA_ENGINE_PENDING = 'Llama engine: not available yet';

/** Throws the one-line refusal; `what` names the operation (e.g. "training", "eval --text"). */
export function refuseLlamaEngine(what: string): never {
  throw new Error(`${LLAMA_ENGINE_PENDING} (${what} of a Llama / Mistral / Qwen2 / Qwen3 model)`);
}
