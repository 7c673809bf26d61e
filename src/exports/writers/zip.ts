import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { endOutput } from './end-output';

/*
 * A streaming ZIP container (APPNOTE.TXT 6.3) on node:zlib, for the XLSX
 * writer: small parts are deflated in one call and written with their sizes
 * in the local header; a large part (a sheet) is streamed through a raw
 * deflate stream — compression runs on libuv's thread pool, next to the
 * thread building the XML — with a data descriptor after it. CRC-32 is
 * `zlib.crc32` (native).
 *
 * ZIP64, as Go's archive/zip writes it: a streamed entry's data descriptor
 * has 8-byte sizes once a size passes 4 GiB; the central directory gets the
 * ZIP64 extra field for any size or offset past 4 GiB, and the ZIP64 end
 * records are written when the directory starts past 4 GiB or holds 65,535
 * entries or more. Local headers never carry ZIP64 fields (a streamed
 * entry's sizes are unknown when its header is written). `zip64: 'always'`
 * writes the central directory and its end in their ZIP64 form, as a file
 * past 4 GiB has them (for tests: such a file is too big to make in one).
 * Excel, JSZip (exceljs), Python's zipfile and Info-ZIP read those records;
 * LibreOffice 7.4 (Debian 12) refuses any archive that has them.
 */

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_EXTRA_ID = 0x0001;
const MAX_UINT32 = 0xffffffff;
const MAX_UINT16 = 0xffff;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8_NAME = 0x0800;
const METHOD_DEFLATE = 8;
const VERSION_DEFLATE = 20;
const VERSION_ZIP64 = 45;

export interface ZipWriterOptions {
  /** zlib level: 1 (fastest) to 9. */
  level?: number;
  zip64?: 'auto' | 'always';
  /** Entries' modification time (default: now). */
  date?: Date;
}

interface EntryRecord {
  name: Buffer;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

/** MS-DOS date and time (local fields, 2-second resolution; 1980 at the earliest). */
function dosDateTime(d: Date): { date: number; time: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
  };
}

function writeUInt64(buf: Buffer, value: number, offset: number): void {
  buf.writeBigUInt64LE(BigInt(value), offset);
}

/** A part being streamed: write its bytes, then close it. */
export interface ZipEntryStream {
  /** `consumed` is called once the compressor is done with `chunk` (which may then be reused). */
  write(chunk: Buffer, consumed?: () => void): void;
  /** Bytes handed to write() that the compressor and the output have not taken yet. */
  readonly pendingBytes: number;
  /** Resolves when the compressor has taken everything written so far (or the zip failed). */
  drained(): Promise<void>;
  /** Ends the entry: resolves once its last compressed byte and its data descriptor are written. */
  close(): Promise<void>;
}

/**
 * Writes a ZIP archive into `output`, one entry after the other. Errors (the
 * output's or the compressor's) are reported once through `onError`; after
 * one, every call is a no-op and `finish` rejects.
 */
export class ZipWriter {
  private readonly entries: EntryRecord[] = [];
  private offset = 0;
  private readonly level: number;
  private readonly always64: boolean;
  private readonly dos: { date: number; time: number };
  private streaming = false;
  private deflate: zlib.DeflateRaw | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly output: Writable,
    private readonly onError: (err: Error) => void,
    opts: ZipWriterOptions = {},
  ) {
    this.level = opts.level ?? 1;
    this.always64 = opts.zip64 === 'always';
    this.dos = dosDateTime(opts.date ?? new Date());
  }

  /** Bytes written into the output so far. */
  get bytesWritten(): number {
    return this.offset;
  }

  /** A whole part, deflated in one call. */
  addEntry(name: string, data: string | Buffer): void {
    if (this.failure) return;
    this.assertIdle();
    const raw = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const compressed = zlib.deflateRawSync(raw, { level: this.level });
    const entry = this.newEntry(name, 0);
    entry.crc = zlib.crc32(raw);
    entry.size = raw.length;
    entry.compressedSize = compressed.length;
    this.push(this.localHeader(entry, false));
    this.push(compressed);
  }

  /** A part streamed through the compressor; sizes and CRC follow it in a data descriptor. */
  openEntry(name: string): ZipEntryStream {
    this.assertIdle();
    const entry = this.newEntry(name, FLAG_DATA_DESCRIPTOR);
    this.push(this.localHeader(entry, true));
    this.streaming = true;
    // 64 KiB output chunks (zlib's default is 16 KiB): a quarter of the writes and events downstream.
    const deflate = zlib.createDeflateRaw({ level: this.level, chunkSize: 64 * 1024 });
    this.deflate = deflate;
    const output = this.output;
    deflate.on('error', (err) => this.fail(err));
    deflate.on('data', (chunk: Buffer) => {
      entry.compressedSize += chunk.length;
      if (!this.push(chunk)) {
        // The output is full: stop taking the compressor's output until it drains.
        deflate.pause();
        output.once('drain', () => deflate.resume());
      }
    });
    const ended = new Promise<void>((resolve) => {
      deflate.once('end', resolve);
      deflate.once('close', resolve); // destroyed (a failure): close() then checks `failure`
    });
    const self = this;
    return {
      write(chunk: Buffer, consumed?: () => void): void {
        if (self.failure) return;
        entry.crc = zlib.crc32(chunk, entry.crc);
        entry.size += chunk.length;
        deflate.write(chunk, consumed && ((err) => !err && consumed()));
      },
      get pendingBytes(): number {
        return deflate.writableLength + deflate.readableLength + output.writableLength;
      },
      drained(): Promise<void> {
        if (self.failure || !deflate.writableNeedDrain) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const done = () => {
            deflate.off('drain', done);
            deflate.off('close', done);
            resolve();
          };
          deflate.once('drain', done);
          deflate.once('close', done);
        });
      },
      async close(): Promise<void> {
        if (!self.failure) deflate.end();
        await ended;
        self.deflate = null;
        self.streaming = false;
        if (self.failure) return;
        const zip64 = entry.size > MAX_UINT32 || entry.compressedSize > MAX_UINT32;
        const d = Buffer.alloc(zip64 ? 24 : 16);
        d.writeUInt32LE(DATA_DESCRIPTOR, 0);
        d.writeUInt32LE(entry.crc >>> 0, 4);
        if (zip64) {
          writeUInt64(d, entry.compressedSize, 8);
          writeUInt64(d, entry.size, 16);
        } else {
          d.writeUInt32LE(entry.compressedSize, 8);
          d.writeUInt32LE(entry.size, 12);
        }
        self.push(d);
      },
    };
  }

  /** Writes the central directory and ends the output; resolves on its 'finish'. */
  finish(): Promise<void> {
    this.assertIdle();
    if (this.failure) return Promise.reject(this.failure);
    const cdStart = this.offset;
    for (const e of this.entries) this.push(this.centralHeader(e));
    const cdSize = this.offset - cdStart;
    const count = this.entries.length;
    if (this.always64 || cdStart >= MAX_UINT32 || cdSize >= MAX_UINT32 || count >= MAX_UINT16) {
      const eocd64At = this.offset;
      const z = Buffer.alloc(56 + 20);
      z.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY, 0);
      writeUInt64(z, 44, 4); // size of the rest of this record
      z.writeUInt16LE(VERSION_ZIP64, 12);
      z.writeUInt16LE(VERSION_ZIP64, 14);
      // disk numbers 0 (16, 20)
      writeUInt64(z, count, 24);
      writeUInt64(z, count, 32);
      writeUInt64(z, cdSize, 40);
      writeUInt64(z, cdStart, 48);
      z.writeUInt32LE(ZIP64_END_LOCATOR, 56);
      // disk of the ZIP64 end record 0 (60)
      writeUInt64(z, eocd64At, 64);
      z.writeUInt32LE(1, 72); // disks in all
      this.push(z);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    const count16 = this.always64 ? MAX_UINT16 : Math.min(count, MAX_UINT16);
    end.writeUInt16LE(count16, 8);
    end.writeUInt16LE(count16, 10);
    end.writeUInt32LE(this.always64 ? MAX_UINT32 : Math.min(cdSize, MAX_UINT32), 12);
    end.writeUInt32LE(this.always64 ? MAX_UINT32 : Math.min(cdStart, MAX_UINT32), 16);
    this.push(end);
    return endOutput(this.output, () => this.failure);
  }

  /** Stops compressing (the caller destroys the output). */
  abort(reason: Error): void {
    this.fail(reason);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.deflate?.destroy();
    this.onError(err);
  }

  private assertIdle(): void {
    if (this.streaming) throw new Error('A ZIP entry is still open');
  }

  private push(buf: Buffer): boolean {
    this.offset += buf.length;
    return this.output.write(buf);
  }

  private newEntry(name: string, flags: number): EntryRecord {
    const nameBytes = Buffer.from(name, 'utf8');
    // eslint-disable-next-line no-control-regex
    if (/[^\x00-\x7f]/.test(name)) flags |= FLAG_UTF8_NAME;
    const entry: EntryRecord = { name: nameBytes, flags, crc: 0, compressedSize: 0, size: 0, offset: this.offset };
    this.entries.push(entry);
    return entry;
  }

  /** Local file header; a streamed entry's CRC and sizes are zero here (they follow in its data descriptor). */
  private localHeader(e: EntryRecord, streamed: boolean): Buffer {
    const h = Buffer.alloc(30 + e.name.length);
    h.writeUInt32LE(LOCAL_HEADER, 0);
    h.writeUInt16LE(VERSION_DEFLATE, 4);
    h.writeUInt16LE(e.flags, 6);
    h.writeUInt16LE(METHOD_DEFLATE, 8);
    h.writeUInt16LE(this.dos.time, 10);
    h.writeUInt16LE(this.dos.date, 12);
    if (!streamed) {
      h.writeUInt32LE(e.crc >>> 0, 14);
      h.writeUInt32LE(e.compressedSize, 18);
      h.writeUInt32LE(e.size, 22);
    }
    h.writeUInt16LE(e.name.length, 26);
    e.name.copy(h, 30);
    return h;
  }

  private centralHeader(e: EntryRecord): Buffer {
    const big = (v: number) => this.always64 || v >= MAX_UINT32;
    const fields = [big(e.size) ? e.size : -1, big(e.compressedSize) ? e.compressedSize : -1, big(e.offset) ? e.offset : -1].filter((v) => v >= 0);
    const extra = fields.length ? 4 + 8 * fields.length : 0;
    const h = Buffer.alloc(46 + e.name.length + extra);
    h.writeUInt32LE(CENTRAL_HEADER, 0);
    const version = extra ? VERSION_ZIP64 : VERSION_DEFLATE;
    h.writeUInt16LE(version, 4); // made by: MS-DOS attributes, this version
    h.writeUInt16LE(version, 6);
    h.writeUInt16LE(e.flags, 8);
    h.writeUInt16LE(METHOD_DEFLATE, 10);
    h.writeUInt16LE(this.dos.time, 12);
    h.writeUInt16LE(this.dos.date, 14);
    h.writeUInt32LE(e.crc >>> 0, 16);
    h.writeUInt32LE(big(e.compressedSize) ? MAX_UINT32 : e.compressedSize, 20);
    h.writeUInt32LE(big(e.size) ? MAX_UINT32 : e.size, 24);
    h.writeUInt16LE(e.name.length, 28);
    h.writeUInt16LE(extra, 30);
    // comment length, disk, internal and external attributes: 0
    h.writeUInt32LE(big(e.offset) ? MAX_UINT32 : e.offset, 42);
    e.name.copy(h, 46);
    if (extra) {
      let x = 46 + e.name.length;
      h.writeUInt16LE(ZIP64_EXTRA_ID, x);
      h.writeUInt16LE(extra - 4, x + 2);
      x += 4;
      for (const v of fields) {
        writeUInt64(h, v, x);
        x += 8;
      }
    }
    return h;
  }
}
