import type { SidecarConfig } from '../../config/schema';
import type { CidrBlock } from '../../core/cidr';
import { TrustedProxies } from '../auth/client-ip';
import type { IntakeDeps } from '../intake/handler';
import { prepareRumV3Validators } from '../intake/validate';
import type { RouteTableParts } from '../routes';
import { AnonymousPolicy } from './anonymous-policy';
import { CorsPolicy } from './cors';
import { rumCors, rumIntakeHandler } from './handler';
import { IpRateLimiters } from './ip-rate-limiters';

/** The RUM routes' parts from the config, or undefined while server.rum.enabled is false (they answer 403 then). */
export function createRumRoutes(
  server: SidecarConfig['server'],
  intake: IntakeDeps,
  trustedProxies: readonly CidrBlock[],
): NonNullable<RouteTableParts['rum']> | undefined {
  if (!server.rum.enabled) return undefined;
  prepareRumV3Validators();
  const anon = server.auth.anonymous;
  const anonymousEnabled = anon.enabled ?? true;
  const deps = {
    ...intake,
    cors: new CorsPolicy({ allowOrigins: server.rum.allow_origins, allowHeaders: server.rum.allow_headers }),
    anonymous: anonymousEnabled
      ? {
          policy: new AnonymousPolicy({ allowAgent: anon.allow_agent, allowService: anon.allow_service }),
          limiters: new IpRateLimiters({ eventLimit: anon.rate_limit.event_limit, ipLimit: anon.rate_limit.ip_limit }),
        }
      : null,
    trustedProxies: new TrustedProxies(trustedProxies),
    responseHeaders: server.rum.response_headers,
  };
  return {
    v2: rumIntakeHandler(deps, 'v2'),
    v3: rumIntakeHandler(deps, 'v3'),
    cors: rumCors(deps),
    anonymous: deps.anonymous !== null,
  };
}
