import { promises as fs } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/**
 * Reads one entry of a zip file on disk through its central directory, without
 * reading the rest of the archive: enough to look at `xl/workbook.xml` of a
 * 100 MB workbook. No ZIP64 (exports are far below 4 GB) and no encryption.
 */
export async function readZipEntry(file: string, entryName: string): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLength);
    await fh.read(tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${file}: not a zip file (no end of central directory)`);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset === 0xffffffff) throw new Error(`${file}: ZIP64 archives are not supported here`);
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    for (let p = 0; p + 46 <= cd.length && cd.readUInt32LE(p) === 0x02014b50; ) {
      const method = cd.readUInt16LE(p + 10);
      const compressedSize = cd.readUInt32LE(p + 20);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
      if (name === entryName) {
        const local = Buffer.alloc(30);
        await fh.read(local, 0, 30, localOffset);
        if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${file}: bad local header for ${entryName}`);
        const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        const data = Buffer.alloc(compressedSize);
        await fh.read(data, 0, compressedSize, dataStart);
        if (method === 0) return data;
        if (method === 8) return inflateRawSync(data);
        throw new Error(`${file}: ${entryName} uses compression method ${method}`);
      }
      p += 46 + nameLength + extraLength + commentLength;
    }
    throw new Error(`${file}: no entry ${entryName}`);
  } finally {
    await fh.close();
  }
}

/** Sheet names of an XLSX file, in workbook order, from `xl/workbook.xml`. */
export async function xlsxSheetNames(file: string): Promise<string[]> {
  const xml = (await readZipEntry(file, 'xl/workbook.xml')).toString('utf8');
  const decode = (s: string) =>
    s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);
  return [...xml.matchAll(/<sheet\b[^>]*\bname="([^"]*)"/g)].map((m) => decode(m[1]));
}
