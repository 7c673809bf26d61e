/**
 * The two record builders of the importer layouts. Values are byte strings
 * (layouts/text.ts): a width is a number of bytes of the encoded file.
 */

/**
 * A field of a fixed-width record, at its 1-based position: a constant
 * (`text`, padded once when the layout is built) or a slot filled by each
 * record, left-aligned unless `right`.
 */
export type FixedField =
  | { readonly pos: number; readonly len: number; readonly text: string }
  | { readonly pos: number; readonly len: number; readonly slot: string; readonly align?: 'left' | 'right' };

/** A constant field (spaces after `text`). */
export const fixed = (pos: number, len: number, text: string): FixedField => ({ pos, len, text });
/** Spaces for every record. */
export const blank = (pos: number, len: number): FixedField => ({ pos, len, text: '' });
/** A field each record fills. */
export const slot = (pos: number, len: number, name: string, align: 'left' | 'right' = 'left'): FixedField => ({ pos, len, slot: name, align });

interface Slot {
  readonly name: string;
  readonly len: number;
  readonly right: boolean;
  /** The constant bytes between this slot and the next one (or the end). */
  readonly after: string;
}

/**
 * A fixed-width record layout, its fields in position order: checked once
 * (each field follows the previous one, the whole has its exact length, a
 * constant fits its field), constants merged, so that a record is its slots'
 * values padded between the constants — one string per line, nothing else
 * to check but each value's width.
 */
export class FixedLayout {
  private readonly head: string;
  private readonly slots: Slot[] = [];

  constructor(
    private readonly name: string,
    readonly length: number,
    fields: readonly FixedField[],
  ) {
    let at = 1;
    let constant = '';
    let head: string | null = null;
    let open: { name: string; len: number; right: boolean } | null = null;
    // Each slot takes the constant bytes that follow it; the first constant bytes are the head.
    const endRun = () => {
      if (open) this.slots.push({ ...open, after: constant });
      else head = constant;
      constant = '';
    };
    for (const f of fields) {
      if (f.pos !== at) throw new Error(`${name} record: field at ${f.pos} follows byte ${at - 1}`);
      if ('text' in f) {
        if (f.text.length > f.len) throw new Error(`${name} record: the constant at ${f.pos} does not fit ${f.len} bytes`);
        constant += f.text.padEnd(f.len, ' ');
      } else {
        endRun();
        open = { name: f.slot, len: f.len, right: f.align === 'right' };
      }
      at += f.len;
    }
    endRun();
    if (at - 1 !== length) throw new Error(`${name} record is ${at - 1} bytes, not ${length}`);
    this.head = head ?? '';
  }

  /** The slot names, in the order `build` takes their values. */
  get slotNames(): string[] {
    return this.slots.map((s) => s.name);
  }

  /** One record: `values` are byte strings (layouts/text.ts), one per slot in position order. */
  build(values: readonly string[]): string {
    const slots = this.slots;
    if (values.length !== slots.length) throw new Error(`${this.name} record: ${values.length} values for ${slots.length} slots`);
    let out = this.head;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      const value = values[i];
      if (value.length > slot.len) throw new Error(`${this.name} record: ${value.length} bytes for ${slot.name} do not fit ${slot.len}`);
      out += (slot.right ? value.padStart(slot.len, ' ') : value.padEnd(slot.len, ' ')) + slot.after;
    }
    return out;
  }
}

/** A field written between quotes: it may hold the separator, never the quote. */
export interface QuotedField {
  quoted: string;
}

/**
 * A delimited record: fields joined by `separator`, `{ quoted }` fields
 * between `quote`s. A field holding what would break the record (the
 * separator unquoted, the quote, a line break) is a bug upstream — the text
 * pipeline replaces them and identifiers holding them are refused — and
 * stops the export.
 */
export function delimitedRecord(name: string, separator: string, fields: readonly (string | QuotedField)[], quote = '"'): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const text = typeof f === 'string' ? f : f.quoted;
    const breaks = text.includes('\r') || text.includes('\n') || (typeof f === 'string' ? text.includes(separator) : text.includes(quote));
    if (breaks) throw new Error(`${name} record: field ${i + 1} holds its separator, its quote or a line break`);
    if (i > 0) out += separator;
    out += typeof f === 'string' ? f : quote + f.quoted + quote;
  }
  return out;
}
