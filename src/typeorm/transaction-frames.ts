import type { QueryRunner } from 'typeorm'

/** One object in one store. */
export interface StoredRef {
  backend: string
  key: string
  /** The id of its ledger entry, when the DataSource has a ledger. */
  entry?: string
  /** An upload whose row was written (its ledger entry settled in the row's transaction). */
  settled?: boolean
}

/** What one transaction level did to storage: objects it uploaded, objects it wants gone. */
export interface Frame {
  uploaded: StoredRef[]
  doomed: StoredRef[]
}

// `transactionDepth` lives on every TypeORM query runner but not on the QueryRunner interface.
function depthOf(queryRunner: QueryRunner): number {
  return (queryRunner as QueryRunner & { transactionDepth?: number }).transactionDepth ?? (queryRunner.isTransactionActive ? 1 : 0)
}

function newFrame(): Frame {
  return { uploaded: [], doomed: [] }
}

/**
 * A stack of frames per QueryRunner, one per open transaction level (the transaction, then each
 * savepoint). TypeORM's commit and rollback events carry the QueryRunner and its new
 * `transactionDepth` but no entities, so this is where uploads and deletes wait for them.
 */
export class TransactionFrames {
  readonly #stacks = new WeakMap<QueryRunner, Frame[]>()

  #stack(queryRunner: QueryRunner): Frame[] {
    let stack = this.#stacks.get(queryRunner)
    if (stack === undefined) {
      stack = []
      this.#stacks.set(queryRunner, stack)
    }
    return stack
  }

  /** The innermost open frame of `queryRunner`, or `undefined` when no transaction is open. */
  current(queryRunner: QueryRunner): Frame | undefined {
    if (!queryRunner.isTransactionActive) return undefined
    const stack = this.#stack(queryRunner)
    const depth = Math.max(depthOf(queryRunner), 1)
    while (stack.length < depth) stack.push(newFrame())
    return stack[depth - 1]
  }

  /** A transaction or savepoint was opened. */
  opened(queryRunner: QueryRunner): void {
    const stack = this.#stack(queryRunner)
    while (stack.length < depthOf(queryRunner)) stack.push(newFrame())
  }

  /**
   * A transaction level committed: its frame joins the enclosing one (and `undefined` is
   * returned), or, at the outermost commit, everything the transaction uploaded and scheduled
   * for deletion is returned, the deletes to be applied now.
   */
  committed(queryRunner: QueryRunner): Frame | undefined {
    const depth = queryRunner.isTransactionActive ? depthOf(queryRunner) : 0
    const stack = this.#stack(queryRunner)
    const closing = stack.splice(depth)
    if (depth > 0) {
      const parent = this.current(queryRunner)!
      for (const frame of closing) {
        parent.uploaded.push(...frame.uploaded)
        parent.doomed.push(...frame.doomed)
      }
      return undefined
    }
    this.#stacks.delete(queryRunner)
    return { uploaded: closing.flatMap((frame) => frame.uploaded), doomed: closing.flatMap((frame) => frame.doomed) }
  }

  /**
   * A transaction level rolled back: the objects uploaded inside it are returned to be deleted,
   * and the deletes it scheduled are forgotten.
   */
  rolledBack(queryRunner: QueryRunner): StoredRef[] {
    const depth = queryRunner.isTransactionActive ? depthOf(queryRunner) : 0
    const stack = this.#stack(queryRunner)
    const closing = stack.splice(depth)
    if (depth === 0) this.#stacks.delete(queryRunner)
    return closing.flatMap((frame) => frame.uploaded)
  }
}
