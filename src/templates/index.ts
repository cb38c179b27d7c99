// The templates service's surface: what other services use of it (imported only through here; test/unit/structure.test.ts).
export { crudRoutes } from './crud-routes.js'
export { ArgoObjects, type WireObject } from './objects.js'
export { templateResolver } from './resolve.js'
export { ListQuery } from './schemas.js'
