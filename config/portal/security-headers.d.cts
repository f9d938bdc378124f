/** Types of security-headers.cjs (the values live there). */
interface PortalOrigins {
  apiOrigin: string;
  issuerOrigin: string;
}
declare const securityHeadersModule: {
  readonly CONTENT_SECURITY_POLICY_TEMPLATE: string;
  readonly ASSET_MAX_AGE_SECONDS: number;
  readonly HSTS_MAX_AGE_SECONDS: number;
  contentSecurityPolicy(origins: PortalOrigins): string;
  securityHeaders(origins: PortalOrigins): Record<string, string>;
};
export = securityHeadersModule;
