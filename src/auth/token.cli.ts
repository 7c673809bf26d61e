import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config';
import { Role } from '../entities/enums';
import { isUuid } from '../exports/selection';
import { signToken } from './jwt';

const USAGE = 'Usage: npm run token -- --tenant <tenant uuid> [--role ADMIN|ACCOUNTANT|VIEWER]… [--user <id>] [--ttl 12h | --hours 12]';

function fail(message: string | null): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

/** `npm run token -- --tenant <id> [--role ACCOUNTANT] [--user u1] [--hours 12]`: a development JWT. */
function main() {
  const config = loadConfigOrExit(process.env, { allowDevJwtSecret: true }); // a local tool: signs for, or never checks, tokens
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (err) {
    fail((err as Error).message);
  }
  const values = parsed.values;
  if (values.help) fail(null);
  if (!values.tenant || !isUuid(values.tenant)) fail('--tenant must be the uuid of a tenant (npm run seed prints it)');
  const roles = (values.role?.length ? values.role : [Role.ACCOUNTANT]).map((r) => r.toUpperCase());
  const bad = roles.filter((r) => !(Object.values(Role) as string[]).includes(r));
  if (bad.length) fail(`Unknown role ${bad.join(', ')}: use ADMIN, ACCOUNTANT or VIEWER`);
  // Every token expires (the API refuses one without exp): 12 hours unless told.
  let seconds: number;
  if (values.ttl !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(values.ttl.trim());
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m?.[2] ?? 's').toLowerCase() as 's' | 'm' | 'h' | 'd'];
    seconds = m ? Math.round(Number(m[1]) * unit) : NaN;
    if (!Number.isFinite(seconds) || seconds <= 0) fail('--ttl must be a duration such as 3600, 30m, 12h or 7d');
  } else {
    const hours = Number(values.hours);
    if (!Number.isFinite(hours) || hours <= 0) fail('--hours must be a positive number');
    seconds = Math.round(hours * 3600);
  }
  if (!config.jwtSecret) {
    fail('JWT_SECRET is not set: this tool signs development HS256 tokens; with JWT_JWKS_URL alone, tokens come from the identity provider');
  }
  console.log(signToken(config.jwtSecret, { tenantId: values.tenant, userId: values.user!, roles: roles as Role[] }, seconds));
}

function parse() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      tenant: { type: 'string' },
      role: { type: 'string', multiple: true },
      user: { type: 'string', default: 'dev-user' },
      hours: { type: 'string', default: '12' },
      ttl: { type: 'string' },
    },
  });
}

main();
