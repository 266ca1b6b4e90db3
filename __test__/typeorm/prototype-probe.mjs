// The child process of data-source.test.ts: does using stowage/typeorm change TypeORM's
// DataSource class? It needs a process of its own, where typeorm is loaded fresh and nothing has
// imported stowage/typeorm before the first look.
//
//   node prototype-probe.mjs <stowage/typeorm bundled as one ES module>
//
// It records every own property (symbols included) of DataSource and DataSource.prototype, then
// imports the library, declares an entity with a @StoredObjectColumn (the old code patched the
// prototype there), initializes a StoredObjectDataSource and then a plain DataSource (sql.js,
// in memory), and prints one JSON line: what changed, and the column type each DataSource gave.
import 'reflect-metadata'
import { pathToFileURL } from 'node:url'
import { DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm'

/** @param {object} target */
function snapshot(target) {
  return new Map(Reflect.ownKeys(target).map((key) => [key, Object.getOwnPropertyDescriptor(target, key)]))
}

/** @param {PropertyDescriptor} a @param {PropertyDescriptor} b */
function sameDescriptor(a, b) {
  return (
    a.value === b.value &&
    a.get === b.get &&
    a.set === b.set &&
    a.writable === b.writable &&
    a.enumerable === b.enumerable &&
    a.configurable === b.configurable
  )
}

/** @param {Map<PropertyKey, PropertyDescriptor>} before @param {Map<PropertyKey, PropertyDescriptor>} after */
function changes(before, after) {
  return {
    added: [...after.keys()].filter((key) => !before.has(key)).map(String),
    removed: [...before.keys()].filter((key) => !after.has(key)).map(String),
    changed: [...before.keys()].filter((key) => after.has(key) && !sameDescriptor(before.get(key), after.get(key))).map(String),
  }
}

const prototypeBefore = snapshot(DataSource.prototype)
const staticsBefore = snapshot(DataSource)

const stowage = await import(pathToFileURL(process.argv[2]).href)

class Probe {}
PrimaryGeneratedColumn()(Probe.prototype, 'id')
stowage.StoredObjectColumn({ backend: 'probe', nullable: true })(Probe.prototype, 'file')
Entity({ name: 'probe' })(Probe)

/** The type the `file` column got on an initialized DataSource, which is then destroyed. */
async function fileColumnType(dataSource) {
  await dataSource.initialize()
  try {
    return dataSource.getMetadata(Probe).findColumnWithPropertyName('file').type
  } finally {
    await dataSource.destroy()
  }
}

/** @type {import('typeorm').DataSourceOptions} */
const options = { type: 'sqljs', entities: [Probe], synchronize: true }
const storedObjectType = await fileColumnType(new stowage.StoredObjectDataSource(options))
const plainType = await fileColumnType(new DataSource(options))

console.log(
  JSON.stringify({
    sameTypeorm: Object.getPrototypeOf(stowage.StoredObjectDataSource) === DataSource,
    prototypeKeys: prototypeBefore.size,
    prototype: changes(prototypeBefore, snapshot(DataSource.prototype)),
    statics: changes(staticsBefore, snapshot(DataSource)),
    storedObjectType,
    plainType,
  }),
)
