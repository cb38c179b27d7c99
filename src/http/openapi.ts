import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'

/**
 * The OpenAPI tag of endpoints beyond upstream's API (wait, run history): test/conformance/openapi.test.ts compares
 * every other operation with upstream's.
 */
export const EXTENSION_TAG = 'Extensions'

/** The app as route files declare on it: each route's params, query and body typed by its zod schema. */
export const typedRoutes = (app: FastifyInstance) => app.withTypeProvider<ZodTypeProvider>()

/**
 * Route schemas (zod) validate requests and generate the OpenAPI document served at /openapi.json;
 * openapi/openapi.json is that document committed (npm run openapi), and a test fails when it is stale.
 */
export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Argo Workflows API (TypeScript argo-server)', version, description: 'Wire-compatible with upstream argo-server; see README.md.' },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
