// A local HTTP server standing in for download.pytorch.org: serves files by name under /models/,
// honours Range requests, and misbehaves on request (redirects, a cut connection, a stall, an
// ignored Range, an error status). It records every request.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | 'normal'
  | 'redirect'
  /** Sends the full Content-Length, then half the body, then closes the connection. */
  | 'cut'
  /** Sends the headers and some bytes, then nothing. */
  | 'stall'
  /** Answers 200 with the whole file even to a Range request. */
  | 'ignore-range'
  | 'not-found';

export interface Served { path: string; range?: string; status: number; bytes: number }

export class WeightsServer {
  readonly files = new Map<string, Buffer>();
  readonly requests: Served[] = [];
  /** Behaviours for the next requests, in order; 'normal' once they run out. */
  readonly plan: Behaviour[] = [];
  private server?: http.Server;
  private sockets = new Set<import('node:net').Socket>();

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/models/`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const record: Served = { path: url.pathname, range: req.headers.range, status: 0, bytes: 0 };
    this.requests.push(record);
    const reply = replier(req, res, record);
    // A redirect chain /hop/1/... -> /hop/2/... -> /models/..., relative and absolute.
    const hop = /^\/hop\/(\d)\/(.*)$/.exec(url.pathname);
    if (hop) {
      reply(hop[1] === '1' ? 302 : 301, { Location: hop[1] === '1' ? `/hop/2/${hop[2]}` : `${this.baseUrl}${hop[2]}` });
      return;
    }
    const behaviour = this.plan.shift() ?? 'normal';
    const name = url.pathname.replace(/^\/models\//, '');
    const file = this.files.get(name);
    if (behaviour === 'redirect') {
      reply(307, { Location: `/hop/1/${name}` });
      return;
    }
    if (behaviour === 'not-found' || !file) {
      reply(404, { 'Content-Type': 'text/plain' }, Buffer.from('no such file'));
      return;
    }
    serveBytes(req, res, file, behaviour, record);
  }
}

/** A function that answers with a status, headers (after `common`) and a body (none to a HEAD), and records what it sent. */
export function replier(req: http.IncomingMessage, res: http.ServerResponse, record: Served, common: http.OutgoingHttpHeaders = {}) {
  return (status: number, headers: http.OutgoingHttpHeaders, body?: Buffer): void => {
    record.status = status;
    record.bytes = req.method === 'HEAD' ? 0 : body?.length ?? 0;
    res.writeHead(status, { ...common, ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/**
 * Answers a GET (or HEAD) of `file` as a static file server does: 200 with Content-Length, or 206
 * for a Range request (416 past the end), unless `behaviour` says to cut the body, stall, or
 * ignore the Range. Fills in `record`.
 */
export function serveBytes(req: http.IncomingMessage, res: http.ServerResponse, file: Buffer, behaviour: Behaviour, record: Served,
  headers: http.OutgoingHttpHeaders = {}): void {
  const reply = replier(req, res, record, headers);
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && behaviour !== 'ignore-range') {
    const start = Number(range[1]);
    if (start >= file.length) {
      reply(416, { 'Content-Range': `bytes */${file.length}` });
      return;
    }
    reply(206, { 'Content-Length': file.length - start, 'Content-Range': `bytes ${start}-${file.length - 1}/${file.length}` }, file.subarray(start));
    return;
  }
  if (behaviour === 'cut' || behaviour === 'stall') {
    const sent = behaviour === 'cut' ? Math.floor(file.length / 2) : 1000;
    record.status = 200;
    record.bytes = sent;
    res.writeHead(200, { ...headers, 'Content-Length': file.length });
    // A FIN, not a reset: a reset may make the client drop bytes it has not read yet.
    res.write(file.subarray(0, sent), () => {
      if (behaviour === 'cut') res.socket?.end();
    });
    return;
  }
  reply(200, { 'Content-Length': file.length, 'Accept-Ranges': 'bytes' }, file);
}
