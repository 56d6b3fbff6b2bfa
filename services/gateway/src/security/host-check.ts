import type { NextFunction, Request, Response } from 'express';
import { ConclaveError } from '@conclave/contracts';
import { isLoopback, type GatewayConfig } from '../config';

/** the Host names a loopback gateway always answers to (any port) */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * DNS rebinding: a web page on `evil.example` whose name is re-pointed at 127.0.0.1 reaches a local
 * gateway from the browser as a same-origin page would, Host header `evil.example`. While the
 * gateway listens on a loopback address it therefore answers only to Host `localhost`,
 * `127.0.0.1` or `[::1]` (with any port) or a host of CONCLAVE_ALLOWED_HOSTS (`host` for any
 * port, `host:port` for that port alone). On other addresses (behind a proxy, in a container) the
 * check is off and the bearer token is the guard. Returns null when every Host passes.
 */
export function hostAllowList(config: Pick<GatewayConfig, 'HOST' | 'CONCLAVE_ALLOWED_HOSTS'>): ((host: string | undefined) => boolean) | null {
  if (!isLoopback(config.HOST)) return null;
  const names = new Set([...LOOPBACK_HOSTS, ...config.CONCLAVE_ALLOWED_HOSTS.filter((h) => !hasPort(h))]);
  const hostPorts = new Set(config.CONCLAVE_ALLOWED_HOSTS.filter(hasPort));
  return (host) => {
    if (typeof host !== 'string' || host.length === 0) return false;
    let url: URL;
    try {
      url = new URL(`http://${host}`);
    } catch {
      return false;
    }
    // only a bare host[:port] (no user info or path smuggled into the header)
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return false;
    const name = url.hostname.toLowerCase();
    return names.has(name) || hostPorts.has(url.host.toLowerCase());
  };
}

function hasPort(entry: string): boolean {
  return /:\d+$/.test(entry) && !/^\[[^\]]*\]$/.test(entry);
}

export const HOST_REFUSED_MESSAGE = 'Host header not allowed: a gateway on a loopback address answers to localhost, 127.0.0.1, [::1] and CONCLAVE_ALLOWED_HOSTS only';

/** Every HTTP request (REST, docs, the dashboard): a refused Host is a 403 `forbidden` envelope. */
export function hostCheck(config: Pick<GatewayConfig, 'HOST' | 'CONCLAVE_ALLOWED_HOSTS'>) {
  const allowed = hostAllowList(config);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (allowed === null || allowed(req.headers.host)) return next();
    next(new ConclaveError('forbidden', HOST_REFUSED_MESSAGE, { host: typeof req.headers.host === 'string' ? req.headers.host.slice(0, 200) : null }));
  };
}
