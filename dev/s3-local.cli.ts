/**
 * `npm run s3:local`: the embedded S3 server alone (docs/architecture.md), for running
 * `npm run start:api` and `npm run start:worker` as separate processes
 * without MinIO. Listens on 127.0.0.1:S3_LOCAL_PORT (default 4569; 0 = any
 * free port), stores under S3_LOCAL_DIR (default .data/s3), creates
 * S3_BUCKET, and prints the S3_* settings the other processes need.
 * Stops cleanly on SIGINT / SIGTERM (exit 0).
 */
import { isDevelopmentEnv, loadConfigOrExit } from '../src/config';
import { startEmbeddedS3 } from './s3-local';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { allowDevJwtSecret: true }); // a local tool: signs for, or never checks, tokens
  if (!isDevelopmentEnv(config.nodeEnv)) {
    process.stderr.write(`The embedded S3 server is for local runs only (NODE_ENV development or test; NODE_ENV is "${config.nodeEnv}").\n`);
    process.exit(1);
  }
  const s3 = await startEmbeddedS3({
    directory: config.s3LocalDir,
    port: config.s3LocalPort,
    host: '127.0.0.1',
    bucket: config.s3Bucket,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    silent: config.logLevel !== 'debug' && config.logLevel !== 'trace',
  });

  const settings = [
    `S3_ENDPOINT=${s3.endpoint}`,
    `S3_BUCKET=${s3.bucket}`,
    `S3_REGION=${config.s3Region}`,
    `S3_ACCESS_KEY_ID=${s3.accessKeyId}`,
    `S3_SECRET_ACCESS_KEY=${s3.secretAccessKey}`,
    'S3_FORCE_PATH_STYLE=true',
  ];
  process.stdout.write(
    [
      `Embedded S3 (s3rver) listening on ${s3.endpoint}, storing under ${s3.directory}, bucket "${s3.bucket}".`,
      'Start the API and the worker with these settings (e.g. `export` them in their shells):',
      '',
      ...settings,
      '',
      'Ctrl+C stops the server; the files stay.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`Second ${signal}: exiting now.\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal} received, stopping the embedded S3 server…\n`);
    s3.close(2000).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`Error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  const hint = e?.code === 'EADDRINUSE' ? ' (is another s3:local running? set S3_LOCAL_PORT to another port, or 0 for any)' : '';
  process.stderr.write(`Could not start the embedded S3 server: ${e?.message ?? String(err)}${hint}\n`);
  process.exit(1);
});
