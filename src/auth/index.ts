// The auth service's surface: what other services use of it (imported only through here; test/unit/structure.test.ts).
export type { AccessReview } from './access-review.js'
export type { Claims } from './claims.js'
export { identityOf } from './hook.js'
export type { Identity } from './identity.js'
