/**
 * Attack suite, part 2: GraphQL over HTTP (issue 9, findings 2, 6 and 7).
 * The query flood that took the API from 589 MB to 1.4 GB and held other
 * tenants for seconds; control characters that reached PostgreSQL; the log
 * line of an unexpected database error; schema discovery in production.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { QueryFailedError } from 'typeorm';
import { createFormatError } from '../../src/api/format-error';
import { Role } from '../../src/entities/enums';
import { createLogger } from '../../src/logger';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp } from '../helpers/app';
import { wsClient } from '../helpers/ws';

let app: TestApp;
let tenantA: string;
let tenantB: string;
let invoiceIds: string[];

beforeAll(async () => {
  app = await startTestApp({ role: 'api' });
  const ds = app.running.services.dataSource;
  tenantA = await createTenant(ds, 'Attaquant');
  tenantB = await createTenant(ds, 'Voisin honnête');
  invoiceIds = [];
  for (const t of [tenantA, tenantB]) {
    const payerId = await createPayer(ds, t, { lastName: 'BUSSON', firstName: 'Marie' });
    for (let i = 1; i <= 3; i++) {
      invoiceIds.push(await createInvoice(ds, t, { number: `F00000${i}`, billingDate: `2019-01-1${i}`, payerId, lines: [{ unitPrice: '10.00' }, { unitPrice: '5.00' }] }));
    }
  }
});

afterAll(async () => {
  await app?.stop();
});

async function post(body: unknown, token: string): Promise<{ status: number; ms: number; json: any }> {
  const started = performance.now();
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  return { status: res.status, ms: performance.now() - started, json };
}

const flood = (n: number, first = 500) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: invoices(first: ${first}) { edges { node { lines { label } } } }`).join(' ')} }`;

describe('cost limits (finding 2)', () => {
  it('the 1,000-alias flood (60 KB) is refused in milliseconds while another tenant still gets its answer', async () => {
    const query = flood(1000);
    expect(query.length).toBeGreaterThan(60_000);
    const attacker = app.token(tenantA);
    const neighbour = app.token(tenantB);
    // Ten floods at once, and the neighbour's one-row query in the middle of them.
    const floods = Array.from({ length: 10 }, () => post({ query }, attacker));
    const honest = post({ query: '{ invoices(first: 1) { totalCount edges { node { number } } } }' }, neighbour);
    const results = await Promise.all(floods);
    const answer = await honest;
    for (const r of results) {
      expect(r.status).toBe(400);
      expect(r.json.data).toBeUndefined();
      expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(r.json.errors[0].message).toMatch(/GRAPHQL_MAX_(TOKENS|ALIASES|COST)/);
    }
    const slowest = Math.max(...results.map((r) => r.ms));
    console.log(`alias flood: 10 × ${query.length} bytes refused, slowest ${slowest.toFixed(1)} ms; neighbour answered in ${answer.ms.toFixed(1)} ms`);
    // Client and server share this process and a loaded 2-core machine: generous bounds here (issue 9
    // measured 12 s per flood and 8-18 s for the neighbour), the single flood below is the figure.
    expect(slowest).toBeLessThan(5000);
    expect(answer.json.errors).toBeUndefined();
    expect(answer.json.data.invoices.totalCount).toBe(3);
    expect(answer.json.data.invoices.edges).toHaveLength(1);
    expect(answer.ms).toBeLessThan(5000);
    // One flood alone, for the figure (best of three).
    const alone = [];
    for (let i = 0; i < 3; i++) alone.push(await post({ query }, attacker));
    for (const a of alone) expect(a.status).toBe(400);
    const best = Math.min(...alone.map((a) => a.ms));
    console.log(`one alias flood alone refused in ${best.toFixed(1)} ms: ${alone[0].json.errors[0].message}`);
    expect(best).toBeLessThan(250);
  });

  it('more aliases than GRAPHQL_MAX_ALIASES are refused with the limit named, even when cheap', async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: invoices(first: 1) { totalCount }`).join(' ')} }`;
    const r = await post({ query }, app.token(tenantA));
    expect(r.status).toBe(400);
    expect(r.json.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_ALIASES' } });
    expect(r.json.errors[0].message).toMatch(/Aliases limit of 15 exceeded, found 16.*GRAPHQL_MAX_ALIASES/);
  });

  it('the product of page sizes counts: 8 × invoices(first: 500) with lines exceeds GRAPHQL_MAX_COST, also when first is a variable', async () => {
    const field = (i: number, first: string) => `a${i}: invoices(first: ${first}) { edges { node { lines { label amount } payer { lastName } } } }`;
    const literal = await post({ query: `{ ${Array.from({ length: 8 }, (_, i) => field(i, '500')).join(' ')} }` }, app.token(tenantA));
    expect(literal.status).toBe(400);
    expect(literal.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_COST' });
    expect(literal.json.errors[0].message).toMatch(/estimated cost \d+ exceeds the limit of 50000 \(GRAPHQL_MAX_COST\)/);

    const variable = await post(
      { query: `query($n: Int) { ${Array.from({ length: 8 }, (_, i) => field(i, '$n')).join(' ')} }`, variables: { n: 500 } },
      app.token(tenantA),
    );
    expect(variable.status).toBe(400);
    expect(variable.json.errors[0].extensions.limit).toBe('GRAPHQL_MAX_COST');
    // The same document with small pages is fine.
    const small = await post(
      { query: `query($n: Int) { ${Array.from({ length: 8 }, (_, i) => field(i, '$n')).join(' ')} }`, variables: { n: 5 } },
      app.token(tenantA),
    );
    expect(small.json.errors).toBeUndefined();
    expect(small.json.data.a0.edges).toHaveLength(3);
  });

  it('a page of 500 invoices with their lines and payer, as a client asks for it, is within the limits', async () => {
    const r = await post(
      {
        query: `{ invoices(first: 500) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
          id type number billingDate roleNumber billingPeriod billingYear notes amountDue amountPaid remainingDue status
          payer { id lastName firstName customerIdentifier } lines { position label amount } } } } }`,
      },
      app.token(tenantA),
    );
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.invoices.totalCount).toBe(3);
  });

  it('more tokens than GRAPHQL_MAX_TOKENS, or more directives than GRAPHQL_MAX_DIRECTIVES, are refused by name', async () => {
    const tokens = await post({ query: `{ invoices(first: 1) { ${'totalCount '.repeat(2500)} } }` }, app.token(tenantA));
    expect(tokens.status).toBe(400);
    expect(tokens.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_TOKENS' });
    const directives = await post({ query: `{ invoices(first: 1) { totalCount ${'@include(if: true) '.repeat(11)} } }` }, app.token(tenantA));
    expect(directives.status).toBe(400);
    expect(directives.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_DIRECTIVES' });
  });

  it('page sizes stay capped by the resolvers (invoices 500, invoiceExports 100)', async () => {
    const inv = await post({ query: '{ invoices(first: 501) { totalCount } }' }, app.token(tenantA));
    expect(inv.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const exp = await post({ query: '{ invoiceExports(first: 101) { totalCount } }' }, app.token(tenantA));
    expect(exp.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(exp.json.errors[0].message).toMatch(/between 1 and 100/);
  });
});

describe('control characters in text inputs (finding 6)', () => {
  const REQUEST = 'mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id } }';

  async function exportsOf(tenantId: string): Promise<number> {
    const [{ n }] = await app.running.services.dataSource.query('SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1', [tenantId]);
    return n;
  }

  it.each([
    ['search (variable)', { query: 'query($f: InvoiceFilter) { invoices(filter: $f) { totalCount } }', variables: { f: { search: 'BUS\u0000SON' } } }],
    ['search (literal, escaped)', { query: '{ invoices(filter: { search: "BUS\\u0000SON" }) { totalCount } }' }],
    ['an id', { query: 'query($id: ID!) { invoice(id: $id) { id } }', variables: { id: `${randomUUID()}\u0000` } }],
    ['a cursor', { query: 'query($a: String) { invoices(after: $a) { totalCount } }', variables: { a: 'abc\u0001' } }],
    ['a billing year', { query: '{ invoices(filter: { billingYear: "2019\\u001b" }) { totalCount } }' }],
  ])('%s → BAD_USER_INPUT before PostgreSQL, naming what is wrong', async (_name, body) => {
    const r = await post(body, app.token(tenantA));
    expect(r.status).toBe(400);
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.json.errors[0].message).toMatch(/control character \(U\+00(00|01|1B)\)/);
  });

  it.each([
    ['idempotencyKey', { kind: 'INVOICES', selection: { invoiceIds: [] as string[] }, idempotencyKey: 'k\u0000' }],
    ['locale', { kind: 'INVOICES', selection: { invoiceIds: [] as string[] }, locale: 'fr-FR\u0000' }],
    ['a filter search', { kind: 'INVOICES', selection: { filter: { search: '\u0000' } } }],
  ])('an export whose %s holds a NUL is refused with BAD_USER_INPUT and nothing is recorded', async (_name, input) => {
    const token = app.token(tenantA, [Role.ACCOUNTANT]);
    if ('invoiceIds' in input.selection) input.selection.invoiceIds = invoiceIds.slice(0, 1);
    const before = await exportsOf(tenantA);
    const r = await post({ query: REQUEST, variables: { input } }, token);
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.json.errors[0].message).toMatch(/\$input\..* contains a control character \(U\+0000\)/);
    expect(await exportsOf(tenantA)).toBe(before);
  });

  it('the request of issue 9 (100,000 excluded ids and a NUL in search) is a quick BAD_USER_INPUT, not a 500', async () => {
    const excludedInvoiceIds = Array.from({ length: 100_000 }, () => randomUUID());
    const r = await post(
      { query: REQUEST, variables: { input: { kind: 'INVOICES', selection: { filter: { search: 'a\u0000' }, excludedInvoiceIds } } } },
      app.token(tenantA),
    );
    expect(r.status).toBe(400);
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(r.json).length).toBeLessThan(1000);
  });

  it('tab and newline stay allowed in text (they are not refused)', async () => {
    const r = await post({ query: 'query($f: InvoiceFilter) { invoices(filter: $f) { totalCount } }', variables: { f: { search: 'BUSSON\tMarie\n' } } }, app.token(tenantA));
    expect(r.json.errors).toBeUndefined();
  });
});

describe('logs of an unexpected database error (finding 6)', () => {
  it('are one bounded line without the parameter values, and the client sees INTERNAL_SERVER_ERROR only', async () => {
    const ids = Array.from({ length: 100_000 }, () => randomUUID());
    let dbError: unknown;
    try {
      // A real failure of PostgreSQL through TypeORM, carrying 100,000 parameters.
      await app.running.services.dataSource.query(`SELECT id FROM invoices WHERE id = ANY($1::uuid[]) AND number = $2::int::text`, [ids, 'F-secret-search']);
    } catch (err) {
      dbError = err;
    }
    expect(dbError).toBeInstanceOf(QueryFailedError);

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger('info', 'production', sink);
    const formatError = createFormatError(logger);
    const gqlError = new GraphQLError('boom', { originalError: dbError as Error, path: ['invoices'] });
    const formatted = formatError(gqlError.toJSON(), gqlError);
    // Also through the serializer, for any other log call that passes an error.
    logger.error({ err: dbError }, 'Elsewhere');
    await new Promise((r) => setImmediate(r));

    expect(formatted).toEqual({ message: 'Internal server error', path: ['invoices'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      console.log(`logged error line: ${line.length} bytes (the error carried ${ids.length} parameters)`);
      expect(line.length).toBeLessThan(8 * 1024);
      expect(line).not.toContain(ids[0]);
      expect(line).not.toContain(ids[99_999]);
      expect(line).not.toContain('F-secret-search');
      const parsed = JSON.parse(line);
      expect(parsed.err.parameterCount).toBe(2);
      expect(parsed.err.query).toMatch(/SELECT id FROM invoices/);
    }
  });
});

describe('schema discovery in production (finding 7)', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await startTestApp({ role: 'api', env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await prod?.stop();
  });

  it('introspection is refused and errors carry no "Did you mean" suggestions', async () => {
    const token = prod.token(tenantA);
    const gql = async (query: string) => (await fetch(prod.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) })).json() as Promise<any>;
    const introspection = await gql('{ __schema { types { name } } }');
    expect(introspection.data).toBeUndefined();
    expect(introspection.errors[0].message).toMatch(/introspection/i);
    const typo = await gql('{ invoicez(first: 1) { totalCount } }');
    expect(typo.errors[0].message).toMatch(/Cannot query field "invoicez"/);
    expect(typo.errors[0].message).not.toMatch(/Did you mean|invoices/);
    // Over the WebSocket too.
    const client = wsClient(prod.wsUrl, token);
    const overWs = await new Promise<unknown>((resolve) =>
      client.subscribe({ query: '{ __schema { types { name } } }' }, { next: resolve, error: resolve, complete: () => resolve('completed') }),
    );
    await client.dispose();
    expect(JSON.stringify(overWs)).toMatch(/introspection/i);
    expect(JSON.stringify(overWs)).not.toMatch(/"types":\[/);
    // In development the same typo is helped.
    const dev = await post({ query: '{ invoicez(first: 1) { totalCount } }' }, app.token(tenantA));
    expect(dev.json.errors[0].message).toMatch(/Did you mean .*"invoices"/);
  });
});
