import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import yaml from 'js-yaml'

/** shared/argo/examples beside the repository (CI clones main with shared/ next to it). */
export const examplesDir = fileURLToPath(new URL('../../../shared/argo/examples', import.meta.url))

export interface Example { file: string; doc: Record<string, unknown> & { kind?: string; metadata?: Record<string, unknown> } }

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(f) ? [p] : []
  })
}

/** Every YAML document in the corpus, optionally of one kind. */
export function examples(kind?: string): Example[] {
  return walk(examplesDir).sort().flatMap((p) =>
    yaml.loadAll(readFileSync(p, 'utf8'), undefined, { json: true })
      .filter((d): d is Example['doc'] => typeof d === 'object' && d !== null)
      .filter((d) => !kind || d.kind === kind)
      .map((doc) => ({ file: relative(examplesDir, p), doc })))
}
