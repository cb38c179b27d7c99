import http from 'node:http'
import http2 from 'node:http2'
import type { Socket } from 'node:net'

/** Fastify's request handler (it serves HTTP/2's compatibility objects too) and the options it hands a factory. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void
type Http2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void
interface FactoryOptions { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; http2SessionTimeout?: number }

/** What fastify's close calls on the server (forceCloseConnections): every connection and HTTP/2 session ends. */
type Closable = http.Server & { closeHttp2Sessions(): void }

// The client connection preface of RFC 9113 §3.4: a connection that opens with it speaks HTTP/2.
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
const isPrefaceStart = (b: Buffer) => b.length > 0 && b.subarray(0, PREFACE.length).equals(PREFACE.subarray(0, Math.min(b.length, PREFACE.length)))

/**
 * HTTP/1.1 and HTTP/2 on one port, as upstream's server (spec §0: "HTTP/1.1, h2 (ALPN) and h2c are enabled"; its
 * e2e ReadinessProbe GETs over both). With TLS, ALPN chooses; in plain text a connection that opens with the
 * HTTP/2 preface (prior knowledge) is HTTP/2, any other HTTP/1.1. Over HTTP/2 a browser's watches and log follows
 * share one connection, instead of using up the six HTTP/1.1 connections it allows an origin.
 */
export function serverFactory(tls: { key: string; cert: string } | undefined) {
  return (handler: Handler, opts: FactoryOptions): http.Server => {
    const either = handler as unknown as Http2Handler
    const h2Handler: Http2Handler = (req, res) => {
      // HTTP/2 ends a body with the stream, content-length optional; fastify reads a body only when content-length
      // or transfer-encoding announces one, so one without content-length is announced as of unknown length.
      if (req.headers['content-length'] === undefined && !req.stream.endAfterHeaders) req.headers['transfer-encoding'] = 'chunked'
      either(req, res)
    }
    const sessions = new Set<http2.Http2Session>()
    // Streams open at once per connection: Go's HTTP/2 server's default (upstream's), not Node's unlimited.
    const h2Options: http2.ServerOptions = { settings: { maxConcurrentStreams: 250 } }
    const track = (h2: http2.Http2Server | http2.Http2SecureServer) => {
      h2.on('session', (session) => {
        sessions.add(session)
        session.on('close', () => sessions.delete(session))
        // An idle session is closed after the HTTP/1.1 keep-alive time; one with open streams (a quiet NDJSON
        // watch sends nothing for long) is not, as an HTTP/1.1 connection with a response under way is not.
        let open = 0
        session.on('stream', (stream: http2.ServerHttp2Stream) => {
          open++
          stream.once('close', () => open--)
        })
        session.setTimeout(opts.http2SessionTimeout ?? opts.keepAliveTimeout ?? 72_000, () => {
          if (open === 0) session.close()
        })
        session.on('error', () => session.destroy())
      })
    }
    let server: http.Server
    if (tls) {
      const h2 = http2.createSecureServer({ ...h2Options, ...tls, allowHTTP1: true }, (req, res) => (req.httpVersionMajor === 2 ? h2Handler : either)(req, res))
      track(h2)
      // The same TLS server carries HTTP/1.1: typed as one for fastify, which uses only what both have.
      server = h2 as unknown as http.Server
      // Every connection from its first byte (a handshake that never completes must not hold the close up); those
      // that became HTTP/2 close with their sessions, so what their streams were ended with goes out.
      const sockets = new Set<Socket>()
      // A TLS socket and the TCP one under it share their peer's address and port.
      const peer = (s: Socket) => `${s.remoteAddress ?? ''}|${s.remotePort ?? ''}`
      const http2Peers = new Set<string>()
      h2.on('connection', (s: Socket) => {
        const key = peer(s)
        sockets.add(s)
        s.once('close', () => {
          sockets.delete(s)
          http2Peers.delete(key)
        })
      })
      h2.on('secureConnection', (t: Socket & { alpnProtocol?: string | false }) => {
        if (t.alpnProtocol === 'h2') http2Peers.add(peer(t))
      })
      Object.assign(server, { closeAllConnections: () => sockets.forEach((s) => http2Peers.has(peer(s)) || s.destroy()) })
    } else {
      const h1 = http.createServer(handler)
      const h2 = http2.createServer(h2Options, h2Handler)
      track(h2)
      const [serveHttp1] = h1.listeners('connection') as ((s: Socket) => void)[]
      h1.removeAllListeners('connection')
      // Connections that have sent nothing yet belong to neither server: closed here when the server closes, and
      // after headersTimeout of silence, as Node closes an HTTP/1.1 connection that sends no request.
      const sniffing = new Set<Socket>()
      h1.on('connection', (socket: Socket) => {
        sniffing.add(socket)
        const silent = setTimeout(() => socket.destroy(), h1.headersTimeout)
        const handOver = (to: () => void) => {
          clearTimeout(silent)
          sniffing.delete(socket)
          to()
        }
        // What the connection has sent so far, held here (not put back, which would be read again at once, in a
        // loop) until it is enough to tell.
        let seen = Buffer.alloc(0)
        const sniff = () => {
          for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) seen = Buffer.concat([seen, chunk])
          // Four bytes tell "PRI " from "PUT " and "POST"; fewer (a client writing byte by byte): wait for more.
          if (seen.length === 0 || (seen.length < 4 && isPrefaceStart(seen))) return void socket.once('readable', sniff)
          socket.unshift(seen)
          // An HTTP/2 server's connections are not half-open (an HTTP/1.1 server's are): the client's FIN ends the
          // session, its streams and their upstream reads, rather than leaving them open and unread.
          if (isPrefaceStart(seen)) handOver(() => h2.emit('connection', Object.assign(socket, { allowHalfOpen: false })))
          else handOver(() => serveHttp1?.call(h1, socket))
        }
        socket.once('readable', sniff)
        socket.on('error', () => socket.destroy())
        socket.once('close', () => handOver(() => {}))
      })
      const closeSniffing = () => sniffing.forEach((s) => s.destroy())
      const [closeAll, closeIdle] = [h1.closeAllConnections.bind(h1), h1.closeIdleConnections.bind(h1)]
      Object.assign(h1, {
        closeAllConnections: () => { closeSniffing(); closeAll() },
        closeIdleConnections: () => { closeSniffing(); closeIdle() },
      })
      server = h1
    }
    server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000
    if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout
    server.setTimeout(opts.connectionTimeout ?? 0)
    // Closed gracefully, so what the streams were ended with (the shutdown error, spec §3) goes out first; a client
    // that takes none of it within 2 s is cut off, as an HTTP/1.1 one is at once.
    const closeHttp2Sessions = () => sessions.forEach((s) => {
      s.close()
      setTimeout(() => s.destroy(), 2_000).unref()
    })
    return Object.assign(server, { closeHttp2Sessions }) satisfies Closable
  }
}
