/**
 * examples/upload-app in a real browser: headless Chromium (Debian's package, driven by
 * playwright-core) against the app on a LocalStore and on the S3 emulator (s3-mem-server, which
 * verifies SigV4 signatures and POST policies). Through the page it uploads files through the
 * server and directly to the store, downloads them back through the list's links, replaces and
 * deletes; files over the limit and an executable renamed `.png` (through the server and sent
 * directly) are refused and leave nothing behind; a direct upload that is never confirmed is swept. Every page state is saved as a
 * screenshot under __test__/.artifacts/screenshots/ (paths printed at the end).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp, type RunningApp } from '../../examples/upload-app/app.js'
import { MAX_FILE_SIZE } from '../../examples/upload-app/entities.js'
import { LocalStore, RESERVED_PREFIX, StorageError, type ObjectStore } from '../../src/index.js'
import { makeS3, uniquePrefix, useServers } from '../cloud/helpers.js'
import { launchChromium, screenshot } from '../fixtures/browser.js'

const servers = useServers(['s3mem'])

let browser: Browser
let workDir: string
const shots: string[] = []

/** A valid PNG of random pixels (incompressible, so its size is about width * height * 3). */
function pngFile(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc32(body), body.length + 4)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit RGB, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) randomBytes(width * 3).copy(rows, y * (width * 3 + 1) + 1) // filter 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** A small but well-formed PDF. */
function pdfFile(padding = 0): Buffer {
  const text = '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n'
  return Buffer.concat([Buffer.from(text), Buffer.from(`%${randomBytes(Math.ceil(padding / 2)).toString('hex').slice(0, padding)}\n`), Buffer.from('trailer << /Root 1 0 R >>\n%%EOF\n')])
}

async function fixture(name: string, bytes: Buffer): Promise<{ path: string; name: string; bytes: Buffer }> {
  const path = join(workDir, name)
  await writeFile(path, bytes)
  return { path, name, bytes }
}

/** The store's objects, less the direct uploads' pending markers (under RESERVED_PREFIX). */
async function keysOf(store: ObjectStore): Promise<string[]> {
  const keys: string[] = []
  for await (const meta of store.list()) if (!meta.path.startsWith(`${RESERVED_PREFIX}/`)) keys.push(meta.path)
  return keys.sort()
}

async function exists(store: ObjectStore, key: string): Promise<boolean> {
  return store.head(key).then(
    () => true,
    (error: unknown) => {
      if (error instanceof StorageError && error.code === 'NOT_FOUND') return false
      throw error
    },
  )
}

interface Outcome { state: string; code: string; by: string; text: string }

/** The status line once the page's current operation is over and the list reloaded. */
async function afterOperation(page: Page, act: () => Promise<void>): Promise<Outcome> {
  const before = await page.evaluate(() => Number(document.body.dataset.operations ?? 0))
  await act()
  await page.waitForFunction((n) => Number(document.body.dataset.operations ?? 0) > n, before, { timeout: 20_000 })
  return page.$eval('#status', (el) => {
    const status = el as HTMLElement
    return { state: status.dataset.state ?? '', code: status.dataset.code ?? '', by: status.dataset.by ?? '', text: status.textContent ?? '' }
  })
}

/** Uploads `path` through the page's form, `mode` server or direct; `replaceId` replaces that document's file. */
function upload(page: Page, path: string, mode: 'server' | 'direct', { title = '', replaceId }: { title?: string; replaceId?: number } = {}): Promise<Outcome> {
  return afterOperation(page, async () => {
    if (replaceId !== undefined) await page.click(`tr[data-id="${replaceId}"] button.replace`)
    await page.fill('#title', title)
    await page.check(`input[name=mode][value=${mode}]`)
    await page.setInputFiles('#file', path)
    await page.click('#submit')
  })
}

/** Clicks a document's download link: the file the browser saves, its name, and the link's response headers. */
async function download(page: Page, app: RunningApp, id: number) {
  const link = page.locator(`tr[data-id="${id}"] a.download`)
  const href = await link.getAttribute('href')
  const [saved] = await Promise.all([page.waitForEvent('download'), link.click()])
  const bytes = await readFile(await saved.path())
  const response = await fetch(new URL(href!, app.url))
  await response.arrayBuffer()
  return { filename: saved.suggestedFilename(), bytes, disposition: response.headers.get('content-disposition') ?? '', status: response.status }
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'stowage-upload-app-'))
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  if (workDir) await rm(workDir, { recursive: true, force: true })
  if (shots.length) console.log(`upload-app screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}`)
})

const STORES = [
  {
    name: 'local',
    label: 'LocalStore',
    make: async () => new LocalStore(await mkdtemp(join(workDir, 'store-')), { mkdir: true }),
    // who refuses a direct upload over the limit: the app's upload route (LocalStore cannot sign)
    directRefusedBy: 'server',
    // the route stores up to maxSize; confirmUpload finds the size is not the one prepared
    declaredSizeRefusedAt: 'confirm',
    spoofRefusedAt: 'by the upload route, which sniffs the first bytes as they arrive',
  },
  {
    name: 's3',
    label: 'S3 (s3-mem-server)',
    make: async () => makeS3(servers().s3mem!, { prefix: uniquePrefix('upload-app') }),
    // the presigned POST's policy (content-length-range), checked by the store itself
    directRefusedBy: 'store',
    // the presigned PUT signs Content-Length: the store refuses another length
    declaredSizeRefusedAt: 'send',
    spoofRefusedAt: 'at confirm, which sniffs the stored bytes',
  },
] as const

for (const target of STORES) {
  describe(`upload app on ${target.label}, in Chromium`, () => {
    let app: RunningApp
    let store: ObjectStore
    let context: BrowserContext
    let page: Page
    const shot = async (name: string) => shots.push(await screenshot(page, `${target.name}-${name}`))
    let firstId: number
    let directId: number

    beforeAll(async () => {
      store = await target.make()
      app = await startApp({ store, storeLabel: target.label })
      context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 700 } })
      page = await context.newPage()
      page.on('pageerror', (error) => console.error(`[page] ${error.message}`))
      await page.goto(app.url)
      await page.waitForSelector('body[data-ready=true]')
    })

    afterAll(async () => {
      await context?.close()
      await app?.close()
    })

    it('starts empty', async () => {
      await expect(page.textContent('#store-name')).resolves.toBe(target.label)
      expect(await keysOf(store)).toEqual([])
      await shot('01-empty')
    })

    it('uploads through the server with a progress bar: row, object, and the download keeps the name', async () => {
      const file = await fixture('Relevé été 2026.png', pngFile(420, 420)) // ~530 KB
      // slow the upload down so the progress bar is caught halfway
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 })
      const outcome = upload(page, file.path, 'server', { title: 'Statement' })
      await page.waitForFunction(() => {
        const bar = document.getElementById('progress') as HTMLProgressElement
        return bar.value > 5 && bar.value < 95
      }, undefined, { timeout: 10_000, polling: 50 })
      await shot('02-server-upload-progress')
      const result = await outcome
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
      await cdp.detach()
      expect(result.state, result.text).toBe('ok')
      await shot('03-server-uploaded')

      const row = await app.documents.findOneByOrFail({ title: 'Statement' })
      firstId = row.id
      expect(row.file.filename).toBe(file.name)
      expect(row.file.size).toBe(file.bytes.length)
      expect(row.file.contentType).toBe('image/png')
      expect((await store.head(row.file.key)).size).toBe(file.bytes.length)
      expect((await row.file.getContent()).equals(file.bytes)).toBe(true)

      const got = await download(page, app, row.id)
      expect(got.filename).toBe(file.name)
      expect(got.bytes.equals(file.bytes)).toBe(true)
      expect(got.disposition).toMatch(/^attachment;/)
      expect(got.disposition).toContain(`filename*=UTF-8''${encodeURIComponent(file.name)}`)
    })

    it('uploads directly to the store: prepare, send, confirm', async () => {
      const file = await fixture('report.pdf', pdfFile(20_000))
      const result = await upload(page, file.path, 'direct')
      expect(result.state, result.text).toBe('ok')
      await shot('04-direct-uploaded')
      const row = await app.documents.findOneByOrFail({ title: 'report.pdf' })
      directId = row.id
      expect(row.file.size).toBe(file.bytes.length)
      expect(row.file.contentType).toBe('application/pdf')
      expect((await store.head(row.file.key)).size).toBe(file.bytes.length)
      expect((await row.file.getContent()).equals(file.bytes)).toBe(true)
      const got = await download(page, app, row.id)
      expect(got.filename).toBe('report.pdf')
      expect(got.bytes.equals(file.bytes)).toBe(true)
      expect(got.disposition).toMatch(/^attachment; *filename="?report\.pdf"?/)
    })

    it('refuses a file over the limit through the server and leaves no object', async () => {
      const file = await fixture('scan-too-large.pdf', pdfFile(MAX_FILE_SIZE + 64 * 1024))
      const keys = await keysOf(store)
      const rows = await app.documents.count()
      const result = await upload(page, file.path, 'server')
      expect(result.state).toBe('error')
      expect(result.by).toBe('server')
      expect(['FILE_TOO_LARGE', 'NETWORK_ERROR']).toContain(result.code)
      await shot('05-too-large-through-server-refused')
      expect(await keysOf(store)).toEqual(keys)
      expect(await app.documents.count()).toBe(rows)
      // the refused body was drained or its connection closed: the next request does not hang
      await expect(page.evaluate(() => fetch('/api/config').then((r) => r.status))).resolves.toBe(200)
    })

    it(`refuses a file over the limit sent directly (by the ${target.directRefusedBy}) and leaves no object`, async () => {
      const file = await fixture('scan-too-large.pdf', pdfFile(MAX_FILE_SIZE + 64 * 1024))
      const keys = await keysOf(store)
      const rows = await app.documents.count()
      const result = await upload(page, file.path, 'direct')
      expect(result.state).toBe('error')
      expect(result.by).toBe(target.directRefusedBy)
      console.log(`[${target.name}] direct upload over the limit: ${result.text}`)
      await shot('06-too-large-direct-refused')
      expect(await keysOf(store)).toEqual(keys)
      expect(await app.documents.count()).toBe(rows)
      await expect(page.evaluate(() => fetch('/api/config').then((r) => r.status))).resolves.toBe(200)
    })

    it('refuses a direct upload that sends more bytes than the size it declared', async () => {
      const keys = await keysOf(store)
      const rows = await app.documents.count()
      // The ticket is asked for 1000 bytes, and 200000 are sent: S3 signed a PUT of exactly
      // 1000 bytes; LocalStore's route takes up to maxSize, and confirm compares the sizes.
      const outcome = await page.evaluate(async (size) => {
        type Ticket = { method: string; token: string }
        type Refusal = { code: string; by: string; message: string }
        const api = (window as unknown as { uploadApp: {
          prepare: (f: File, o: { size: number }) => Promise<Ticket>
          sendToStore: (t: Ticket, f: File) => Promise<void>
          confirm: (t: Ticket, title: string) => Promise<unknown>
        } }).uploadApp
        const bytes = new Uint8Array(size)
        bytes.set(new TextEncoder().encode('%PDF-1.4\n'))
        const file = new File([bytes], 'declared-small.pdf', { type: 'application/pdf' })
        const ticket = await api.prepare(file, { size: 1000 })
        let step = 'send'
        try {
          await api.sendToStore(ticket, file)
          step = 'confirm'
          await api.confirm(ticket, 'declared small')
          return { method: ticket.method, refusedAt: '', code: '', by: '', message: '' }
        } catch (error) {
          const refusal = error as Refusal
          return { method: ticket.method, refusedAt: step, code: refusal.code, by: refusal.by, message: refusal.message }
        }
      }, 200_000)
      console.log(`[${target.name}] direct ${outcome.method} prepared for 1000 bytes, sent 200000: ${JSON.stringify(outcome)}`)
      expect(outcome.refusedAt).toBe(target.declaredSizeRefusedAt)
      expect(await keysOf(store)).toEqual(keys)
      expect(await app.documents.count()).toBe(rows)
    })

    const spoofed = [
      ['direct', `sent directly (${target.spoofRefusedAt}) and deletes it`, '07-spoofed-png-direct-refused'],
      ['server', 'uploaded through the server (multerStorage sniffs its first bytes as they stream) and leaves no object', '08-spoofed-png-through-server-refused'],
    ] as const
    for (const [mode, how, screenshotName] of spoofed) {
      it(`refuses an executable renamed .png ${how}`, async () => {
        // a real ELF executable, named and declared as a PNG
        const file = await fixture('holiday.png', await readFile('/usr/bin/true'))
        const keys = await keysOf(store)
        const rows = await app.documents.count()
        const result = await upload(page, file.path, mode)
        expect(result.state).toBe('error')
        expect(result.by).toBe('server')
        expect(result.code).toBe('CONTENT_MISMATCH')
        expect(result.text).toContain('holiday.png')
        await shot(screenshotName)
        expect(await keysOf(store)).toEqual(keys)
        expect(await app.documents.count()).toBe(rows)
        // a refused body was drained: the next request on the page's connection does not hang
        await expect(page.evaluate(() => fetch('/api/config').then((r) => r.status))).resolves.toBe(200)
      })
    }

    it('replaces a file: the row points at the new object, the old one is deleted', async () => {
      const before = await app.documents.findOneByOrFail({ id: firstId })
      const file = await fixture('Relevé v2.png', pngFile(64, 64))
      const result = await upload(page, file.path, 'direct', { replaceId: firstId })
      expect(result.state, result.text).toBe('ok')
      await shot('09-replaced')
      const after = await app.documents.findOneByOrFail({ id: firstId })
      expect(after.title).toBe('Statement')
      expect(after.file.key).not.toBe(before.file.key)
      expect(after.file.filename).toBe(file.name)
      expect((await after.file.getContent()).equals(file.bytes)).toBe(true)
      expect(await exists(store, before.file.key)).toBe(false)
      const got = await download(page, app, firstId)
      expect(got.filename).toBe(file.name)
      expect(got.bytes.equals(file.bytes)).toBe(true)
    })

    it('deletes a document and its object', async () => {
      const doc = await app.documents.findOneByOrFail({ id: directId })
      const result = await afterOperation(page, () => page.click(`tr[data-id="${directId}"] button.delete`))
      expect(result.state, result.text).toBe('ok')
      await shot('10-deleted')
      expect(await app.documents.findOneBy({ id: directId })).toBeNull()
      expect(await exists(store, doc.file.key)).toBe(false)
      expect(await page.locator('tr[data-id]').count()).toBe(1)
    })

    it('sweeps a direct upload that was never confirmed, and keeps the confirmed ones', async () => {
      const key = await page.evaluate(async () => {
        const api = (window as unknown as { uploadApp: { prepare: (f: File) => Promise<{ key: string }>; sendToStore: (t: unknown, f: File) => Promise<void> } }).uploadApp
        const file = new File(['%PDF-1.4\n%abandoned\n%%EOF\n'], 'abandoned.pdf', { type: 'application/pdf' })
        const ticket = await api.prepare(file)
        await api.sendToStore(ticket, file) // ...and the tab is closed: no confirm
        return ticket.key
      })
      expect(await exists(store, key)).toBe(true)
      const { removed } = await app.sweep(0)
      expect(removed).toContain(key)
      expect(await exists(store, key)).toBe(false)
      for (const doc of await app.documents.find()) expect(await exists(store, doc.file.key)).toBe(true)
    })
  })
}
