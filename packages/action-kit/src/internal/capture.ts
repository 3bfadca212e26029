type WriteCallback = (error?: Error | null) => void;

/**
 * Runs `fn` while everything written to process.stdout and process.stderr is collected instead
 * of printed, in order, as the runner would merge them into the step log. @actions/core writes
 * its workflow commands (`::add-mask::`, `::group::`, `::error::`) straight to process.stdout.
 * Not for concurrent use: the streams are process-wide.
 */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ value: T; text: string }> {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write);
  const collect = (
    chunk: string | Uint8Array,
    encodingOrCallback?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean => {
    const encoding = typeof encodingOrCallback === "string" ? encodingOrCallback : "utf8";
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(encoding));
    const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
    if (done !== undefined) process.nextTick(done, null);
    return true;
  };
  for (const stream of streams) stream.write = collect as typeof stream.write;
  try {
    const value = await fn();
    return { value, text: chunks.join("") };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index]!;
    });
  }
}
