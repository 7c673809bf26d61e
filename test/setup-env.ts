import { randomUUID } from 'node:crypto';
import { TEST_REDIS_URL, testDatabaseUrl } from './test-env';

// Every test file gets the test database and a queue prefix of its own, so
// that files running in parallel never share jobs or events.
process.env.NODE_ENV = 'test';
process.env.DATABASE_URL = testDatabaseUrl();
process.env.REDIS_URL = TEST_REDIS_URL;
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
// A real secret, as a deployment has: separate API/worker processes refuse the development default.
process.env.JWT_SECRET = `test-${randomUUID()}-${randomUUID()}`;
process.env.QUEUE_PREFIX = `test-${randomUUID().slice(0, 8)}`;
// The embedded mail sink of the single-process mode writes here, not into the work tree.
process.env.MAIL_LOCAL_DIR = `${require('node:os').tmpdir()}/invoice-export-test-mail-${process.pid}`;
