import type { Stack } from '../harness/stack.js'

export type Obj = { metadata: { name?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; namespace?: string }; spec: Record<string, unknown>; [k: string]: unknown }
export type ErrorBody = { code: number; message: string }
export type ListBody = { metadata: { continue?: string; resourceVersion?: string }; items: Obj[] | null }

const main = [{ name: 'main', container: { image: 'busybox', command: ['echo', 'hi'] } }]

/** A minimal valid WorkflowTemplate or ClusterWorkflowTemplate. */
export function aTemplate(name: string, labels?: Record<string, string>) {
  return { metadata: { name, ...(labels ? { labels } : {}) }, spec: { entrypoint: 'main', templates: main } }
}

/** A minimal valid CronWorkflow. */
export function aCron(name: string, spec: Record<string, unknown> = {}) {
  return { metadata: { name }, spec: { schedules: ['*/5 * * * *'], workflowSpec: { entrypoint: 'main', templates: main }, ...spec } }
}

/** A template with two problems in different fields (the entrypoint names no template; a template has no type). */
export function twoProblems(name: string) {
  return { metadata: { name }, spec: { entrypoint: 'nope', templates: [{ name: 'main' }] } }
}

export const names = (b: ListBody) => (b.items ?? []).map((i) => i.metadata.name)

export async function post<T = Obj>(s: Stack, path: string, json: unknown, token?: string) {
  return s.json<T>(path, { method: 'POST', json, ...(token ? { token } : {}) })
}

export async function put<T = Obj>(s: Stack, path: string, json: unknown, token?: string) {
  return s.json<T>(path, { method: 'PUT', json, ...(token ? { token } : {}) })
}

/** An unsigned JWT: client mode decodes claims from it unverified (spec §5.2); the emulator knows it by value. */
export const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

/** A user with every right on the Argo kinds (and SSAR), whose token carries claims for the creator labels. */
export const editor = {
  token: jwt({ sub: 'system:serviceaccount:argo:editor', email: 'ed@example.com' }),
  username: 'system:serviceaccount:argo:editor',
  rules: [
    { verbs: ['*'], apiGroups: ['argoproj.io'], resources: ['*'] },
    { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] },
  ],
}
export const EDITOR = 'system-serviceaccount-argo-editor'
