/**
 * Profiles, scheduled sends and roles on the page (docs/profiles.md, issue 19)
 * in Debian's Chromium against the real service started here: what each
 * role is offered, the profile picker of the export dialog, the region
 * "Envois programmés", and refusals shown in French with their code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Role } from '../../src/entities/enums';
import { seedTenant } from '../../dev/seed/seed';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { ROOT } from '../helpers/processes';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

jest.setTimeout(60_000);

let app: TestApp;
let context: BrowserContext;
let userDataDir: string;
let base: string;
let tenantId: string;
let profileId: string;

function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = path.join(dir, e.name);
    return Math.max(max, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }, 0);
}

async function signedIn(role: Role): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/#token=${app.token(tenantId, [role], `${role.toLowerCase()}@ecole.example`)}`);
  await page.getByRole('table', { name: 'Factures et avoirs' }).getByRole('checkbox', { name: /^Sélectionner / }).first().waitFor();
  return page;
}

const gql = (query: string, variables: Record<string, unknown>, role = Role.ADMIN) => app.gql(query, variables, app.token(tenantId, [role]));

describeBrowser('profiles, scheduled sends and roles on the page', () => {
  beforeAll(async () => {
    const built = path.join(ROOT, 'web', 'dist', 'index.html');
    if (!existsSync(built) || newestMtime(path.join(ROOT, 'web', 'src')) > statSync(built).mtimeMs) {
      execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
    }
    // role 'all' without SMTP_URL: the embedded mail sink makes schedules possible.
    app = await startTestApp();
    base = app.url.replace(/\/graphql$/, '');
    tenantId = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('profils'), invoices: 60, ifExists: 'duplicate' })).tenantId;
    const profile = await gql(`mutation($input: ExportProfileInput!) { createExportProfile(input: $input) { id } }`, {
      input: {
        name: 'Cabinet Dupont',
        kind: 'INVOICES',
        format: 'CSV',
        columns: [{ key: 'number' }, { key: 'billingDate', header: 'Date' }, { key: 'amountDue', header: 'Montant TTC' }],
        csv: { encoding: 'WINDOWS_1252', dateFormat: 'ddmmyyyy' },
      },
    });
    expect(profile.errors).toBeUndefined();
    profileId = profile.data.createExportProfile.id;
    const schedule = await gql(`mutation($input: ExportScheduleInput!) { createExportSchedule(input: $input) { id } }`, {
      input: { profileId, cadence: 'MONTHLY', day: 1, hour: 6, recipients: ['cabinet@compta.example'], selection: 'PREVIOUS_PERIOD' },
    });
    expect(schedule.errors).toBeUndefined();
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'invoice-export-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: ARGS, headless: true, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await app?.stop();
  });

  it('an ACCOUNTANT picks the saved profile: the file has its columns, headers, encoding and dates', async () => {
    const page = await signedIn(Role.ACCOUNTANT);
    const boxes = page.getByRole('checkbox', { name: /^Sélectionner / });
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByRole('button', { name: 'Action pour 2 sélectionnés' }).click();
    await page.getByRole('menuitem', { name: 'Exporter', exact: true }).click();
    await page.getByLabel("Profil d'export").selectOption({ label: 'Cabinet Dupont (CSV)' });
    await page.getByText('Colonnes du profil : N° de pièce, Date, Montant TTC').waitFor();
    await page.getByRole('button', { name: "Lancer l'export" }).click();
    const item = page.getByRole('region', { name: 'Exports' }).getByRole('listitem').first();
    await item.getByText('Terminé').waitFor({ timeout: 30_000 });
    const waiting = page.waitForEvent('download');
    await item.getByRole('link', { name: 'Télécharger' }).click();
    const file = readFileSync(await (await waiting).path());
    const lines = iconv.decode(file, 'windows-1252').split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('N° de pièce;Date;Montant TTC');
    expect(file.includes(Buffer.from([0x4e, 0xb0]))).toBe(true); // "N°" in one byte
    expect(lines.slice(1)).toHaveLength(2);
    for (const line of lines.slice(1)) expect(line).toMatch(/^[FA]\d+;\d{8};-?\d+,\d{2}$/);
  });

  it('a VIEWER is offered only what the role allows, and told why', async () => {
    const page = await signedIn(Role.VIEWER);
    await page.getByRole('checkbox', { name: /^Sélectionner / }).first().check();
    const action = page.getByRole('button', { name: 'Action pour 1 sélectionné' });
    expect(await action.isDisabled()).toBe(true);
    const why = await page.locator('#action-absent').textContent();
    expect(why).toContain('Votre rôle (VIEWER)');
    expect(why).toContain('ACCOUNTANT ou ADMIN');
    // The completed export of the previous test is listed, without a download link.
    const exportsRegion = page.getByRole('region', { name: 'Exports' });
    await exportsRegion.getByText('Terminé').first().waitFor();
    expect(await exportsRegion.getByRole('link', { name: 'Télécharger' }).count()).toBe(0);
    // The scheduled sends are read, not run.
    const schedules = page.getByRole('region', { name: 'Envois programmés' });
    await schedules.getByText('Chaque mois, le 1er à 6 h · à cabinet@compta.example').waitFor();
    expect(await schedules.getByRole('button', { name: 'Lancer maintenant' }).count()).toBe(0);
    await schedules.getByText('demande le rôle ADMIN').waitFor();
  });

  it('an ADMIN runs a scheduled send now, told the outcome in French', async () => {
    const page = await signedIn(Role.ADMIN);
    const schedules = page.getByRole('region', { name: 'Envois programmés' });
    await schedules.getByRole('button', { name: 'Lancer maintenant' }).click();
    // The seeded school bills in past school years: the month just ended is empty.
    await schedules.getByRole('status').getByText(/rien à envoyer|Envoi lancé/).waitFor();
    await schedules.getByText(/Dernier envoi \(période du \d{2}\/\d{2}\/\d{4}\) : (période vide|export en cours|envoyé)/).waitFor();

    // A new one: a refusal first (day 31), in French with its code; then created and listed.
    const form = schedules.getByRole('form', { name: 'Nouvel envoi programmé' });
    await form.getByRole('combobox', { name: 'Profil', exact: true }).selectOption({ label: 'Cabinet Dupont' });
    await form.getByRole('textbox', { name: 'Jour', exact: true }).fill('31');
    await form.getByRole('textbox', { name: 'Destinataires', exact: true }).fill('a@compta.example, b@compta.example');
    await form.getByRole('button', { name: "Créer l'envoi" }).click();
    await form.getByRole('status').filter({ hasText: 'Création refusée (BAD_USER_INPUT) : La demande a été refusée' }).waitFor();
    await form.getByRole('textbox', { name: 'Jour', exact: true }).fill('15');
    await form.getByRole('button', { name: "Créer l'envoi" }).click();
    await form.getByRole('status').filter({ hasText: 'Envoi programmé créé.' }).waitFor();
    await schedules.getByText('Chaque mois, le 15 à 6 h · à a@compta.example, b@compta.example').waitFor();
    const { data } = await gql(`{ exportSchedules { day recipients } }`, {}, Role.VIEWER);
    expect(data.exportSchedules).toContainEqual({ day: 15, recipients: ['a@compta.example', 'b@compta.example'] });

    // Changed: another hour, and paused.
    const item = schedules.getByRole('listitem').filter({ hasText: 'Chaque mois, le 15 à 6 h' });
    await item.getByRole('button', { name: 'Modifier' }).click();
    const edit = item.getByRole('form', { name: "Modifier l'envoi Cabinet Dupont" });
    await edit.getByRole('textbox', { name: 'Heure', exact: true }).fill('7');
    await edit.getByRole('checkbox', { name: 'Actif' }).uncheck();
    await edit.getByRole('button', { name: 'Enregistrer' }).click();
    await schedules.getByText('Chaque mois, le 15 à 7 h · à a@compta.example, b@compta.example · désactivé').waitFor();
    await schedules.getByRole('status').filter({ hasText: 'Envoi programmé modifié.' }).waitFor();
    const after = await gql(`{ exportSchedules { day hour enabled recipients } }`, {}, Role.VIEWER);
    expect(after.data.exportSchedules).toContainEqual({ day: 15, hour: 7, enabled: false, recipients: ['a@compta.example', 'b@compta.example'] });
  });

  it('the column picker: tick, reorder, rename, CSV options, save as a profile, export with it', async () => {
    const page = await signedIn(Role.ACCOUNTANT);
    await page.getByRole('checkbox', { name: /^Sélectionner / }).first().check();
    await page.getByRole('button', { name: 'Action pour 1 sélectionné' }).click();
    await page.getByRole('menuitem', { name: 'Exporter', exact: true }).click();
    await page.getByRole('radio', { name: /CSV/ }).check();
    await page.getByText('Choisir les colonnes et le format CSV').click();
    const columns = page.getByRole('list', { name: 'Colonnes du fichier' });
    for (const box of await columns.getByRole('checkbox').all()) {
      const name = (await box.getAttribute('aria-label')) ?? '';
      if (name !== 'Inclure N° de pièce' && name !== 'Inclure Montant dû') await box.uncheck();
    }
    // "Montant dû" up to the first place, renamed.
    for (let i = 0; i < 7; i++) {
      const up = page.getByRole('button', { name: 'Monter Montant dû' });
      if (await up.isDisabled()) break;
      await up.click();
    }
    await page.getByRole('textbox', { name: 'En-tête de Montant dû' }).fill('TTC');
    await page.getByRole('combobox', { name: 'Encodage', exact: true }).selectOption('WINDOWS_1252');
    await page.getByRole('combobox', { name: 'Séparateur', exact: true }).selectOption(',');
    await page.getByRole('combobox', { name: 'Séparateur décimal', exact: true }).selectOption('.');
    await page.getByRole('textbox', { name: 'Nom du profil', exact: true }).fill('Mon import');
    await page.getByRole('button', { name: 'Enregistrer comme profil' }).click();
    await page.getByRole('status').filter({ hasText: 'Profil « Mon import » enregistré et choisi.' }).waitFor();
    await page.getByText(/^Colonnes du profil : /).waitFor();
    const profiles = await gql(`{ exportProfiles { name format columns { key header } csv { encoding separator decimalSeparator } } }`, {}, Role.VIEWER);
    const saved = profiles.data.exportProfiles.find((p: { name: string }) => p.name === 'Mon import');
    expect(saved).toEqual({ name: 'Mon import', format: 'CSV', columns: [{ key: 'amountDue', header: 'TTC' }, { key: 'number', header: 'N° de pièce' }], csv: { encoding: 'WINDOWS_1252', separator: ',', decimalSeparator: '.' } });
    await page.getByRole('button', { name: "Lancer l'export" }).click();
    await page.getByRole('status').filter({ hasText: 'Export demandé' }).waitFor();
    const item = page.getByRole('region', { name: 'Exports' }).getByRole('listitem').first();
    await item.getByText('Terminé').waitFor({ timeout: 30_000 });
    const waiting = page.waitForEvent('download');
    await item.getByRole('link', { name: 'Télécharger' }).click();
    const lines = iconv.decode(readFileSync(await (await waiting).path()), 'windows-1252').split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('TTC,N° de pièce');
    expect(lines[1]).toMatch(/^-?\d+\.\d{2},[FA]\d+$/);
  });

  it('a refusal is shown in French with its code, never the API’s English sentence', async () => {
    const page = await signedIn(Role.ACCOUNTANT);
    await page.getByRole('checkbox', { name: /^Sélectionner / }).first().check();
    await page.getByRole('button', { name: 'Action pour 1 sélectionné' }).click();
    await page.getByRole('menuitem', { name: 'Exporter', exact: true }).click();
    await page.getByLabel("Profil d'export").selectOption({ label: 'Cabinet Dupont (CSV)' });
    // Meanwhile someone deleted the profile (its schedule first).
    const { data } = await gql(`{ exportSchedules { id } }`, {});
    for (const s of data.exportSchedules) await gql(`mutation($id: ID!) { deleteExportSchedule(id: $id) }`, { id: s.id });
    expect((await gql(`mutation($id: ID!) { deleteExportProfile(id: $id) }`, { id: profileId })).data.deleteExportProfile).toBe(true);
    await page.getByRole('button', { name: "Lancer l'export" }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Export refusé' });
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toBe('Export refusé (BAD_USER_INPUT) : La demande a été refusée : une valeur ne convient pas.');
    expect(text).not.toMatch(/profile|no export/i);
  });
});
