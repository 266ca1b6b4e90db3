// The upload app's page: plain JavaScript, no build step. It sends files through the server
// (multipart to /api/documents) or directly to the store (a ticket from /api/uploads, the bytes
// to the ticket's URL, then /api/documents/direct to confirm), with a progress bar either way.
// The limits are enforced by the server and the store, not here: this page checks nothing itself.

const $ = (id) => document.getElementById(id)

/** Headers a page may not set (the browser does); a ticket may list them as what it signed. */
const FORBIDDEN_HEADERS = new Set(['content-length', 'host', 'connection'])

function formatBytes(bytes) {
  if (bytes == null) return '–'
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} B`
}

/** The status line: `state` is busy, ok or error; `by` says who refused (server or store). */
function setStatus(state, text, { code = '', by = '' } = {}) {
  const status = $('status')
  status.dataset.state = state
  status.dataset.code = code
  status.dataset.by = by
  status.textContent = text
}

function setProgress(loaded, total) {
  const percent = total ? Math.round((loaded / total) * 100) : 0
  $('progress').value = percent
  $('progress-text').textContent = total ? `${percent}% (${formatBytes(loaded)} of ${formatBytes(total)})` : ''
}

/** An upload refused by the server (JSON `{ code, message }`) or the store (S3's XML error). */
class Refusal extends Error {
  constructor(by, status, code, message) {
    super(message)
    this.by = by
    this.status = status
    this.code = code
  }
}

function refusalOf(by, xhr) {
  const text = xhr.responseText ?? ''
  try {
    const { error } = JSON.parse(text) // the app's and directUploadHandler's { error: { code, message } }
    return new Refusal(by, xhr.status, error?.code ?? `HTTP_${xhr.status}`, error?.message ?? text)
  } catch {
    // S3 answers <Error><Code>…</Code><Message>…</Message></Error>
    const xml = new DOMParser().parseFromString(text, 'application/xml')
    const code = xml.querySelector('Error > Code')?.textContent
    const message = xml.querySelector('Error > Message')?.textContent
    return new Refusal(by, xhr.status, code ?? `HTTP_${xhr.status}`, message ?? (text || xhr.statusText || 'no response'))
  }
}

/**
 * Sends `body` with XMLHttpRequest, whose upload progress events drive the bar (fetch has none).
 * Resolves with the XHR once the response is in; `by` names who answers, for a refusal.
 */
function send(method, url, body, { headers = {}, by = 'server' } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(method, url)
    for (const [name, value] of Object.entries(headers)) {
      if (!FORBIDDEN_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value)
    }
    xhr.upload.addEventListener('progress', (event) => setProgress(event.loaded, event.lengthComputable ? event.total : 0))
    xhr.addEventListener('load', () => (xhr.status < 300 ? resolve(xhr) : reject(refusalOf(by, xhr))))
    // a connection the other side closed mid-upload (as a server refusing a body may)
    xhr.addEventListener('error', () => reject(new Refusal(by, 0, 'NETWORK_ERROR', `the ${by} closed the connection`)))
    xhr.send(body)
  })
}

/** A JSON call to the app's API. */
async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  const json = text ? JSON.parse(text) : null
  if (!response.ok) throw new Refusal('server', response.status, json?.error?.code ?? `HTTP_${response.status}`, json?.error?.message ?? text)
  return json
}

/** Through the server: one multipart request, which multer streams into the store. */
async function uploadThroughServer(file, title, replaceId) {
  const form = new FormData()
  form.append('title', title)
  form.append('file', file)
  const xhr = replaceId
    ? await send('PUT', `/api/documents/${replaceId}/file`, form)
    : await send('POST', '/api/documents', form)
  return JSON.parse(xhr.responseText)
}

/** Direct, step 1: a ticket (URL, method, form fields or headers, token) from the server. */
export function prepare(file, { size } = {}) {
  return api('POST', '/api/uploads', { filename: file.name, contentType: file.type, size })
}

/**
 * Direct, step 2: the bytes to the store (S3's presigned POST or PUT), or, for a store that
 * cannot sign (LocalStore), to the app's upload route that the ticket names.
 */
export async function sendToStore(ticket, file) {
  const by = new URL(ticket.url, location.href).origin === location.origin ? 'server' : 'store'
  if (ticket.method === 'POST') {
    const form = new FormData()
    for (const [name, value] of Object.entries(ticket.fields ?? {})) form.append(name, value)
    form.append('file', file) // last: S3 ignores fields after the file
    await send('POST', ticket.url, form, { by })
  } else {
    await send('PUT', ticket.url, file, { headers: ticket.headers ?? {}, by })
  }
}

/** Direct, step 3: the server checks what arrived (size, type, first bytes) and writes the row. */
export function confirm(ticket, title, replaceId) {
  return replaceId
    ? api('PUT', `/api/documents/${replaceId}/direct`, { token: ticket.token, title })
    : api('POST', '/api/documents/direct', { token: ticket.token, title })
}

async function uploadDirect(file, title, replaceId) {
  const ticket = await prepare(file)
  await sendToStore(ticket, file)
  return confirm(ticket, title, replaceId)
}

function endReplace() {
  $('replace-id').value = ''
  $('upload-heading').textContent = 'Upload a document'
  $('submit').textContent = 'Upload'
  $('cancel-replace').hidden = true
}

function startReplace(doc) {
  $('replace-id').value = String(doc.id)
  $('upload-heading').textContent = `Replace the file of “${doc.title}”`
  $('submit').textContent = 'Replace'
  $('cancel-replace').hidden = false
  $('file').focus()
}

/** Marks an operation as over, list reloaded (the browser test waits for the count to change). */
function finished() {
  document.body.dataset.busy = 'false'
  document.body.dataset.operations = String(Number(document.body.dataset.operations ?? 0) + 1)
}

function cell(row, text) {
  const td = row.insertCell()
  td.textContent = text
  return td
}

/** Reloads the list of documents. */
export async function refresh() {
  const docs = await api('GET', '/api/documents')
  const body = $('documents')
  body.replaceChildren()
  for (const doc of docs) {
    const row = body.insertRow()
    row.dataset.id = String(doc.id)
    cell(row, doc.title).className = 'title'
    const link = document.createElement('a')
    link.className = 'download'
    link.href = doc.downloadUrl
    link.textContent = doc.filename ?? doc.key
    cell(row, '').append(link)
    cell(row, formatBytes(doc.size))
    cell(row, doc.contentType ?? '–')
    const actions = cell(row, '')
    const replace = document.createElement('button')
    replace.className = 'replace'
    replace.textContent = 'Replace…'
    replace.addEventListener('click', () => startReplace(doc))
    const remove = document.createElement('button')
    remove.className = 'delete'
    remove.textContent = 'Delete'
    remove.addEventListener('click', () => void deleteDocument(doc))
    actions.append(replace, remove)
  }
  $('empty').hidden = docs.length > 0
  document.body.dataset.documents = String(docs.length)
}

async function deleteDocument(doc) {
  setStatus('busy', `Deleting “${doc.title}”…`)
  try {
    await api('DELETE', `/api/documents/${doc.id}`)
    setStatus('ok', `Deleted “${doc.title}” and its file.`)
  } catch (error) {
    setStatus('error', `Could not delete: ${error.message}`, { code: error.code, by: error.by })
  }
  if (String(doc.id) === $('replace-id').value) endReplace()
  await refresh().catch(() => {})
  finished()
}

async function onSubmit(event) {
  event.preventDefault()
  const file = $('file').files[0]
  if (!file) return
  const mode = document.querySelector('input[name=mode]:checked').value
  const replaceId = $('replace-id').value
  const title = $('title').value.trim()
  const how = mode === 'direct' ? 'directly to the store' : 'through the server'
  $('submit').disabled = true
  document.body.dataset.busy = 'true'
  setProgress(0, file.size)
  setStatus('busy', `Uploading ${file.name} ${how}…`)
  try {
    const doc = mode === 'direct' ? await uploadDirect(file, title, replaceId) : await uploadThroughServer(file, title, replaceId)
    setStatus('ok', `${replaceId ? 'Replaced' : 'Stored'} ${doc.filename} (${formatBytes(doc.size)}, ${doc.contentType}) ${how}.`)
    $('upload-form').reset()
    endReplace()
  } catch (error) {
    const who = error.by === 'store' ? 'the store' : 'the server'
    setStatus('error', `Refused by ${who} (${error.code}): ${error.message}`, { code: error.code, by: error.by })
  } finally {
    $('submit').disabled = false
    await refresh().catch(() => {})
    finished()
  }
}

async function main() {
  const config = await api('GET', '/api/config')
  $('store-name').textContent = config.store
  $('max-size').textContent = formatBytes(config.maxSize)
  $('allowed-types').textContent = config.allowedContentTypes.join(', ')
  $('upload-form').addEventListener('submit', (event) => void onSubmit(event))
  $('cancel-replace').addEventListener('click', endReplace)
  await refresh()
  document.body.dataset.ready = 'true'
}

// For the browser test, which drives a direct upload that is never confirmed.
window.uploadApp = { prepare, sendToStore, confirm, refresh }

void main()
