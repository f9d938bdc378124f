// The web portal's security headers: one definition for the local gateway (local/portal.ts)
// and for CloudFront's response headers policy (serverless.yml reads it with ${file(...)}).
// The page may run only its own scripts, talk only to itself, the API and the issuer, and
// post forms only to itself and the issuer (the sign-in redirect).

/** `${ApiOrigin}` and `${IssuerOrigin}` are filled in: locally from the gateway, in AWS by Fn::Sub. */
const CONTENT_SECURITY_POLICY_TEMPLATE = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ${ApiOrigin} ${IssuerOrigin}",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self' ${IssuerOrigin}",
].join('; ');

/** A year: asset names carry their content hash, so a changed file is a new name. */
const ASSET_MAX_AGE_SECONDS = 31536000;
/** Strict-Transport-Security in AWS (CloudFront serves HTTPS only); never on plain-HTTP localhost. */
const HSTS_MAX_AGE_SECONDS = 63072000;

/** The policy with the origins filled in (origins only: a CSP source with a path matches that path alone). */
function contentSecurityPolicy({ apiOrigin, issuerOrigin }) {
  return CONTENT_SECURITY_POLICY_TEMPLATE.replaceAll('${ApiOrigin}', apiOrigin).replaceAll('${IssuerOrigin}', issuerOrigin);
}

/** The headers every portal response carries (HSTS added in AWS only). */
function securityHeaders(origins) {
  return {
    'content-security-policy': contentSecurityPolicy(origins),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

module.exports = {
  CONTENT_SECURITY_POLICY_TEMPLATE,
  ASSET_MAX_AGE_SECONDS,
  HSTS_MAX_AGE_SECONDS,
  contentSecurityPolicy,
  securityHeaders,
};
