import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A saved profile may name the accountant's importer layout (QUADRA, XIMPORT,
 * EBP, CEGID, SAGE100; docs/accounting.md): `export_profiles` was created
 * with the formats of before the layouts, so saving such a profile broke its
 * CHECK (an internal error instead of the profile). `invoice_exports` has
 * accepted them since 1765300000000. A small table: the check is validated
 * at once.
 */
const ALL = `('XLSX','CSV','FEC','QUADRA','XIMPORT','EBP','CEGID','SAGE100')`;
const BEFORE = `('XLSX','CSV','FEC')`;

export class ProfilesInImporterLayouts1765700000000 implements MigrationInterface {
  name = 'ProfilesInImporterLayouts1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE export_profiles DROP CONSTRAINT export_profiles_format_check,
      ADD CONSTRAINT export_profiles_format_check CHECK (format IN ${ALL})`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM export_profiles WHERE format NOT IN ${BEFORE}`);
    await q.query(`ALTER TABLE export_profiles DROP CONSTRAINT export_profiles_format_check,
      ADD CONSTRAINT export_profiles_format_check CHECK (format IN ${BEFORE})`);
  }
}
