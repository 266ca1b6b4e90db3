// Every workload, in the order the report lists them.
import s3Large from './s3-large.mjs'
import s3Small from './s3-small.mjs'
import s3Meta from './s3-meta.mjs'
import local from './local.mjs'
import memory from './memory.mjs'

export const WORKLOADS = [...s3Large, ...s3Small, ...s3Meta, ...local, ...memory]
export const byId = (id) => WORKLOADS.find((w) => w.id === id)
