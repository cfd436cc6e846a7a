/**
 * CORS for the RUM routes, as APM Server answers browsers: the Origin is glob-matched against
 * server.rum.allow_origins; a preflight OPTIONS is always 200 with no body (the allowed origin echoed, so a
 * browser goes ahead only then); any other request from an origin not allowed is refused with 403.
 */

export interface CorsSettings {
  readonly allowOrigins: readonly string[];
  readonly allowHeaders: readonly string[];
}

/**
 * A glob of `*` and `?`, anchored and case-sensitive as APM Server's matcher, except that neither crosses a
 * '/': an Origin has no path, so `https://*.shop.example` must not match `https://evil.example/.shop.example`.
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`, 's');
}

const baseAllowedHeaders = ['Content-Type', 'Content-Encoding', 'Accept'];

export class CorsPolicy {
  private readonly any: boolean;
  private readonly patterns: readonly RegExp[];
  private readonly allowHeaders: string;

  constructor(settings: CorsSettings) {
    this.any = settings.allowOrigins.includes('*');
    this.patterns = settings.allowOrigins.map(globToRegExp);
    this.allowHeaders = [...settings.allowHeaders, ...baseAllowedHeaders].join(', ');
  }

  /** A request without Origin is judged as the empty origin: allowed only by a pattern that matches it ("*"). */
  allows(origin: string | undefined): boolean {
    if (this.any) return true;
    const value = origin ?? '';
    return this.patterns.some((p) => p.test(value));
  }

  /** The headers of a preflight answer (status 200, empty body). */
  preflightHeaders(origin: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      'Access-Control-Max-Age': '3600',
      Vary: 'Origin',
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': this.allowHeaders,
      'Access-Control-Expose-Headers': 'Etag',
    };
    if (origin !== undefined && this.allows(origin)) headers['Access-Control-Allow-Origin'] = origin;
    return headers;
  }
}
