import path from 'node:path';

/**
 * The seam between the all-in-one local mode (`npm start`, the demo) and the
 * embedded S3 server, a development tool that lives in dev/s3-local.ts and
 * is not in the production build or image. It is loaded by path at run time,
 * so that neither tsc nor the image follows it; dev/s3-local.ts states that
 * it fulfils this contract.
 */

export interface EmbeddedS3Handle {
  /** `http://127.0.0.1:<port>`: the S3_ENDPOINT of the processes it serves. */
  endpoint: string;
  port: number;
  /** Absolute storage directory. */
  directory: string;
  close(graceMs?: number): Promise<void>;
}

export interface EmbeddedS3StartOptions {
  directory?: string;
  port?: number;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface EmbeddedS3Module {
  startEmbeddedS3(options: EmbeddedS3StartOptions): Promise<EmbeddedS3Handle>;
  /** Thrown by startEmbeddedS3 when s3rver is not installed (npm ci --omit=dev). */
  EmbeddedS3UnavailableError: new () => Error;
}

/** Where the development tool is, from src/ (run from sources) or dist/src/ (compiled, where it is absent). */
const EMBEDDED_S3_MODULE = path.join(__dirname, '..', 'dev', 's3-local');

/** The embedded S3 module, or null where the development tools are not (a build of src/ only). */
export function loadEmbeddedS3(): EmbeddedS3Module | null {
  try {
    return require(EMBEDDED_S3_MODULE) as EmbeddedS3Module;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(EMBEDDED_S3_MODULE)) return null;
    throw err;
  }
}
