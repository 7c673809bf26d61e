import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Names written by other tools may carry decomposed accents ("e" + U+0301, as
 * macOS pastes them): fold them to NFC first so that "heloise" still finds
 * them. The function backs two indexes, which are rebuilt with it.
 */
export class FoldNormalizesUnicode1764288000000 implements MigrationInterface {
  name = 'FoldNormalizesUnicode1764288000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION ie_fold(t text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
        SELECT lower(translate(replace(replace(replace(replace(normalize(t, NFC), 'Œ', 'OE'), 'œ', 'oe'), 'Æ', 'AE'), 'æ', 'ae'),
          'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝŸýÿ',
          'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYYyy'))
      $$`);
    await q.query(`REINDEX INDEX payers_name_search_idx`);
    await q.query(`REINDEX INDEX invoices_number_search_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION ie_fold(t text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
        SELECT lower(translate(replace(replace(replace(replace(t, 'Œ', 'OE'), 'œ', 'oe'), 'Æ', 'AE'), 'æ', 'ae'),
          'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝŸýÿ',
          'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYYyy'))
      $$`);
    await q.query(`REINDEX INDEX payers_name_search_idx`);
    await q.query(`REINDEX INDEX invoices_number_search_idx`);
  }
}
