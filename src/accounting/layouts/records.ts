/**
 * The two record builders of the importer layouts. Values are byte strings
 * (layouts/text.ts): a width is a number of bytes of the encoded file.
 */

/** A fixed-width record, filled field by field in position order; asserted to have its exact length. */
export class FixedRecord {
  private text = '';

  constructor(
    private readonly name: string,
    readonly length: number,
  ) {}

  /** `bytes` at position `pos` (1-based), padded with spaces to `len`; left-aligned unless `right`. */
  field(pos: number, len: number, bytes: string, align: 'left' | 'right' = 'left'): this {
    if (pos !== this.text.length + 1) throw new Error(`${this.name} record: field at ${pos} follows byte ${this.text.length}`);
    if (bytes.length > len) throw new Error(`${this.name} record: ${bytes.length} bytes at ${pos} do not fit ${len}`);
    this.text += align === 'left' ? bytes.padEnd(len, ' ') : bytes.padStart(len, ' ');
    return this;
  }

  blank(pos: number, len: number): this {
    return this.field(pos, len, '');
  }

  build(): string {
    if (this.text.length !== this.length) throw new Error(`${this.name} record is ${this.text.length} bytes, not ${this.length}`);
    return this.text;
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
