/**
 * s3rver 3.7.1 ships no TypeScript types. Only what dev/s3-local.ts uses is
 * declared here: the server class, and three internal modules that the
 * embedded server reuses for its multipart shim (authentication, S3 errors,
 * the in-process account registry).
 */
declare module 's3rver' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  namespace S3rver {
    interface BucketConfig {
      name: string;
      /** CORS / website configuration XML documents. */
      configs?: Array<string | Buffer>;
    }
    interface Options {
      address?: string;
      port?: number;
      silent?: boolean;
      serviceEndpoint?: string;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
      configureBuckets?: BucketConfig[];
      key?: string | Buffer;
      cert?: string | Buffer;
    }
    /** A Koa middleware function (s3rver is a Koa application). */
    type Middleware = (ctx: any, next: () => Promise<unknown>) => unknown;
  }

  class S3rver {
    constructor(options?: S3rver.Options);
    static defaultOptions: S3rver.Options;
    /** The Koa middleware stack, composed when the server starts listening. */
    middleware: S3rver.Middleware[];
    httpServer?: Server;
    silent: boolean;
    logger: {
      warn(...args: unknown[]): void;
      info(...args: unknown[]): void;
      error(...args: unknown[]): void;
      close(): void;
    };
    /** Creates (and configures) the `configureBuckets` buckets on disk. */
    configureBuckets(): Promise<unknown>;
    /** The Koa request handler, for http.createServer(). */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /**
     * Creates the configured buckets, then listens; resolves with the bound
     * address. Beware: a listen error (EADDRINUSE) is emitted without a
     * listener and crashes the process.
     */
    run(): Promise<{ address: string; family: string; port: number }>;
    close(): Promise<void>;
    reset(): void;
    on(event: 'error', listener: (err: Error, ctx?: unknown) => void): this;
  }

  export = S3rver;
}

declare module 's3rver/lib/middleware/authentication' {
  /** Builds s3rver's request-authentication Koa middleware (access key + expiry checks). */
  function authentication(): (ctx: any, next: () => Promise<unknown>) => Promise<unknown>;
  export = authentication;
}

declare module 's3rver/lib/models/error' {
  /** An S3 error; s3rver renders it as the usual XML error document with its HTTP status. */
  class S3Error extends Error {
    constructor(code: string, message?: string, detail?: Record<string, unknown>);
    code: string;
    status: number;
  }
  export = S3Error;
}

declare module 's3rver/lib/models/account' {
  class AWSAccount {
    constructor(accountId: number, displayName: string);
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
    static registry: Map<string, AWSAccount>;
    static DUMMY_ACCOUNT: AWSAccount;
  }
  export = AWSAccount;
}
