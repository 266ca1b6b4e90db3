/**
 * `stowage/typeorm`: keep a file's metadata in a column and its bytes in object storage, with
 * both tied to the row's transaction.
 */
export {
  StoredObjectColumn,
  StoredObjectTransformer,
  storedObjectColumns,
  type StoredObjectColumnOptions,
  type StoredObjectColumnInfo,
} from './column.js'
export { storedObjectColumnType } from './column-type.js'
export { StoredObjectDataSource } from './data-source.js'
export { StoredObjectSubscriber } from './subscriber.js'
export { StoredObjectLedger, type LedgerEntryKind } from './ledger-entity.js'
export { reapLedger, type ReapLedgerOptions, type ReapLedgerReport, type ReapedObject } from './reap.js'
export { sweepOrphans, type SweepOptions, type SweepReport } from './sweep.js'
export { FileValidationError, type FileValidationCode, type FileConstraints } from '../file-validation.js'
export {
  FileObject,
  type FileObjectInit,
  type FileObjectJSON,
  type FileContent,
  type FileSaveOptions,
  type DerivativeFunction,
  type DerivativeSpecs,
} from '../file-object.js'
export type { DerivativeContent, DerivativeOutput, DerivativeResult } from '../derivatives.js'
export { DerivativeError } from '../errors.js'
export { storages, StorageRegistry } from '../registry.js'
