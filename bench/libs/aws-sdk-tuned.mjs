import { open as openAws } from './aws-sdk.mjs'
export const open = (target, opts = {}) => openAws(target, { ...opts, tuned: true })
