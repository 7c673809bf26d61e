/** What the chaos run and its faults share: its timing constants, its log, and the records it keeps. */

export const LEASE_MS = 5000;
export const RECONCILE_MS = 2000;
export const BUCKET = 'chaos-exports';
/** A RUNNING export whose lease expired this long ago, not taken over: stuck (issue 8, finding 6). */
export const STUCK_RUNNING_S = 30;

export const t0 = Date.now();
export const log = (msg: string) => process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);

export interface TenantInfo {
  name: string;
  tenantId: string;
  invoices: number;
  lines: number;
  ids: string[];
  token: string;
}

export interface Spec {
  at: number;
  tenant: number;
  kind: 'INVOICES' | 'INVOICE_LINES';
  format: 'XLSX' | 'CSV';
  selection: { filter?: Record<string, unknown>; invoiceIds?: string[]; excludedInvoiceIds?: string[] };
  idempotencyKey?: string;
  /** Send the same key a second time this many ms later. */
  repeatAfterMs?: number;
  cancelAfterMs?: number;
}

export interface Requested {
  spec: Spec;
  id?: string;
  repeatId?: string;
  refused?: { at: number; code: string; message: string; during: string[] };
  cancelSent?: boolean;
  cancelResult?: string;
  networkRetries: number;
}

export interface Row {
  id: string;
  tenant_id: string;
  status: string;
  attempts: number;
  lease_token: string | null;
  processed_rows: number;
  total_rows: number | null;
  waiting_reason: string | null;
  error_code: string | null;
  file_key: string | null;
  overdue_s: number | null;
}

export interface Fault {
  type: string;
  at: number;
  end?: number;
  details: Record<string, unknown>;
}

export interface Watch {
  kind: string;
  faultIndex: number;
  since: number;
  /** Export → lease token held by the attempt that was killed. */
  victims?: Map<string, string | null>;
  done?: Map<string, number>;
  firstCompletedAfter?: number;
  firstStartAfter?: number;
  /** Exports waiting or running when Redis was wiped: when each started again or ended. */
  pending?: Map<string, { token: string | null; status: string }>;
}

export type Anomaly = { kind: string; exportId?: string; detail: string };
