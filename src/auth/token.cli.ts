import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../config';
import { Role } from '../entities/enums';
import { isUuid } from '../exports/selection';
import { signToken } from './jwt';

/** `npm run token -- --tenant <id> [--role ACCOUNTANT] [--user u1] [--hours 12]`: a development JWT. */
function main() {
  const config = loadConfigOrExit();
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      role: { type: 'string', multiple: true },
      user: { type: 'string', default: 'dev-user' },
      hours: { type: 'string', default: '12' },
    },
  });
  if (!values.tenant || !isUuid(values.tenant)) {
    console.error('Usage: npm run token -- --tenant <tenant uuid> [--role ADMIN|ACCOUNTANT|VIEWER] [--user <id>] [--hours 12]');
    process.exit(2);
  }
  const roles = (values.role?.length ? values.role : [Role.ACCOUNTANT]).map((r) => r.toUpperCase());
  const bad = roles.filter((r) => !(Object.values(Role) as string[]).includes(r));
  if (bad.length) {
    console.error(`Unknown role ${bad.join(', ')}: use ADMIN, ACCOUNTANT or VIEWER`);
    process.exit(2);
  }
  const hours = Number(values.hours);
  if (!Number.isFinite(hours) || hours <= 0) {
    console.error('--hours must be a positive number');
    process.exit(2);
  }
  console.log(signToken(config.jwtSecret, { tenantId: values.tenant, userId: values.user!, roles: roles as Role[] }, Math.round(hours * 3600)));
}

main();
