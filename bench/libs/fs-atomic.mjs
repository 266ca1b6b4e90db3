// node:fs writing whole files as write-file-atomic does (temporary file, then rename): the
// peer with LocalStore's guarantee (a reader sees the old file or the new one, never a part).
import { open as openFs } from './fs.mjs'

export const open = (target, options) => openFs(target, { ...options, atomic: true })
