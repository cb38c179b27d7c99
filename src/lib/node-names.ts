/**
 * Node IDs and pod names as the controller derives them (workflow/util/pod_name.go, Workflow.NodeID). Pure;
 * shared by the server (retry deletes the pods of re-run nodes) and the emulator's simulated controller.
 */

/** 32-bit FNV-1a over the UTF-8 bytes, as Go's hash/fnv New32a. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** Workflow.NodeID: the root node is named after the workflow, every other node is `<wf>-<fnv32a(name)>`. */
export const nodeId = (wf: string, nodeName: string): string => (nodeName === wf ? wf : `${wf}-${fnv32a(nodeName)}`)

/** POD_NAMES=v2: `<wf>-<template>-<fnv32a(nodeName)>`, the prefix capped so the name stays within 253 chars. */
export function podName(wf: string, nodeName: string, templateName: string | undefined): string {
  if (wf === nodeName) return wf
  const prefix = (templateName ? `${wf}-${templateName}` : wf).slice(0, 253 - 10 - 1)
  return `${prefix}-${fnv32a(nodeName)}`
}
