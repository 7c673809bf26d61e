/**
 * The page "Factures et avoirs" in a real browser (Debian's Chromium driven by
 * playwright-core) against the real API, worker, PostgreSQL, Redis and an
 * s3rver, all started here. Finds the controls by role and accessible name:
 * those names are the contract of docs/frontend.md.
 *
 * Screenshots of each final state go to test-output/browser/;
 * `UPDATE_SCREENSHOTS=1 npx jest test/browser` also refreshes docs/page.png,
 * the README's picture.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { signToken } from '../../src/auth/jwt';
import { Role } from '../../src/entities/enums';
import { seedTenant } from '../../dev/seed/seed';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { ROOT } from '../helpers/processes';
import { FR_HEADERS, readCsv, readXlsx } from '../helpers/files';

// Browser globals of the page.evaluate callbacks (the project's tsconfig has no DOM lib).
declare const document: { activeElement: { getAttribute(n: string): string | null; textContent: string | null } | null };
declare const window: { innerWidth: number };
declare const sessionStorage: { getItem(k: string): string | null; clear(): void };
declare function getComputedStyle(el: unknown): { outlineStyle: string };
type HTMLElement = { getAttribute(n: string): string | null; textContent: string | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUT = path.join(ROOT, 'test-output', 'browser');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`Browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`);
const describeBrowser = haveChromium ? describe : describe.skip;

jest.setTimeout(60_000);

let app: TestApp;
let ds: DataSource;
let context: BrowserContext;
let userDataDir: string;
let base: string;
let tenantId: string;
let token: string;

function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }, 0);
}

function pageBuildIsStale(): boolean {
  const built = path.join(ROOT, 'web', 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const sources = Math.max(newestMtime(path.join(ROOT, 'web', 'src')), statSync(path.join(ROOT, 'web', 'index.html')).mtimeMs);
  return sources > statSync(built).mtimeMs;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false });
}

/** A page signed in through the URL fragment. */
async function signedIn(viewport = { width: 1280, height: 800 }, as = token): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  await page.goto(`${base}/#token=${as}`);
  await page.getByRole('table', { name: 'Factures et avoirs' }).getByRole('checkbox', { name: /^Sélectionner / }).first().waitFor();
  return page;
}

const actionButton = (page: Page) => page.getByRole('button', { name: /^Action pour \d+ sélectionnés?$/ });
const exportsRegion = (page: Page) => page.getByRole('region', { name: 'Exports' });
/** Newest first: the export just requested is the first item. */
const newestExport = (page: Page) => exportsRegion(page).getByRole('listitem').first();

async function rowNumbers(page: Page): Promise<string[]> {
  const names = await page.getByRole('checkbox', { name: /^Sélectionner / }).evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  return names.map((n) => n.replace(/^Sélectionner /, ''));
}

async function waitCompleted(item: Locator): Promise<void> {
  await item.getByRole('progressbar').and(item.locator('[aria-valuenow="100"]')).waitFor({ timeout: 30_000 });
  await item.getByText('Terminé').waitFor();
}

async function download(page: Page, item: Locator, viaKeyboard = false): Promise<Buffer> {
  const waiting = page.waitForEvent('download');
  if (viaKeyboard) await page.keyboard.press('Enter');
  else await item.getByRole('link', { name: 'Télécharger' }).click();
  const dl = await waiting;
  const file = await dl.path();
  return readFileSync(file);
}

async function xlsxNumbers(buf: Buffer): Promise<string[]> {
  const { sheets } = await readXlsx(buf);
  const sheet = sheets.find((s) => s.name === 'Factures et avoirs')!;
  expect(sheet.header).toEqual(FR_HEADERS.INVOICES);
  const col = sheet.header.indexOf('N° de pièce') + 1;
  return sheet.rows.map((r) => String(r.getCell(col).value));
}

const focusedName = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el ? (el.getAttribute('aria-label') ?? el.textContent ?? '').trim() : '';
  });

/** Presses Tab (or Shift+Tab) until the focused control's name matches; fails after `max` presses. */
async function tabTo(page: Page, name: RegExp, { back = false, max = 80 } = {}): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (name.test(await focusedName(page))) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`no control matching ${name} within ${max} presses of Tab (last: "${await focusedName(page)}")`);
}

describeBrowser('the page "Factures et avoirs" in Chromium', () => {
  const started = Date.now();

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    // `npm test` builds the page first; a lone `npx jest test/browser` rebuilds it when the sources are newer.
    if (pageBuildIsStale()) execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
    app = await startTestApp();
    ds = app.running.services.dataSource;
    base = app.url.replace(/\/graphql$/, '');
    // 120 documents: "Tous les résultats" of a filter spans more than one page of 50.
    tenantId = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('page'), invoices: 120, ifExists: 'duplicate' })).tenantId;
    token = app.token(tenantId, [Role.ACCOUNTANT]);
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'invoice-export-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1280, height: 800 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await app?.stop();
    console.log(`Browser tests: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test('sign-in by /#token=…: the token leaves the address bar, stays in sessionStorage, and the list shows the seed columns', async () => {
    const page = await signedIn();
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('invoice-export.token'))).toBe(token);
    const headers = await page.getByRole('table', { name: 'Factures et avoirs' }).getByRole('columnheader').allInnerTexts();
    expect(headers.map((h) => h.trim())).toEqual(['Tous les résultats', ...FR_HEADERS.INVOICES]);
    expect(await page.getByRole('checkbox', { name: /^Sélectionner / }).count()).toBe(50);
    await page.getByText('1–50 sur 120 résultats').waitFor();
    await expect(actionButton(page).isDisabled()).resolves.toBe(true);
    // Amounts in French: a credit note of the seed shows e.g. "-500,50 €".
    const [credit] = await ds.query(`SELECT number, amount_due FROM invoices WHERE tenant_id = $1 AND type = 'CREDIT_NOTE' ORDER BY billing_date DESC LIMIT 1`, [tenantId]);
    if (credit) {
      await page.getByRole('searchbox', { name: 'Rechercher' }).fill(credit.number);
      const row = page.getByRole('row', { name: new RegExp(credit.number) });
      await row.waitFor();
      const want = `${String(credit.amount_due).replace('.', ',')} €`;
      expect((await row.innerText()).replace(/\s/g, ' ')).toContain(want.replace(/\B(?=(\d{3})+(?!\d))/g, ' '));
    }
    // Reload: still signed in (sessionStorage).
    await page.reload();
    await page.getByRole('table', { name: 'Factures et avoirs' }).waitFor();
    await shot(page, '1-signed-in');
    await page.close();
  });

  test('two rows ticked → Exporter XLSX → 100 % → Télécharger gives a file with exactly those two', async () => {
    const page = await signedIn();
    const [a, b] = (await rowNumbers(page)).slice(2, 4);
    await page.getByRole('checkbox', { name: `Sélectionner ${a}` }).check();
    await page.getByRole('checkbox', { name: `Sélectionner ${b}` }).check();
    await actionButton(page).and(page.getByRole('button', { name: 'Action pour 2 sélectionnés' })).click();
    await page.getByRole('menuitem', { name: 'Exporter', exact: true }).click();
    await page.getByRole('radio', { name: /XLSX/ }).check();
    await page.getByRole('button', { name: "Lancer l'export" }).click();
    const item = newestExport(page);
    await item.getByRole('heading', { name: 'Exporter · XLSX' }).waitFor();
    await waitCompleted(item);
    await expect(item.innerText()).resolves.toMatch(/2 \/ 2 lignes/);
    const numbers = await xlsxNumbers(await download(page, item));
    expect(numbers.sort()).toEqual([a, b].sort());
    await shot(page, '2-export-xlsx-completed');
    // The README's picture: made by this run when missing or asked for
    // (UPDATE_SCREENSHOTS=1), so that a plain `npm test` leaves the tree clean.
    const readmePicture = path.join(ROOT, 'docs', 'page.png');
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(readmePicture)) await page.screenshot({ path: readmePicture });
    // The history survives a reload.
    await page.reload();
    await newestExport(page).getByRole('link', { name: 'Télécharger' }).waitFor();
    await page.close();
  });

  test('two rows ticked → Exporter les écritures comptables (FEC by default) → a balanced FEC file of those two documents', async () => {
    const page = await signedIn();
    const [a, b] = (await rowNumbers(page)).slice(0, 2);
    await page.getByRole('checkbox', { name: `Sélectionner ${a}` }).check();
    await page.getByRole('checkbox', { name: `Sélectionner ${b}` }).check();
    await page.getByRole('button', { name: 'Action pour 2 sélectionnés' }).click();
    await page.getByRole('menuitem', { name: 'Exporter les écritures comptables' }).click();
    await expect(page.getByRole('radio', { name: /FEC/ }).isChecked()).resolves.toBe(true);
    await page.getByRole('button', { name: "Lancer l'export" }).click();
    const item = newestExport(page);
    await item.getByRole('heading', { name: 'Exporter les écritures comptables · FEC' }).waitFor();
    await waitCompleted(item);
    const text = (await download(page, item)).toString('latin1');
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines[0].split('\t').slice(0, 3)).toEqual(['JournalCode', 'JournalLib', 'EcritureNum']);
    const body = lines.slice(1).map((l) => l.split('\t'));
    expect(body.every((f) => f.length === 18)).toBe(true);
    expect(new Set(body.map((f) => f[8]))).toEqual(new Set([a, b]));
    const cents = (v: string) => BigInt(v.replace(',', ''));
    expect(body.reduce((t, f) => t + cents(f[11]), 0n)).toBe(body.reduce((t, f) => t + cents(f[12]), 0n));
    await shot(page, '2b-export-fec-completed');
    await page.close();
  });

  test('Exporter les écritures comptables runs the pre-flight check: counts and totals, and a blocking problem disables the launch', async () => {
    const page = await signedIn();
    const [a] = await rowNumbers(page);
    const [{ payer_id: payerId, customer_identifier: before }] = await ds.query(
      `SELECT p.id AS payer_id, p.customer_identifier FROM invoices i JOIN payers p ON p.id = i.payer_id WHERE i.tenant_id = $1 AND i.number = $2`, [tenantId, a]);
    await ds.query(`UPDATE payers SET customer_identifier = 'CLIENT-TROP-LONG' WHERE id = $1`, [payerId]);
    try {
      await page.getByRole('checkbox', { name: `Sélectionner ${a}` }).check();
      await page.getByRole('button', { name: 'Action pour 1 sélectionné' }).click();
      await page.getByRole('menuitem', { name: 'Exporter les écritures comptables' }).click();
      const dialog = page.getByRole('dialog');
      // FEC: no identifier width, the check passes and shows the entry, its lines and equal totals.
      await dialog.getByText(/^1 écriture, \d+ lignes? · débit [\d,]+ € · crédit [\d,]+ €$/).waitFor();
      await expect(page.getByRole('button', { name: "Lancer l'export" }).isEnabled()).resolves.toBe(true);
      // Quadra: the customer account is longer than 8 characters: refused, and said so before launching.
      await page.getByRole('radio', { name: /Quadra/ }).check();
      await dialog.getByRole('alert').getByText(/AUXILIARY_TOO_LONG : CompAuxNum dépasse 8 caractères \(1 document : /).waitFor();
      await expect(page.getByRole('button', { name: "Lancer l'export" }).isDisabled()).resolves.toBe(true);
      await dialog.getByText(/Lancement impossible/).waitFor();
      await shot(page, '2c-accounting-preflight-blocked');
      // Sage 50 (11 characters at most... 16 here) is refused too; Cegid has no width: launch enabled again.
      await page.getByRole('radio', { name: /Cegid/ }).check();
      // Quadra's result stays on screen while Cegid's check runs: wait for the launch to come back, then for the problem to be gone.
      await dialog.locator('button:enabled', { hasText: "Lancer l'export" }).waitFor();
      await dialog.getByText(/^1 écriture/).waitFor();
      await expect(dialog.getByText(/AUXILIARY_TOO_LONG/).count()).resolves.toBe(0);
    } finally {
      await ds.query(`UPDATE payers SET customer_identifier = $2 WHERE id = $1`, [payerId, before]);
      await page.close();
    }
  });

  test('"Tous les résultats" with a filter, one row unticked on page 2 → lines CSV = the filter\'s lines minus that invoice', async () => {
    const page = await signedIn();
    // A ticked row, then a filter: the selection is cleared, and the page says so.
    await page.getByRole('checkbox', { name: /^Sélectionner / }).first().check();
    await page.getByRole('combobox', { name: 'Type de pièce' }).selectOption({ label: 'Factures' });
    await page.getByText(/Le filtre a changé : la sélection \(1 pièce\) a été effacée/).waitFor();
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1 AND type = 'INVOICE'`, [tenantId]);
    expect(n).toBeGreaterThan(50);
    await page.getByText(`1–50 sur ${n} résultats`).waitFor();
    await expect(actionButton(page).isDisabled()).resolves.toBe(true);

    await page.getByRole('checkbox', { name: 'Tous les résultats' }).check();
    await page.getByRole('button', { name: `Action pour ${n} sélectionnés` }).waitFor();
    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByText(`51–100 sur ${n} résultats`).waitFor();
    const excluded = (await rowNumbers(page))[3];
    const box = page.getByRole('checkbox', { name: `Sélectionner ${excluded}` });
    expect(await box.isChecked()).toBe(true);
    await box.uncheck();
    await page.getByRole('button', { name: `Action pour ${n - 1} sélectionnés` }).click();
    await page.getByRole('menuitem', { name: 'Exporter les lignes de facturation' }).click();
    await page.getByRole('radio', { name: /CSV/ }).check();

    // The request is the filter and the exclusion, never a list of every id.
    const sent = page.waitForRequest((r) => r.url().endsWith('/graphql') && (r.postData() ?? '').includes('RequestExport'));
    await page.getByRole('button', { name: "Lancer l'export" }).click();
    const selection = JSON.parse((await sent).postData()!).variables.input.selection;
    const [{ id: excludedId }] = await ds.query(`SELECT id FROM invoices WHERE tenant_id = $1 AND number = $2`, [tenantId, excluded]);
    expect(selection).toEqual({ filter: { types: ['INVOICE'] }, excludedInvoiceIds: [excludedId] });

    const item = newestExport(page);
    await item.getByRole('heading', { name: 'Exporter les lignes de facturation · CSV' }).waitFor();
    await waitCompleted(item);
    const csv = readCsv(await download(page, item), 'fr-FR');
    expect(csv.header).toEqual(FR_HEADERS.INVOICE_LINES);
    const numberCol = csv.header.indexOf('N° de pièce');
    const lineCol = csv.header.indexOf('N° de ligne');
    const got = csv.rows.map((r) => `${r[numberCol]}#${r[lineCol]}`).sort();
    const want = (
      await ds.query(
        `SELECT i.number, l.position FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id
          WHERE i.tenant_id = $1 AND i.type = 'INVOICE' AND i.id <> $2`,
        [tenantId, excludedId],
      )
    ).map((r: { number: string; position: number }) => `${r.number}#${r.position}`).sort();
    expect(got).toEqual(want);
    expect(got.some((k) => k.startsWith(`${excluded}#`))).toBe(false);
    await shot(page, '3-all-results-minus-one-csv');
    await page.close();
  });

  test('Annuler stops a running export: it ends "Annulé" and offers no download', async () => {
    const page = await signedIn();
    // Hold the billing lines so that the export stays running until the click.
    const blocker = ds.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    try {
      await blocker.query('LOCK TABLE invoice_lines IN ACCESS EXCLUSIVE MODE');
      await page.getByRole('checkbox', { name: 'Tous les résultats' }).check();
      await page.getByRole('button', { name: 'Action pour 120 sélectionnés' }).click();
      await page.getByRole('menuitem', { name: 'Exporter les lignes de facturation' }).click();
      await page.getByRole('button', { name: "Lancer l'export" }).click();
      const item = newestExport(page);
      await item.getByText('En cours').waitFor({ timeout: 20_000 });
      await item.getByRole('button', { name: 'Annuler' }).click();
      await item.getByText('Annulé').waitFor();
      await expect(item.getByRole('button', { name: 'Annuler' }).count()).resolves.toBe(0);
      await expect(item.getByRole('link', { name: 'Télécharger' }).count()).resolves.toBe(0);
      await shot(page, '4-cancelled');
    } finally {
      await blocker.rollbackTransaction();
      await blocker.release();
    }
    const [row] = await ds.query(`SELECT status FROM invoice_exports WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1`, [tenantId]);
    expect(row.status).toBe('CANCELLED');
    await page.close();
  });

  test('a VIEWER is not offered the export (and is told why), refusals are in French with their code, a bad token brings the sign-in back', async () => {
    // Pasted token (no fragment), VIEWER role.
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('textbox', { name: "Jeton d'accès (JWT)" }).fill(app.token(tenantId, [Role.VIEWER], 'viewer-1'));
    await page.getByRole('button', { name: 'Se connecter' }).click();
    const first = page.getByRole('checkbox', { name: /^Sélectionner / }).first();
    await first.check();
    // Issue 19: the page reads the roles and spares the click the API would refuse.
    expect(await actionButton(page).isDisabled()).toBe(true);
    await page.getByText(/Votre rôle \(VIEWER\) permet de consulter .* ACCOUNTANT ou ADMIN/).first().waitFor();
    await shot(page, '5-forbidden');

    // BAD_USER_INPUT from the list: in French with its code, and nothing left to select.
    await page.getByRole('searchbox', { name: 'Rechercher' }).fill('x'.repeat(201));
    await page.getByRole('alert').filter({ hasText: 'Liste indisponible (BAD_USER_INPUT) : La recherche est trop longue' }).waitFor();
    await expect(page.getByRole('button', { name: 'Action pour 0 sélectionné' }).isDisabled()).resolves.toBe(true);
    await page.getByRole('searchbox', { name: 'Rechercher' }).fill('');
    // A year the API would refuse is not sent; the field says why.
    await page.getByRole('textbox', { name: 'Année de facturation' }).fill('2018/');
    await page.getByText('Format : 2018/2019 ou 2015 (non appliqué)').waitFor();

    // A token the service refuses: a clear message and the sign-in form again.
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${base}/#token=${signToken('not-the-secret', { tenantId, userId: 'x', roles: [Role.ACCOUNTANT] })}`);
    await page.getByRole('alert').getByText(/Le jeton a été refusé par le service/).waitFor();
    await page.getByRole('textbox', { name: "Jeton d'accès (JWT)" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('invoice-export.token'))).toBeNull();
    // An expired one says so before anything is asked of the service.
    await page.goto(`${base}/#token=${signToken(app.config.jwtSecret, { tenantId, userId: 'x', roles: [Role.ACCOUNTANT] }, -60)}`);
    await page.getByRole('alert').getByText(/Ce jeton a expiré/).waitFor();
    await shot(page, '6-refused-token');
    await page.close();
  });

  test('keyboard only: tick two rows with Space, open the menu with Enter (Escape closes it), export, download', async () => {
    const page = await signedIn();
    const [a, b] = (await rowNumbers(page)).slice(5, 7);
    await page.locator('body').focus();
    await tabTo(page, new RegExp(`^Sélectionner ${a}$`));
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none'); // visible focus
    await page.keyboard.press('Space');
    await tabTo(page, new RegExp(`^Sélectionner ${b}$`));
    await page.keyboard.press('Space');
    await tabTo(page, /^Action pour 2 sélectionnés/, { back: true });
    await page.keyboard.press('Enter');
    await page.getByRole('menu').waitFor();
    // The menu moves the focus to its first item once it is drawn (an effect after the render): wait for it as a user would.
    await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'menuitem', null, { timeout: 5_000 });
    expect(await focusedName(page)).toBe('Exporter');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    expect(await focusedName(page)).toMatch(/^Action pour 2 sélectionnés/);
    await page.keyboard.press('Enter');
    await page.getByRole('menu').waitFor();
    // The menu moves the focus to its first item once rendered: Enter before that would press the menu button again.
    await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'menuitem');
    await page.keyboard.press('Enter'); // "Exporter"
    await page.getByRole('dialog').waitFor();
    await expect(page.getByRole('radio', { name: /XLSX/ }).isChecked()).resolves.toBe(true);
    await tabTo(page, /^Lancer l'export$/);
    await page.keyboard.press('Enter');
    const item = newestExport(page);
    await waitCompleted(item);
    await tabTo(page, /^Télécharger$/);
    const numbers = await xlsxNumbers(await download(page, item, true));
    expect(numbers.sort()).toEqual([a, b].sort());
    await shot(page, '7-keyboard-only');
    await page.close();
  });

  test('a dropped WebSocket: graphql-ws reconnects, the page says so meanwhile, and the export still ends "Terminé"', async () => {
    const sockets: { destroy(): void }[] = [];
    const track = (_req: unknown, socket: { destroy(): void }) => sockets.push(socket);
    const httpServer = app.running.api!.httpServer;
    httpServer.on('upgrade', track);
    const worker = app.running.worker!; // every lane (small exports have their own)
    const page = await signedIn();
    try {
      await worker.pause();
      await page.getByRole('checkbox', { name: /^Sélectionner / }).first().check();
      await actionButton(page).click();
      await page.getByRole('menuitem', { name: 'Exporter', exact: true }).click();
      await page.getByRole('button', { name: "Lancer l'export" }).click();
      const item = newestExport(page);
      await item.getByText('En attente').waitFor();
      for (let i = 0; i < 50 && sockets.length === 0; i++) await page.waitForTimeout(100);
      expect(sockets.length).toBeGreaterThan(0);
      for (const s of sockets) s.destroy();
      await page.getByText('Connexion temps réel perdue').waitFor();
      worker.resume(); // finishes while the page is (probably) still disconnected
      await waitCompleted(item);
      await page.getByText('Connexion temps réel perdue').waitFor({ state: 'detached' });
      await shot(page, '8-websocket-dropped-then-completed');
    } finally {
      httpServer.off('upgrade', track);
      worker.resume();
    }
    await page.close();
  });

  test('at 390×844 every control stays on screen (the table scrolls inside its own box)', async () => {
    const page = await signedIn({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => (document as unknown as { documentElement: { scrollWidth: number } }).documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole('checkbox', { name: /^Sélectionner / }).first().check();
    await actionButton(page).click();
    await page.getByRole('menuitem', { name: 'Exporter les lignes de facturation' }).waitFor();
    await shot(page, '9-phone');
    await page.close();
  });

  test("the Journal d'audit view: offered to an ADMIN only, newest first, filtered by action", async () => {
    // An export requested and its URL read by an accountant of this tenant: two events to find.
    const accountant = app.token(tenantId, [Role.ACCOUNTANT], 'comptable-audit');
    const [invoice] = await ds.query(`SELECT id FROM invoices WHERE tenant_id = $1 LIMIT 1`, [tenantId]);
    const req = await app.gql('mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id } }',
      { input: { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: [invoice.id] } } }, accountant);
    const cancelled = await app.gql('mutation($id: ID!) { cancelInvoiceExport(id: $id) { id } }', { id: req.data.requestInvoiceExport.id }, accountant);
    expect(cancelled.errors).toBeUndefined();

    // The accountant's page has no such view.
    const plain = await signedIn();
    await plain.waitForTimeout(500);
    expect(await plain.getByRole('button', { name: "Journal d'audit" }).count()).toBe(0);
    await plain.close();

    const page = await signedIn(undefined, app.token(tenantId, [Role.ADMIN], 'directrice'));
    await page.getByRole('button', { name: "Journal d'audit" }).click();
    const journal = page.getByRole('table', { name: "Journal d'audit" });
    await journal.getByRole('row', { name: /Export annulé/ }).first().waitFor();
    expect(await page.getByRole('table', { name: 'Factures et avoirs' }).isVisible()).toBe(false);
    const rows = await journal.getByRole('row').allInnerTexts();
    // Header, then newest first: the cancellation before the request, both by the accountant.
    const cancelRow = rows.findIndex((r) => r.includes('Export annulé') && r.includes('comptable-audit'));
    const requestRow = rows.findIndex((r) => r.includes('Export demandé') && r.includes('comptable-audit'));
    expect(cancelRow).toBeGreaterThan(0);
    expect(requestRow).toBeGreaterThan(cancelRow);
    expect(rows[cancelRow]).toContain(req.data.requestInvoiceExport.id);
    await shot(page, '10-audit-journal');

    await page.getByRole('combobox', { name: 'Action' }).selectOption({ label: 'Export annulé' });
    await journal.getByRole('row', { name: /Export demandé/ }).first().waitFor({ state: 'detached' });
    const filtered = (await journal.getByRole('row').allInnerTexts()).slice(1);
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((r) => r.includes('Export annulé'))).toBe(true);

    // Back to the list, as it was.
    await page.getByRole('button', { name: 'Factures et avoirs' }).click();
    await page.getByRole('table', { name: 'Factures et avoirs' }).waitFor();
    await page.close();
  });
});
