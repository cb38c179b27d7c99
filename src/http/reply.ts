import type { FastifyReply } from 'fastify'
import { toWireJson } from './wire.js'

/** Sends a value in upstream's JSON dialect (spec §0). */
export function sendJson(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.type('application/json').send(toWireJson(value))
}

/** Sends JSON that is already in wire form (e.g. assembled from cached per-item strings). */
export function sendRawJson(reply: FastifyReply, json: string | Buffer): FastifyReply {
  return reply.type('application/json').send(json)
}
