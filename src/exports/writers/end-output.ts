import type { Writable } from 'node:stream';

/**
 * Ends a writer's output and resolves once everything written into it has
 * been flushed (its 'finish'); rejects with the output's error, or with the
 * writer's own `failure()` when one was recorded meanwhile (a failed
 * compressor, a destroyed upload). The one way every writer ends its file.
 */
export function endOutput(output: Writable, failure: () => Error | null): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    output.once('error', onError);
    output.end((err?: Error | null) => {
      output.off('error', onError);
      const failed = err ?? failure();
      if (failed) reject(failed);
      else resolve();
    });
  });
}
