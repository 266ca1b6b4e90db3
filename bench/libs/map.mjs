// A Map as the memory floor: put stores a copy (a store owns its bytes), get returns it.
export async function open(target) {
  if (target.kind !== 'memory') throw new Error('Map is for memory only')
  const map = new Map()
  return {
    putBytes: async (k, buf) => { map.set(k, Buffer.from(buf)) },
    getBytes: async (k) => map.get(k).length,
    close: async () => {},
  }
}
