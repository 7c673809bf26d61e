import 'reflect-metadata';
import { types } from 'pg';
import { DataSource } from 'typeorm';
import { ENTITIES } from '../entities';
import { InitialSchema1764201600000 } from './migrations/1764201600000-initial-schema';
import { FoldNormalizesUnicode1764288000000 } from './migrations/1764288000000-fold-normalizes-unicode';
import { AttemptLeases1764300000000 } from './migrations/1764300000000-attempt-leases';
import { Accounting1764400000000 } from './migrations/1764400000000-accounting';
import { TenantSearchIndexes1765000000000 } from './migrations/1765000000000-tenant-search-indexes';
import { TraceParent1765050000000 } from './migrations/1765050000000-trace-parent';
import { AuditEvents1765200000000 } from './migrations/1765200000000-audit-events';
import { ImportLayouts1765300000000 } from './migrations/1765300000000-import-layouts';
import { ExportProfiles1765400000000 } from './migrations/1765400000000-export-profiles';
import { SearchWithoutPendingList1765500000000 } from './migrations/1765500000000-search-without-pending-list';
import { LighterTransferMarks1765600000000 } from './migrations/1765600000000-lighter-transfer-marks';
import { ProfilesInImporterLayouts1765700000000 } from './migrations/1765700000000-profiles-in-importer-layouts';
import { TransferMarksWithoutInvoiceLocks1765800000000 } from './migrations/1765800000000-transfer-marks-without-invoice-locks';
import { TransferMarksKeyedByInvoice1765900000000 } from './migrations/1765900000000-transfer-marks-keyed-by-invoice';

// A `date` is a calendar date: keep PostgreSQL's yyyy-mm-dd text instead of a
// JS Date at local midnight, which shifts by a day in zones west of UTC.
types.setTypeParser(types.builtins.DATE, (v) => v);
// count(*) and bigint sums of small numbers: exact as JS numbers below 2^53.
// Money (numeric) stays a string on purpose.
types.setTypeParser(types.builtins.INT8, (v) => Number(v));

export const MIGRATIONS = [
  InitialSchema1764201600000, FoldNormalizesUnicode1764288000000, AttemptLeases1764300000000, Accounting1764400000000,
  TenantSearchIndexes1765000000000, TraceParent1765050000000, AuditEvents1765200000000, ImportLayouts1765300000000,
  ExportProfiles1765400000000, SearchWithoutPendingList1765500000000, LighterTransferMarks1765600000000,
  ProfilesInImporterLayouts1765700000000, TransferMarksWithoutInvoiceLocks1765800000000, TransferMarksKeyedByInvoice1765900000000,
];

export function createDataSource(databaseUrl: string, opts: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    logging: false,
    poolSize: opts.poolSize ?? 10,
    applicationName: opts.applicationName ?? 'invoice-export',
    // No JIT: the service's queries are short (the list, its counts: compiling would cost more than running,
    // docs/search.md) or streamed exports, whose time goes to the writer, not to PostgreSQL's expressions.
    extra: { connectionTimeoutMillis: 5000, options: '-c jit=off' },
  });
}
