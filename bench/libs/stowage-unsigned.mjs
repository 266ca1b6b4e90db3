// stowage with request bodies left out of the SigV4 signature: its default over HTTPS (TLS
// protects the body), shown beside the signed plain-HTTP default the bench's endpoint gets.
import { open as openStowage } from './stowage.mjs'

export const open = (target, options) => openStowage(target, { ...options, unsignedPayload: true })
