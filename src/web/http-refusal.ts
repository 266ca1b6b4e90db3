/**
 * The HTTP answer to a refused upload, shared by the Express and Fastify handlers: a status that
 * says why, and a small JSON body with the error's code and message (which never hold a secret).
 */
import type { IncomingMessage } from 'node:http'
import { StorageError } from '../errors.js'
import { FileValidationError } from '../file-validation.js'

/** What the handlers answer with. */
export interface HttpRefusal {
  status: number
  body: { error: { code: string; message: string; reason?: string } }
}

/** The status and body for `error`. */
export function httpRefusal(error: unknown): HttpRefusal {
  if (error instanceof FileValidationError) {
    const status = error.code === 'FILE_TOO_LARGE' ? 413 : 415
    return { status, body: { error: { code: error.code, message: error.message } } }
  }
  if (error instanceof StorageError) {
    const reason = (error as { reason?: string }).reason
    const status =
      error.code === 'INVALID_TOKEN' ? (reason === 'consumed' ? 409 : 403)
        : error.code === 'NOT_FOUND' ? 404
          : error.code === 'INVALID_CONFIG' || error.code === 'INVALID_PATH' ? 400
            : 500
    return { status, body: { error: { code: error.code, message: error.message, ...(reason === undefined ? {} : { reason }) } } }
  }
  // multer's and @fastify/multipart's own limit errors carry a code and, for Fastify, a status.
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown }
  if (code === 'LIMIT_FILE_SIZE' || code === 'FST_REQ_FILE_TOO_LARGE') {
    return { status: 413, body: { error: { code: 'FILE_TOO_LARGE', message: 'the file is larger than the upload limit' } } }
  }
  if (typeof code === 'string' && (code.startsWith('LIMIT_') || (typeof statusCode === 'number' && statusCode < 500))) {
    return { status: typeof statusCode === 'number' ? statusCode : 400, body: { error: { code, message: (error as Error).message } } }
  }
  return { status: 500, body: { error: { code: 'GENERIC', message: 'the upload failed' } } }
}

/**
 * Reads and discards what is left of a request's body, so that a response sent before the body
 * was read does not leave a keep-alive connection waiting on it (Node reads the next request on
 * that connection only once this one's body is consumed).
 */
export function discardBody(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return
  req.on('error', () => undefined)
  req.resume()
}

/**
 * The upload token a request to the upload route carries: its `token` query parameter (what
 * `prepareUpload` makes), or else the last segment of its path (a route mounted as
 * `/uploads/direct/:token`).
 */
export function tokenOfUrl(url: string | undefined): string {
  const parsed = new URL(url ?? '', 'http://route.invalid')
  const query = parsed.searchParams.get('token')
  if (query !== null) return query
  const segment = parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1)
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
