import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config';
import { Role } from '../entities/enums';
import { isUuid } from '../exports/selection';
import { signToken } from './jwt';

const USAGE = 'Usage: npm run token -- --tenant <tenant uuid> [--role ADMIN|ACCOUNTANT|VIEWER]… [--user <id>] [--hours 12]';

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
  const hours = Number(values.hours);
  if (!Number.isFinite(hours) || hours <= 0) fail('--hours must be a positive number');
  console.log(signToken(config.jwtSecret, { tenantId: values.tenant, userId: values.user!, roles: roles as Role[] }, Math.round(hours * 3600)));
}

function parse() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      tenant: { type: 'string' },
      role: { type: 'string', multiple: true },
      user: { type: 'string', default: 'dev-user' },
      hours: { type: 'string', default: '12' },
    },
  });
}

main();
