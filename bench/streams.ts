/**
 * Async iteration over byte streams (a child's stdout, our stdin) as chunks
 * of text or as lines. TypeScript's DOM typing of ReadableStream has no
 * async iterator, so this goes through a reader.
 */

/** Decoded text chunks until the stream ends (or errors, which counts as the end). */
export async function* textChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield decoder.decode(value, { stream: true });
    }
  } catch {
    // The other end went away: nothing more to read.
  } finally {
    reader.releaseLock();
  }
}

/** Non-empty trimmed lines until the stream ends. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of textChunks(stream)) {
    buffered += text;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
    }
  }
  if (buffered.trim()) yield buffered.trim();
}
