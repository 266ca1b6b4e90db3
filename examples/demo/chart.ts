// A bar chart as a real PNG, drawn pixel by pixel with node:zlib: an image for the attachments
// column (its bytes are checked against image/*) that sharp, when installed, makes a thumbnail of.
import { crc32, deflateSync } from 'node:zlib'

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** A `width` x `height` RGB PNG of `bars` (heights from 0 to 1), blue on white. */
export function chartPng(width: number, height: number, bars: number[]): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8 bits per channel, RGB, deflate, no filter method, no interlace
  const rows: Buffer[] = []
  const slot = width / bars.length
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3, 0xff) // filter byte 0, then white pixels
    row[0] = 0
    for (let x = 0; x < width; x++) {
      const bar = Math.floor(x / slot)
      const inBar = x - bar * slot > slot * 0.15 && x - bar * slot < slot * 0.85
      if (inBar && height - y <= bars[bar]! * height) row.set([0x2b, 0x6c, 0xb0], 1 + x * 3)
    }
    rows.push(row)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}
