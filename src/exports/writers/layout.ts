import type { Writable } from 'node:stream';
import type { AccountingEntryLine } from '../../accounting/entries';
import { LayoutChecks, type ImportLayout, type LayoutLineWriter, type LayoutOptions } from '../../accounting/layouts/common';
import { describeProblems, type LayoutProblem } from '../../accounting/layouts/problems';
import { ExportRefusal, type ExportRefusalCode } from '../../errors';
import { DelimitedTextWriter } from './delimited';
import type { ExportSummary, ExportWriter } from './writer';

/** Lines already made of byte strings (layouts/text.ts): written as they are, CR LF after each, no header. */
class ByteLinesWriter extends DelimitedTextWriter<string> {
  constructor(output: Writable, bom: boolean) {
    super(output, [(line) => line], '', null, (text) => Buffer.from(text, 'latin1'), bom ? '\xef\xbb\xbf' : '');
  }
}

/**
 * The file of one importer layout: takes the entry lines from the accounting
 * kind's writer, checks every identifier and label as it goes, and writes
 * the records. Once a problem is found nothing more reaches the output, and
 * `finish` fails the export with every problem (ExportRefusal, code = the
 * first rule): no file is stored. Without an output (the pre-flight check)
 * it only checks.
 */
export class LayoutFileWriter implements ExportWriter<AccountingEntryLine> {
  readonly checks: LayoutChecks;
  private readonly writeLine: LayoutLineWriter;
  private readonly out: ByteLinesWriter | null;
  private count = 0;

  constructor(layout: ImportLayout, options: LayoutOptions, output: Writable | null) {
    this.checks = new LayoutChecks(layout.measureChars);
    this.writeLine = layout.lineWriter(this.checks, options);
    this.out = output ? new ByteLinesWriter(output, layout.bom) : null;
  }

  get rowCount(): number {
    return this.count;
  }

  async writeRow(line: AccountingEntryLine): Promise<void> {
    const record = this.writeLine(line);
    this.count++;
    if (this.out && this.checks.problems.size === 0) await this.out.writeRow(record);
  }

  async finish(summary: ExportSummary): Promise<void> {
    const problems = this.problems();
    if (problems.length) {
      const refusal = new ExportRefusal(problems[0].rule as ExportRefusalCode, `Nothing was exported: ${describeProblems(problems)}`);
      this.out?.abort(refusal);
      throw refusal;
    }
    await this.out?.finish(summary);
  }

  abort(reason?: Error): void {
    this.out?.abort(reason);
  }

  problems(): LayoutProblem[] {
    return this.checks.problems.list();
  }

  warnings(): LayoutProblem[] {
    return this.checks.warnings.list();
  }
}
