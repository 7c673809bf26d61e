/**
 * The list "Facturation / Factures et avoirs" through HTTP: `invoices(filter,
 * first, after)` and `invoice(id)` against the real API and PostgreSQL, on
 * hand-made data (test/factories.ts) whose expected answers are known exactly.
 */
import { randomUUID } from 'node:crypto';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { DataSource } from 'typeorm';
import { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod, Role } from '../../src/entities/enums';
import { seedTenant } from '../../dev/seed/seed';
import { createInvoice, createPayer, createTenant } from '../factories';
import { GqlError, TestApp, startTestApp, uniqueName } from '../helpers/app';

let app: TestApp;
let ds: DataSource;

beforeAll(async () => {
  // API only: no worker polling the database in the background while queries are counted.
  app = await startTestApp({ role: 'api' });
  ds = app.running.services.dataSource;
});

afterAll(async () => {
  await app?.stop();
});

const LIST = `query List($filter: InvoiceFilter, $first: Int, $after: String) {
  invoices(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id number billingDate } }
  }
}`;

interface ListPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: { id: string; number: string; billingDate: string } }[];
}

/** One page, failing loudly on any error. */
async function page(token: string, variables: Record<string, unknown>): Promise<ListPage> {
  const res = await app.gql<{ invoices: ListPage }>(LIST, variables, token);
  if (res.errors) throw new Error(`unexpected errors: ${JSON.stringify(res.errors)}`);
  return res.data!.invoices;
}

/** The errors of a request that must fail. */
async function errorsOf(query: string, variables: Record<string, unknown>, token: string): Promise<GqlError[]> {
  const res = await app.gql(query, variables, token);
  expect(res.errors?.length).toBeGreaterThan(0);
  return res.errors!;
}

const codeOf = (errors: GqlError[]) => errors[0].extensions?.code;

/* ------------------------------------------------------------------------ */
/* Tenant A: a small school whose every invoice is known                     */
/* ------------------------------------------------------------------------ */

interface Row {
  number: string;
  billingDate: string;
  type?: InvoiceType;
  status: InvoiceStatus;
  billingPeriod: BillingPeriod;
  billingYear: string;
  roleNumber?: number;
  payer: 'heloise' | 'marie' | 'basile' | 'zoe';
  paymentMethod?: PaymentMethod;
}

const ROWS: Row[] = [
  { number: 'F163881', billingDate: '2019-01-15', status: InvoiceStatus.PAID, billingPeriod: BillingPeriod.ANNUAL, billingYear: '2018/2019', roleNumber: 12, payer: 'heloise', paymentMethod: PaymentMethod.CHEQUE },
  { number: 'F163882', billingDate: '2019-02-01', status: InvoiceStatus.TO_COLLECT, billingPeriod: BillingPeriod.SEMESTER_1, billingYear: '2018/2019', payer: 'marie' },
  { number: 'F163883', billingDate: '2019-02-01', status: InvoiceStatus.PARTIALLY_PAID, billingPeriod: BillingPeriod.SEMESTER_2, billingYear: '2018/2019', roleNumber: 12, payer: 'basile', paymentMethod: PaymentMethod.BANK_TRANSFER },
  { number: 'F163890', billingDate: '2019-03-31', status: InvoiceStatus.SETTLED, billingPeriod: BillingPeriod.QUARTER_1, billingYear: '2018/2019', roleNumber: 7, payer: 'marie', paymentMethod: PaymentMethod.DIRECT_DEBIT },
  { number: 'A000001', billingDate: '2019-04-02', type: InvoiceType.CREDIT_NOTE, status: InvoiceStatus.PAID, billingPeriod: BillingPeriod.ANNUAL, billingYear: '2018/2019', payer: 'heloise', paymentMethod: PaymentMethod.CARD },
  { number: 'F170001', billingDate: '2019-09-10', status: InvoiceStatus.CANCELLED, billingPeriod: BillingPeriod.QUARTER_2, billingYear: '2019/2020', roleNumber: 3, payer: 'zoe', paymentMethod: PaymentMethod.CASH },
  { number: 'F170002', billingDate: '2019-10-01', status: InvoiceStatus.TO_COLLECT, billingPeriod: BillingPeriod.QUARTER_3, billingYear: '2019/2020', payer: 'basile', paymentMethod: PaymentMethod.HOLIDAY_VOUCHER },
  { number: 'F170003', billingDate: '2019-12-31', status: InvoiceStatus.TO_COLLECT, billingPeriod: BillingPeriod.QUARTER_4, billingYear: '2019/2020', roleNumber: 7, payer: 'marie', paymentMethod: PaymentMethod.OTHER },
  { number: 'F150001', billingDate: '2015-06-30', status: InvoiceStatus.PAID, billingPeriod: BillingPeriod.MONTHLY, billingYear: '2015', payer: 'zoe', paymentMethod: PaymentMethod.CARD },
  { number: 'A000002', billingDate: '2019-10-15', type: InvoiceType.CREDIT_NOTE, status: InvoiceStatus.SETTLED, billingPeriod: BillingPeriod.QUARTER_3, billingYear: '2019/2020', payer: 'basile' },
];

/** The whole list as the API must order it: billing date DESC, then number DESC. */
const ORDER = [
  'F170003', // 2019-12-31
  'A000002', // 2019-10-15
  'F170002', // 2019-10-01
  'F170001', // 2019-09-10
  'A000001', // 2019-04-02
  'F163890', // 2019-03-31
  'F163883', // 2019-02-01
  'F163882', // 2019-02-01
  'F163881', // 2019-01-15
  'F150001', // 2015-06-30
];

describe('with tenant A (hand-made data)', () => {
  let tenantA: string;
  let tokenA: string;
  const payers: Record<Row['payer'], string> = { heloise: '', marie: '', basile: '', zoe: '' };
  const ids: Record<string, string> = {};

  let tenantB: string;
  let tokenB: string;
  let payerB: string;
  const idsB: Record<string, string> = {};

  beforeAll(async () => {
    tenantA = await createTenant(ds, uniqueName('École de musique A'));
    tokenA = app.token(tenantA);
    payers.heloise = await createPayer(ds, tenantA, { lastName: 'LEFÈVRE', firstName: 'Héloïse', customerIdentifier: 'C001', familyQuotient: '812.50' });
    payers.marie = await createPayer(ds, tenantA, { lastName: 'BUSSON', firstName: 'Marie', customerIdentifier: 'C002' });
    payers.basile = await createPayer(ds, tenantA, { lastName: 'ACHARD', firstName: 'Basile' });
    payers.zoe = await createPayer(ds, tenantA, { lastName: 'ŒUVRARD', firstName: 'Zoé', customerIdentifier: 'C004', familyQuotient: '0.00' });

    for (const r of ROWS) {
      const credited = r.number === 'A000001' ? ids.F163881 : r.number === 'A000002' ? ids.F170002 : null;
      const lines =
        r.number === 'F163881'
          ? [
              { label: 'Cours individuel de piano 30 min', beneficiary: 'LEFÈVRE Léa', activity: 'Piano', unitPrice: '450.00', accountingAccount: '706100', analyticCode: 'PIANO' },
              { label: 'Formation musicale', beneficiary: 'LEFÈVRE Léa', activity: 'FM', quantity: '2.5', unitPrice: '20.00', discountAmount: '5.00', vatRate: '5.50' },
              { label: 'Adhésion', unitPrice: '5.50' },
            ]
          : r.number === 'A000001'
            ? [{ label: 'Avoir sur facture F163881', unitPrice: '-500.50' }]
            : r.type === InvoiceType.CREDIT_NOTE
              ? [{ label: 'Avoir', unitPrice: '-80.00' }]
              : [{ label: 'Orchestre', unitPrice: '80.00' }];
      ids[r.number] = await createInvoice(ds, tenantA, {
        number: r.number,
        billingDate: r.billingDate,
        type: r.type,
        status: r.status,
        billingPeriod: r.billingPeriod,
        billingYear: r.billingYear,
        roleNumber: r.roleNumber ?? null,
        payerId: payers[r.payer],
        paymentMethod: r.paymentMethod ?? null,
        amountPaid: r.number === 'F163881' ? '500.50' : '0',
        notes: r.number === 'F163881' ? 'Élèves LEFÈVRE Léa' : null,
        uniqueIdentifier: r.number === 'F163881' ? 'UID-163881' : null,
        creditedInvoiceId: credited,
        lines,
      });
    }

    // Tenant B: same kind of data, one invoice number in common with A.
    tenantB = await createTenant(ds, uniqueName('École de musique B'));
    tokenB = app.token(tenantB);
    payerB = await createPayer(ds, tenantB, { lastName: 'BUSSON', firstName: 'Marie', customerIdentifier: 'C001' });
    idsB.F163881 = await createInvoice(ds, tenantB, { number: 'F163881', billingDate: '2019-01-15', payerId: payerB, lines: [{ unitPrice: '10.00' }] });
    idsB.B000001 = await createInvoice(ds, tenantB, { number: 'B000001', billingDate: '2019-05-05', payerId: payerB, lines: [{ unitPrice: '20.00' }] });
  });

  /** Asserts the exact set of numbers a filter returns (in list order) and its totalCount. */
  async function expectNumbers(filter: Record<string, unknown> | null, expected: string[], token = tokenA): Promise<void> {
    const p = await page(token, { filter, first: 500 });
    const got = p.edges.map((e) => e.node.number);
    expect(got).toEqual(ORDER.filter((n) => expected.includes(n)));
    expect(got).toHaveLength(expected.length); // no expected number outside ORDER
    expect(p.totalCount).toBe(expected.length);
    expect(p.pageInfo.hasNextPage).toBe(false);
  }

  describe('tenant isolation', () => {
    it("B's token sees only B's invoices, none of A's", async () => {
      const p = await page(tokenB, { first: 500 });
      expect(p.totalCount).toBe(2);
      expect(p.edges.map((e) => e.node.id).sort()).toEqual([idsB.F163881, idsB.B000001].sort());
      const aIds = new Set(Object.values(ids));
      expect(p.edges.filter((e) => aIds.has(e.node.id))).toEqual([]);
    });

    it("invoice(id) of A's invoice with B's token is null, exactly like an unknown id", async () => {
      const q = 'query($id: ID!) { invoice(id: $id) { id number } }';
      for (const id of Object.values(ids)) {
        const res = await app.gql(q, { id }, tokenB);
        expect(res.errors).toBeUndefined();
        expect(res.data).toEqual({ invoice: null });
      }
      expect((await app.gql(q, { id: randomUUID() }, tokenB)).data).toEqual({ invoice: null });
      expect((await app.gql(q, { id: 'not-a-uuid' }, tokenB)).data).toEqual({ invoice: null });
      // And the other way round; A's own invoice is found.
      expect((await app.gql(q, { id: idsB.F163881 }, tokenA)).data).toEqual({ invoice: null });
      expect((await app.gql(q, { id: ids.F163881 }, tokenA)).data).toEqual({ invoice: { id: ids.F163881, number: 'F163881' } });
    });

    it("a filter on A's payerId with B's token is empty", async () => {
      for (const payerId of Object.values(payers)) {
        const p = await page(tokenB, { filter: { payerId }, first: 500 });
        expect(p.totalCount).toBe(0);
        expect(p.edges).toEqual([]);
      }
    });

    it("a search for A's payer or number with B's token finds only B's rows", async () => {
      expect((await page(tokenB, { filter: { search: 'heloise' } })).totalCount).toBe(0);
      const p = await page(tokenB, { filter: { search: 'F1638' } });
      expect(p.edges.map((e) => e.node.id)).toEqual([idsB.F163881]);
    });

    it("B's payer appears only through B's invoices", async () => {
      const res = await app.gql(`{ invoices(first: 500) { edges { node { payer { id displayName customerIdentifier } } } } }`, {}, tokenB);
      expect(res.data.invoices.edges.map((e: any) => e.node.payer)).toEqual([
        { id: payerB, displayName: 'BUSSON Marie', customerIdentifier: 'C001' },
        { id: payerB, displayName: 'BUSSON Marie', customerIdentifier: 'C001' },
      ]);
    });
  });

  describe('every InvoiceFilter field', () => {
    it('no filter: everything, newest first (billing date DESC, then number DESC)', async () => {
      await expectNumbers(null, ORDER);
      await expectNumbers({}, ORDER);
    });

    it('types', async () => {
      await expectNumbers({ types: ['CREDIT_NOTE'] }, ['A000001', 'A000002']);
      await expectNumbers({ types: ['INVOICE'] }, ORDER.filter((n) => n.startsWith('F')));
      await expectNumbers({ types: ['INVOICE', 'CREDIT_NOTE'] }, ORDER);
    });

    it('statuses', async () => {
      await expectNumbers({ statuses: ['TO_COLLECT'] }, ['F163882', 'F170002', 'F170003']);
      await expectNumbers({ statuses: ['PAID', 'SETTLED'] }, ['F163881', 'F163890', 'A000001', 'F150001', 'A000002']);
      await expectNumbers({ statuses: ['PARTIALLY_PAID'] }, ['F163883']);
      await expectNumbers({ statuses: ['CANCELLED'] }, ['F170001']);
    });

    it('billingDateFrom is inclusive', async () => {
      await expectNumbers({ billingDateFrom: '2019-02-01' }, ['F163882', 'F163883', 'F163890', 'A000001', 'F170001', 'F170002', 'A000002', 'F170003']);
      await expectNumbers({ billingDateFrom: '2019-12-31' }, ['F170003']);
      await expectNumbers({ billingDateFrom: '2020-01-01' }, []);
    });

    it('billingDateTo is inclusive', async () => {
      await expectNumbers({ billingDateTo: '2019-03-31' }, ['F150001', 'F163881', 'F163882', 'F163883', 'F163890']);
      await expectNumbers({ billingDateTo: '2015-06-30' }, ['F150001']);
      await expectNumbers({ billingDateTo: '2015-06-29' }, []);
    });

    it('billingDateFrom and billingDateTo together, both inclusive (also the same day)', async () => {
      await expectNumbers({ billingDateFrom: '2019-02-01', billingDateTo: '2019-03-31' }, ['F163882', 'F163883', 'F163890']);
      await expectNumbers({ billingDateFrom: '2019-02-01', billingDateTo: '2019-02-01' }, ['F163882', 'F163883']);
    });

    it('billingYear', async () => {
      await expectNumbers({ billingYear: '2015' }, ['F150001']);
      await expectNumbers({ billingYear: '2019/2020' }, ['F170001', 'F170002', 'F170003', 'A000002']);
      await expectNumbers({ billingYear: '2018/2019' }, ['F163881', 'F163882', 'F163883', 'F163890', 'A000001']);
      await expectNumbers({ billingYear: '2016' }, []);
    });

    it('billingPeriods', async () => {
      await expectNumbers({ billingPeriods: ['QUARTER_3'] }, ['F170002', 'A000002']);
      await expectNumbers({ billingPeriods: ['ANNUAL', 'MONTHLY'] }, ['F163881', 'A000001', 'F150001']);
      await expectNumbers({ billingPeriods: ['SEMESTER_1', 'SEMESTER_2', 'QUARTER_1', 'QUARTER_2', 'QUARTER_4'] }, [
        'F163882', 'F163883', 'F163890', 'F170001', 'F170003',
      ]);
    });

    it('roleNumber', async () => {
      await expectNumbers({ roleNumber: 12 }, ['F163881', 'F163883']);
      await expectNumbers({ roleNumber: 7 }, ['F163890', 'F170003']);
      await expectNumbers({ roleNumber: 999 }, []);
    });

    it('payerId', async () => {
      await expectNumbers({ payerId: payers.marie }, ['F163882', 'F163890', 'F170003']);
      await expectNumbers({ payerId: payers.heloise }, ['F163881', 'A000001']);
      await expectNumbers({ payerId: randomUUID() }, []);
      await expectNumbers({ payerId: payerB }, []);
    });

    it('paymentMethods', async () => {
      await expectNumbers({ paymentMethods: ['CARD'] }, ['A000001', 'F150001']);
      await expectNumbers({ paymentMethods: ['CHEQUE', 'CASH'] }, ['F163881', 'F170001']);
      await expectNumbers({ paymentMethods: ['BANK_TRANSFER', 'DIRECT_DEBIT', 'HOLIDAY_VOUCHER', 'OTHER'] }, ['F163883', 'F163890', 'F170002', 'F170003']);
    });

    describe('search: number or payer name, case- and accent-insensitive', () => {
      it.each([
        ['heloise', ['F163881', 'A000001']],
        ['HÉLOÏSE', ['F163881', 'A000001']],
        ['Heloïse', ['F163881', 'A000001']],
        ['LEFEVRE', ['F163881', 'A000001']],
        ['lefèvre', ['F163881', 'A000001']],
        ['lefevre heloise', ['F163881', 'A000001']],
        ['oeuvrard', ['F170001', 'F150001']],
        ['zoe', ['F170001', 'F150001']],
        ['Marie BUSSON', ['F163882', 'F163890', 'F170003']],
        ['BUSSON Marie', ['F163882', 'F163890', 'F170003']],
        ['  busson   marie ', ['F163882', 'F163890', 'F170003']],
        ['busson', ['F163882', 'F163890', 'F170003']],
        ['uss', ['F163882', 'F163890', 'F170003']],
        ['F1638', ['F163881', 'F163882', 'F163883', 'F163890']],
        ['f1638', ['F163881', 'F163882', 'F163883', 'F163890']],
        ['163881', ['F163881']],
        ['F163881', ['F163881']],
        ['A0000', ['A000001', 'A000002']],
        ['ACHARD Basile', ['F163883', 'F170002', 'A000002']],
        // decomposed accents (NFD: "e" + U+0301), as pasted from some systems
        ['he\u0301loi\u0308se', ['F163881', 'A000001']],
        ['LEFE\u0300VRE', ['F163881', 'A000001']],
        ['nobody', []],
        ['Marie ACHARD', []],
        // LIKE wildcards are literal characters
        ['%', []],
        ['_', []],
        ['F1638_1', []],
        ['\\', []],
        ["'", []],
      ])('%j', async (search, expected) => {
        await expectNumbers({ search }, expected);
      });

      it('an empty or blank search is no filter', async () => {
        await expectNumbers({ search: '' }, ORDER);
        await expectNumbers({ search: '   ' }, ORDER);
      });
    });

    it('a combination ANDs every given field', async () => {
      await expectNumbers(
        { types: ['INVOICE'], statuses: ['TO_COLLECT', 'PARTIALLY_PAID'], billingYear: '2018/2019', billingDateFrom: '2019-02-01' },
        ['F163882', 'F163883'],
      );
      await expectNumbers({ search: 'busson', roleNumber: 7 }, ['F163890', 'F170003']);
      await expectNumbers({ search: 'busson', roleNumber: 7, billingDateTo: '2019-06-30' }, ['F163890']);
      await expectNumbers(
        {
          types: ['INVOICE'],
          statuses: ['TO_COLLECT'],
          billingDateFrom: '2019-01-01',
          billingDateTo: '2019-12-31',
          billingYear: '2019/2020',
          billingPeriods: ['QUARTER_4'],
          roleNumber: 7,
          payerId: payers.marie,
          paymentMethods: ['OTHER'],
          search: 'F17',
        },
        ['F170003'],
      );
      await expectNumbers({ payerId: payers.heloise, types: ['INVOICE'], statuses: ['TO_COLLECT'] }, []);
      await expectNumbers({ types: ['CREDIT_NOTE'], paymentMethods: ['CARD'], search: 'lefevre' }, ['A000001']);
    });

    it('the same filter works written inline in the query', async () => {
      const res = await app.gql(
        `{ invoices(filter: { types: [CREDIT_NOTE], billingDateFrom: "2019-04-02", search: "Achard" }) { totalCount edges { node { number } } } }`,
        {},
        tokenA,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.invoices).toEqual({ totalCount: 1, edges: [{ node: { number: 'A000002' } }] });
    });
  });

  describe('bad filters are refused with BAD_USER_INPUT', () => {
    it('billingDateFrom after billingDateTo', async () => {
      const errors = await errorsOf(LIST, { filter: { billingDateFrom: '2019-03-01', billingDateTo: '2019-02-01' } }, tokenA);
      expect(codeOf(errors)).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toMatch(/billingDateFrom/);
    });

    it('a malformed payerId', async () => {
      const errors = await errorsOf(LIST, { filter: { payerId: 'abc' } }, tokenA);
      expect(codeOf(errors)).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toMatch(/payerId/);
    });

    it('a malformed billingYear', async () => {
      const errors = await errorsOf(LIST, { filter: { billingYear: '19/20' } }, tokenA);
      expect(codeOf(errors)).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toMatch(/billingYear/);
    });

    it('a too long search', async () => {
      const errors = await errorsOf(LIST, { filter: { search: 'x'.repeat(201) } }, tokenA);
      expect(codeOf(errors)).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toMatch(/search/);
    });

    it.each(['2019-02-30', '2019-13-01', '15/01/2019', '2019-1-5', '2019-01-15T00:00:00Z', ''])(
      'an invalid Date variable %j → BAD_USER_INPUT',
      async (date) => {
        const errors = await errorsOf(LIST, { filter: { billingDateFrom: date } }, tokenA);
        expect(codeOf(errors)).toBe('BAD_USER_INPUT');
        expect(errors[0].message).toMatch(/yyyy-mm-dd/);
      },
    );

    it('an invalid Date literal "2019-02-30" → GRAPHQL_VALIDATION_FAILED (a document error), never INTERNAL_SERVER_ERROR', async () => {
      const res = await app.gql(`{ invoices(filter: { billingDateTo: "2019-02-30" }) { totalCount } }`, {}, tokenA);
      expect(res.status).toBe(400);
      expect(res.data).toBeUndefined();
      expect(codeOf(res.errors!)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors![0].message).toMatch(/2019-02-30/);
      expect(res.errors![0].message).toMatch(/yyyy-mm-dd/);
    });

    it('an unknown enum value → BAD_USER_INPUT', async () => {
      const errors = await errorsOf(LIST, { filter: { statuses: ['OPEN'] } }, tokenA);
      expect(codeOf(errors)).toBe('BAD_USER_INPUT');
    });
  });

  describe('Invoice fields', () => {
    const FULL = `query($id: ID!) {
      invoice(id: $id) {
        id tenantId type number billingDate roleNumber payerId billingPeriod billingYear notes
        amountDue amountPaid remainingDue pendingCollection status uniqueIdentifier paymentMethod
        creditedInvoiceId createdAt
        payer { id lastName firstName displayName customerIdentifier familyQuotient email createdAt }
        lines { id invoiceId position label beneficiary activity quantity unitPrice discountAmount amount vatRate accountingAccount analyticCode }
      }
    }`;

    it('an invoice exposes every column (camelCase), decimal strings, yyyy-mm-dd, its payer and lines', async () => {
      const res = await app.gql(FULL, { id: ids.F163881 }, tokenA);
      expect(res.errors).toBeUndefined();
      const inv = res.data.invoice;
      expect(inv).toEqual({
        id: ids.F163881,
        tenantId: tenantA,
        type: 'INVOICE',
        number: 'F163881',
        billingDate: '2019-01-15',
        roleNumber: 12,
        payerId: payers.heloise,
        billingPeriod: 'ANNUAL',
        billingYear: '2018/2019',
        notes: 'Élèves LEFÈVRE Léa',
        amountDue: '500.50',
        amountPaid: '500.50',
        remainingDue: '0.00',
        pendingCollection: '0.00',
        status: 'PAID',
        uniqueIdentifier: 'UID-163881',
        paymentMethod: 'CHEQUE',
        creditedInvoiceId: null,
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/),
        payer: {
          id: payers.heloise,
          lastName: 'LEFÈVRE',
          firstName: 'Héloïse',
          displayName: 'LEFÈVRE Héloïse',
          customerIdentifier: 'C001',
          familyQuotient: '812.50',
          email: null,
          createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        },
        lines: [
          {
            id: expect.any(String),
            invoiceId: ids.F163881,
            position: 1,
            label: 'Cours individuel de piano 30 min',
            beneficiary: 'LEFÈVRE Léa',
            activity: 'Piano',
            quantity: '1.000',
            unitPrice: '450.00',
            discountAmount: '0.00',
            amount: '450.00',
            vatRate: '0.00',
            accountingAccount: '706100',
            analyticCode: 'PIANO',
          },
          {
            id: expect.any(String),
            invoiceId: ids.F163881,
            position: 2,
            label: 'Formation musicale',
            beneficiary: 'LEFÈVRE Léa',
            activity: 'FM',
            quantity: '2.500',
            unitPrice: '20.00',
            discountAmount: '5.00',
            amount: '45.00',
            vatRate: '5.50',
            accountingAccount: null,
            analyticCode: null,
          },
          {
            id: expect.any(String),
            invoiceId: ids.F163881,
            position: 3,
            label: 'Adhésion',
            beneficiary: null,
            activity: null,
            quantity: '1.000',
            unitPrice: '5.50',
            discountAmount: '0.00',
            amount: '5.50',
            vatRate: '0.00',
            accountingAccount: null,
            analyticCode: null,
          },
        ],
      });
      // createdAt is a recent instant, not a shifted date
      expect(Math.abs(Date.parse(inv.createdAt) - Date.now())).toBeLessThan(10 * 60_000);
    });

    it('a credit note carries negative decimal strings and points to the invoice it credits', async () => {
      const res = await app.gql(FULL, { id: ids.A000001 }, tokenA);
      expect(res.errors).toBeUndefined();
      expect(res.data.invoice).toMatchObject({
        type: 'CREDIT_NOTE',
        number: 'A000001',
        billingDate: '2019-04-02',
        roleNumber: null,
        amountDue: '-500.50',
        amountPaid: '0.00',
        remainingDue: '0.00',
        creditedInvoiceId: ids.F163881,
        paymentMethod: 'CARD',
        notes: null,
        uniqueIdentifier: null,
        payer: { displayName: 'LEFÈVRE Héloïse' },
        lines: [{ position: 1, label: 'Avoir sur facture F163881', unitPrice: '-500.50', amount: '-500.50', quantity: '1.000' }],
      });
    });

    it('the list gives the same fields as invoice(id)', async () => {
      const res = await app.gql(
        `query($f: InvoiceFilter) { invoices(filter: $f) { edges { node {
          id number billingDate amountDue type payer { displayName familyQuotient customerIdentifier } lines { position amount }
        } } } }`,
        { f: { search: 'oeuvrard' } },
        tokenA,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.invoices.edges.map((e: any) => e.node)).toEqual([
        { id: ids.F170001, number: 'F170001', billingDate: '2019-09-10', amountDue: '80.00', type: 'INVOICE',
          payer: { displayName: 'ŒUVRARD Zoé', familyQuotient: '0.00', customerIdentifier: 'C004' }, lines: [{ position: 1, amount: '80.00' }] },
        { id: ids.F150001, number: 'F150001', billingDate: '2015-06-30', amountDue: '80.00', type: 'INVOICE',
          payer: { displayName: 'ŒUVRARD Zoé', familyQuotient: '0.00', customerIdentifier: 'C004' }, lines: [{ position: 1, amount: '80.00' }] },
      ]);
    });

    it('a payer without customer identifier nor family quotient has nulls', async () => {
      const res = await app.gql(`query($id: ID!) { invoice(id: $id) { payer { displayName customerIdentifier familyQuotient } } }`, { id: ids.F163883 }, tokenA);
      expect(res.data.invoice.payer).toEqual({ displayName: 'ACHARD Basile', customerIdentifier: null, familyQuotient: null });
    });
  });

  it('VIEWER can read invoices', async () => {
    const viewer = app.token(tenantA, [Role.VIEWER]);
    const p = await page(viewer, { first: 3 });
    expect(p.totalCount).toBe(ORDER.length);
    expect(p.edges.map((e) => e.node.number)).toEqual(ORDER.slice(0, 3));
    const one = await app.gql('query($id: ID!) { invoice(id: $id) { number payer { displayName } lines { label } } }', { id: ids.F163882 }, viewer);
    expect(one.errors).toBeUndefined();
    expect(one.data.invoice).toEqual({ number: 'F163882', payer: { displayName: 'BUSSON Marie' }, lines: [{ label: 'Orchestre' }] });
  });

  it('ADMIN can read invoices too', async () => {
    const p = await page(app.token(tenantA, [Role.ADMIN]), { first: 1 });
    expect(p.edges.map((e) => e.node.number)).toEqual([ORDER[0]]);
  });
});

/* ------------------------------------------------------------------------ */
/* Pagination                                                                */
/* ------------------------------------------------------------------------ */

describe('pagination', () => {
  let tenant: string;
  let token: string;
  /** Expected list order, computed independently of the API. */
  let expected: { id: string; number: string; billingDate: string }[];

  beforeAll(async () => {
    tenant = await createTenant(ds, uniqueName('Pagination'));
    token = app.token(tenant);
    const payer = await createPayer(ds, tenant, { lastName: 'DUPONT', firstName: 'Jean' });
    const rows: { id: string; number: string; billingDate: string }[] = [];
    // 30 invoices over 9 dates: several invoices share a date, and numbers are
    // inserted out of order, so the tie-break on number is exercised.
    for (let i = 0; i < 30; i++) {
      const n = (i * 17) % 30; // a permutation of 0..29
      const number = `P${String(1000 + n)}`;
      const billingDate = `2019-0${1 + (n % 9)}-${String(1 + (n % 3) * 10).padStart(2, '0')}`;
      const id = await createInvoice(ds, tenant, {
        number,
        billingDate,
        type: n % 7 === 0 ? InvoiceType.CREDIT_NOTE : InvoiceType.INVOICE,
        payerId: payer,
        lines: [{ unitPrice: n % 7 === 0 ? '-10.00' : '10.00' }],
      });
      rows.push({ id, number, billingDate });
    }
    expected = rows.sort((a, b) => (a.billingDate !== b.billingDate ? (a.billingDate < b.billingDate ? 1 : -1) : a.number < b.number ? 1 : -1));
    // the data really has ties on billing date
    expect(new Set(expected.map((r) => r.billingDate)).size).toBeLessThan(expected.length);
  });

  /** Walks the whole list with `after`, checking every page. */
  async function walk(tok: string, first: number, total: number, filter?: Record<string, unknown>) {
    const seen: ListPage['edges'] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const p: ListPage = await page(tok, { first, after, filter });
      pages++;
      expect(p.totalCount).toBe(total);
      expect(p.edges.length).toBe(Math.min(first, total - seen.length));
      expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor ?? null);
      seen.push(...p.edges);
      expect(p.pageInfo.hasNextPage).toBe(seen.length < total);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
      if (pages > total + 1) throw new Error('pagination does not end');
    }
    expect(pages).toBe(Math.max(1, Math.ceil(total / first)));
    return seen;
  }

  it('order is billing date DESC then number DESC', async () => {
    const p = await page(token, { first: 500 });
    expect(p.edges.map((e) => e.node.id)).toEqual(expected.map((r) => r.id));
  });

  it('walking pages of 7 with `after` gives every invoice exactly once, in order, with the right totalCount and hasNextPage', async () => {
    const seen = await walk(token, 7, 30);
    expect(seen.map((e) => e.node.number)).toEqual(expected.map((r) => r.number));
    expect(new Set(seen.map((e) => e.node.id)).size).toBe(30);
    expect(new Set(seen.map((e) => e.cursor)).size).toBe(30);
  });

  it.each([1, 2, 29, 30, 31, 500])('pages of %i cover the list exactly', async (first) => {
    const seen = await walk(token, first, 30);
    expect(seen.map((e) => e.node.id)).toEqual(expected.map((r) => r.id));
  });

  it('a filtered list pages the same way, totalCount being the filtered count', async () => {
    // Credit notes are the numbers P1000 + n with n % 7 === 0.
    const want = expected.filter((r) => (Number(r.number.slice(1)) - 1000) % 7 !== 0);
    expect(want.length).toBe(25);
    const seen = await walk(token, 4, want.length, { types: ['INVOICE'] });
    expect(seen.map((e) => e.node.number)).toEqual(want.map((r) => r.number));
  });

  it('`after` may be the cursor of any edge, not only endCursor', async () => {
    const p = await page(token, { first: 10 });
    const next = await page(token, { first: 5, after: p.edges[3].cursor });
    expect(next.edges.map((e) => e.node.id)).toEqual(expected.slice(4, 9).map((r) => r.id));
    expect(next.totalCount).toBe(30);
  });

  it('the default page size is 50 and the last cursor gives an empty page', async () => {
    const p = await page(token, {});
    expect(p.edges).toHaveLength(30);
    const after = await page(token, { after: p.pageInfo.endCursor });
    expect(after.edges).toEqual([]);
    expect(after.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
    expect(after.totalCount).toBe(30);
  });

  it('keyset pagination: an invoice added meanwhile on top does not shift the next page', async () => {
    const t = await createTenant(ds, uniqueName('Keyset'));
    const tok = app.token(t);
    const payer = await createPayer(ds, t);
    for (let i = 1; i <= 6; i++) {
      await createInvoice(ds, t, { number: `K00${i}`, billingDate: `2019-01-0${i}`, payerId: payer, lines: [{ unitPrice: '1.00' }] });
    }
    const first = await page(tok, { first: 3 });
    expect(first.edges.map((e) => e.node.number)).toEqual(['K006', 'K005', 'K004']);
    await createInvoice(ds, t, { number: 'K007', billingDate: '2019-02-01', payerId: payer, lines: [{ unitPrice: '1.00' }] });
    const second = await page(tok, { first: 3, after: first.pageInfo.endCursor });
    expect(second.edges.map((e) => e.node.number)).toEqual(['K003', 'K002', 'K001']);
    expect(second.totalCount).toBe(7);
  });

  describe('bad page arguments → BAD_USER_INPUT', () => {
    it.each([501, 0, -1, 100000])('first: %i', async (first) => {
      const errors = await errorsOf(LIST, { first }, token);
      expect(codeOf(errors)).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toMatch(/first/);
    });

    it('first: 500 is allowed', async () => {
      expect((await page(token, { first: 500 })).edges).toHaveLength(30);
    });

    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    it.each([
      ['"abc"', 'abc'],
      ['base64 of garbage', Buffer.from('garbage \u0000\u00ff not json').toString('base64')],
      ['base64 of "foobar"', b64('foobar')],
      ['base64 of JSON of the wrong shape', b64({ billingDate: '2019-01-01', number: 'F1' })],
      ['a cursor of another connection', b64(['exp', ['2019-01-01', 'F1']])],
      ['a cursor with an impossible date', b64(['inv', ['2019-02-30', 'F1']])],
      ['a cursor with a number that is not a string', b64(['inv', ['2019-01-01', 42]])],
      ['an empty-looking cursor', '===='],
    ])('after: %s', async (_name, after) => {
      const errors = await errorsOf(LIST, { first: 5, after }, token);
      expect(codeOf(errors)).toBe('BAD_USER_INPUT');
      expect(errors[0].message).toMatch(/cursor/);
    });
  });

  it('a seeded tenant of 300 invoices pages exactly like SQL orders it', async () => {
    const seeded = await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('Seeded pagination'), invoices: 300, ifExists: 'duplicate' });
    const rows: { id: string }[] = await ds.query(
      `SELECT id FROM invoices WHERE tenant_id = $1 ORDER BY billing_date DESC, number DESC`,
      [seeded.tenantId],
    );
    expect(rows.length).toBeGreaterThanOrEqual(300);
    const seen = await walk(app.token(seeded.tenantId), 47, rows.length);
    expect(seen.map((e) => e.node.id)).toEqual(rows.map((r) => r.id));
    const def = await page(app.token(seeded.tenantId), {});
    expect(def.edges).toHaveLength(50);
    expect(def.pageInfo.hasNextPage).toBe(true);
  });
});

/* ------------------------------------------------------------------------ */
/* Batching: a constant number of SQL queries per page                       */
/* ------------------------------------------------------------------------ */

describe('SQL queries per page', () => {
  let token: string;

  beforeAll(async () => {
    const tenant = await createTenant(ds, uniqueName('Batching'));
    token = app.token(tenant);
    const payerIds: string[] = [];
    for (let i = 0; i < 10; i++) payerIds.push(await createPayer(ds, tenant, { lastName: `NOM${i}`, firstName: 'Prénom', customerIdentifier: `C${i}` }));
    for (let i = 0; i < 50; i++) {
      await createInvoice(ds, tenant, {
        number: `N${String(i).padStart(4, '0')}`,
        billingDate: `2019-03-${String(1 + (i % 28)).padStart(2, '0')}`,
        payerId: payerIds[i % payerIds.length],
        lines: Array.from({ length: 1 + (i % 4) }, (_, k) => ({ label: `Ligne ${k + 1}`, unitPrice: '12.34' })),
      });
    }
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const QUERY = `query($first: Int) { invoices(first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id number amountDue payer { id displayName customerIdentifier } lines { position label amount } } }
  } }`;

  const originalQuery = PostgresQueryRunner.prototype.query;

  /** Runs the page and counts the SQL statements that reach PostgreSQL while it is answered. */
  async function countQueries(first: number): Promise<{ count: number; edges: number; lines: number; sql: string[] }> {
    const sql: string[] = [];
    const spy = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    spy.mockImplementation(function (this: PostgresQueryRunner, ...args: Parameters<PostgresQueryRunner['query']>) {
      const text = String(args[0]).replace(/\s+/g, ' ').slice(0, 120);
      // The token's tenant is looked up once and cached (api/context.ts): not a query of the page.
      // The export dispatcher's timer (every process runs one) reads invoice_exports, which the page never does.
      if (!text.startsWith('SELECT 1 FROM tenants WHERE id') && !text.includes('invoice_exports')) sql.push(text);
      return originalQuery.apply(this, args);
    } as never);
    try {
      const res = await app.gql(QUERY, { first }, token);
      expect(res.errors).toBeUndefined();
      const edges = res.data.invoices.edges;
      return { count: sql.length, edges: edges.length, lines: edges.reduce((n: number, e: any) => n + e.node.lines.length, 0), sql };
    } finally {
      spy.mockRestore();
    }
  }
  it('a page of 50 invoices with payers and lines costs as many queries as a page of 5 (at most 5)', async () => {
    const small = await countQueries(5);
    const big = await countQueries(50);
    expect(small.edges).toBe(5);
    expect(big.edges).toBe(50);
    expect(big.lines).toBe(Array.from({ length: 50 }, (_, i) => 1 + (i % 4)).reduce((a, b) => a + b, 0));
    // The spy really sees the queries: the page, the count, payers, lines.
    expect(small.count).toBeGreaterThanOrEqual(3);
    expect(big.count).toBeLessThanOrEqual(5);
    expect(big.count).toBe(small.count);
  });

  it('without totalCount the count query is not run', async () => {
    const sql: string[] = [];
    const spy = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    spy.mockImplementation(function (this: PostgresQueryRunner, ...args: Parameters<PostgresQueryRunner['query']>) {
      sql.push(String(args[0]));
      return originalQuery.apply(this, args);
    } as never);
    try {
      const res = await app.gql(`{ invoices(first: 50) { edges { node { number } } } }`, {}, token);
      expect(res.errors).toBeUndefined();
      expect(res.data.invoices.edges).toHaveLength(50);
    } finally {
      spy.mockRestore();
    }
    expect(sql).toHaveLength(1);
    expect(sql.some((s) => /count\(\*\)/i.test(s))).toBe(false);
  });
});

describe('names stored with decomposed accents (written by another tool)', () => {
  it('are found by a plain search', async () => {
    const tenant = await createTenant(ds, uniqueName('nfd'));
    const payer = await createPayer(ds, tenant, { lastName: 'LEFE\u0300VRE', firstName: 'He\u0301loi\u0308se' });
    await createInvoice(ds, tenant, { number: 'F1', billingDate: '2020-01-01', payerId: payer, lines: [{ unitPrice: '1.00' }] });
    const token = app.token(tenant);
    for (const search of ['heloise', 'Héloïse', 'lefevre heloise']) {
      const found = await page(token, { filter: { search } });
      expect(`${search}: ${found.edges.map((e) => e.node.number)}`).toBe(`${search}: F1`);
    }
  });
});
