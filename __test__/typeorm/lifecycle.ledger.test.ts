import { describeLifecycle } from './lifecycle.js'

// The lifecycle rules hold unchanged with StoredObjectLedger among the entities.
describeLifecycle('postgres', { ledger: true })
describeLifecycle('mariadb', { ledger: true })
