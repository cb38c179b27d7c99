import type { Identity } from '../auth/index.js'
import type { ClusterSettings } from '../config/configmap.js'

export const VERSION = 'v0.1.0'

export interface InfoDeps {
  settings: ClusterSettings
  managedNamespace: string
  modals: { feedback: boolean; firstTimeUser: boolean; newVersion: boolean }
}

/** Drops empty values, as proto3 JSON omits zero values (spec §0). */
function omitEmpty<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) =>
    v !== undefined && v !== '' && v !== false && !(Array.isArray(v) && v.length === 0))) as Partial<T>
}

export class InfoService {
  readonly #d: InfoDeps
  constructor(deps: InfoDeps) {
    this.#d = deps
  }

  info() {
    const s = this.#d.settings
    return omitEmpty({
      managedNamespace: this.#d.managedNamespace,
      links: s.links,
      modals: this.#d.modals,
      navColor: s.navColor,
      columns: s.columns,
    })
  }

  version() {
    return {
      version: VERSION,
      buildDate: '',
      gitCommit: '',
      gitTag: VERSION,
      gitTreeState: 'clean',
      goVersion: process.version,
      compiler: 'node',
      platform: `${process.platform}/${process.arch}`,
    }
  }

  userInfo(identity: Identity) {
    const c = identity.claims
    return omitEmpty({
      issuer: c.iss,
      subject: c.sub,
      groups: c.groups,
      email: c.email,
      emailVerified: c.email_verified,
      name: c.name,
      serviceAccountName: c.service_account_name,
      serviceAccountNamespace: c.service_account_namespace,
    })
  }
}
