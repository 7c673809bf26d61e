/**
 * Progress bars for a few exports followed at once. On a terminal the bars
 * are redrawn in place; elsewhere (CI, a pipe, a log file) a line is printed
 * at each status change and at half-way, so the output stays short.
 */

export interface BarState {
  status: string;
  processedRows: number;
  totalRows: number | null;
  progress: number;
}

const WIDTH = 24;
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED']);

const fmtInt = (n: number) => n.toLocaleString('en-GB');

export function bar(progress: number, width = WIDTH): string {
  const p = Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0));
  const full = Math.round(p * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

export function describe(s: BarState): string {
  const pct = `${String(Math.floor(Math.min(1, s.progress) * 100)).padStart(3)} %`;
  const rows = s.totalRows !== null ? `${fmtInt(s.processedRows)} / ${fmtInt(s.totalRows)} rows` : `${fmtInt(s.processedRows)} rows`;
  return `${bar(s.progress)} ${pct}  ${rows.padEnd(22)} ${s.status}`;
}

export class ProgressBoard {
  private readonly labels: string[] = [];
  private readonly states: (BarState | undefined)[] = [];
  private readonly lastPrinted: { status?: string; half?: boolean }[] = [];
  private drawn = 0;
  private readonly labelWidth: number;

  constructor(
    private readonly out: NodeJS.WriteStream,
    labels: string[],
    private readonly tty = out.isTTY === true,
  ) {
    this.labels = labels;
    this.labelWidth = Math.max(...labels.map((l) => l.length));
    for (let i = 0; i < labels.length; i++) {
      this.states.push(undefined);
      this.lastPrinted.push({});
    }
    if (this.tty) this.draw();
  }

  update(i: number, state: BarState): void {
    this.states[i] = state;
    if (this.tty) {
      this.draw();
      return;
    }
    const last = this.lastPrinted[i];
    const half = state.progress >= 0.5 && !FINAL.has(state.status);
    if (state.status !== last.status || (half && !last.half)) {
      last.status = state.status;
      if (half) last.half = true;
      this.out.write(`  ${this.labels[i].padEnd(this.labelWidth)}  ${describe(state)}\n`);
    }
  }

  private draw(): void {
    let text = this.drawn ? `\x1b[${this.drawn}A` : '';
    this.labels.forEach((label, i) => {
      const s = this.states[i];
      text += `\r\x1b[2K  ${label.padEnd(this.labelWidth)}  ${s ? describe(s) : `${bar(0)}   … waiting`}\n`;
    });
    this.drawn = this.labels.length;
    this.out.write(text);
  }
}
