import { z } from 'zod';
import type { ProviderContext, ProviderDefinition } from '../providers/types';

/**
 * Where an account's tokens may go, recorded when it is connected: the issuer and every
 * endpoint that receives its access token, refresh token or the client secret. Provider
 * settings live in a file anyone with the window (or the file) could rewrite; the pin is
 * what makes a rewritten setting unable to redirect tokens that were issued by someone else.
 */
export const endpointPinSchema = z.object({
  issuer: z.string().nullable(),
  /** Receives the refresh token and the client secret. */
  tokenUrl: z.string(),
  /** The API base: receives the access token (`tokentray api`, tasks, identity). */
  apiUrl: z.string(),
  /** Receives the refresh token on disconnect. */
  revokeUrl: z.string().nullable(),
  /** Generic OIDC: receives the access token to name the login. */
  userinfoUrl: z.string().nullable(),
});
export type EndpointPin = z.infer<typeof endpointPinSchema>;

const FIELD_NAMES: Record<keyof EndpointPin, string> = {
  issuer: 'issuer',
  tokenUrl: 'token endpoint',
  apiUrl: 'API base',
  revokeUrl: 'revocation endpoint',
  userinfoUrl: 'userinfo endpoint',
};

/**
 * The destinations in force for `provider` under `ctx`. Null for the demo: its endpoints are
 * the core's own in-process server on a port chosen at each start, which no setting can move.
 */
export function endpointPinOf(provider: ProviderDefinition, ctx: ProviderContext): EndpointPin | null {
  if (provider.kind === 'demo') return null;
  return {
    issuer: ctx.endpoints.issuer,
    tokenUrl: ctx.endpoints.tokenUrl,
    apiUrl: ctx.endpoints.apiUrl,
    revokeUrl: ctx.endpoints.revokeUrl,
    userinfoUrl: ctx.config.generic?.userinfoEndpoint ?? null,
  };
}

/** The names ("token endpoint", …) of the destinations that differ from the pin; empty when they all match. */
export function pinDifferences(pin: EndpointPin, current: EndpointPin): string[] {
  return (Object.keys(FIELD_NAMES) as Array<keyof EndpointPin>)
    .filter((key) => pin[key] !== current[key])
    .map((key) => FIELD_NAMES[key]);
}
