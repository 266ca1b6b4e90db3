/** The generated napi-rs loader: the one place that loads the addon. */
import { createRequire } from 'node:module'
import type * as Native from '../native/index.js'

export type { Capabilities, LocalStoreOptions, NativeStore, NativeReader, NativeUpload, NativeGetOptions, NativePutOptions, NativeObjectMeta, NativeAttributes } from '../native/index.js'

const require = createRequire(import.meta.url)
const native: typeof Native = require('../native/index.cjs')
export default native
