/**
 * The web portal as the packaged template deploys it: a private bucket only CloudFront reads
 * (origin access control, TLS only), the security headers the local gateway sends too (no
 * 'unsafe-inline' script), SPA fallback, the content written by the deployPortal custom
 * resource with the stack's values, and the API's CORS naming exactly the portal's origin.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import headers from '../../config/portal/security-headers.cjs';
import { ROOT } from '../../local/cloud.ts';
import { ensurePackaged } from '../../local/packaged/build.ts';
import { loadPackagedConfig, packagedRoles, type PackagedConfig } from '../../local/packaged/template.ts';
import { resolveIntrinsics } from '../../local/serverless-config.ts';

let packaged: PackagedConfig;
let resources: PackagedConfig['resources']['Resources'];
const DISTRIBUTION_DOMAIN = 'd1234abcd.cloudfront.net';

beforeAll(async () => {
  packaged = loadPackagedConfig(await ensurePackaged(ROOT));
  resources = packaged.resources.Resources;
}, 300_000);

/** Evaluates with the distribution's domain known (as CloudFormation does once it exists) and the given parameters. */
const evaluate = (value: unknown, parameters: Record<string, string> = {}) =>
  resolveIntrinsics(value, packaged, {
    parameters,
    getAtt: (id, attribute) => (id === 'PortalDistribution' && attribute === 'DomainName' ? DISTRIBUTION_DOMAIN : undefined),
    ref: (id) => (id === 'PortalDistribution' ? 'E2DISTRIBUTION' : undefined),
  });
const props = (id: string) => resources[id]!.Properties as Record<string, any>;

describe('the portal bucket', () => {
  it('is private and encrypted, with no website endpoint', () => {
    expect(resources.PortalBucket!.Type).toBe('AWS::S3::Bucket');
    const bucket = props('PortalBucket');
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(bucket.WebsiteConfiguration).toBeUndefined();
  });

  it('refuses plain HTTP and lets only this distribution read, through origin access control', () => {
    const policy = evaluate(props('PortalBucketPolicy')) as any;
    const bucketArn = 'arn:aws:s3:::identity-center-jit-dev-portalbucket';
    const statements = policy.PolicyDocument.Statement as any[];
    const tls = statements.find((s) => s.Effect === 'Deny');
    expect(tls).toMatchObject({ Principal: '*', Action: 's3:*', Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'PortalDistributionReads',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: `${bucketArn}/*`,
        Condition: { StringEquals: { 'AWS:SourceArn': 'arn:aws:cloudfront::000000000000:distribution/E2DISTRIBUTION' } },
      },
    ]);

    expect(props('PortalOriginAccessControl').OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    const [origin] = props('PortalDistribution').DistributionConfig.Origins;
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': ['PortalOriginAccessControl', 'Id'] });
    expect(origin.DomainName).toEqual({ 'Fn::GetAtt': ['PortalBucket', 'RegionalDomainName'] });
    // No legacy origin access identity alongside.
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
  });
});

describe('the portal distribution', () => {
  it('serves the app page at the root and for deep links, over HTTPS only, with the security headers policy', () => {
    const config = props('PortalDistribution').DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.CustomErrorResponses).toEqual([
      { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
      { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
    ]);
    expect(config.DefaultCacheBehavior).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], ResponseHeadersPolicyId: { Ref: 'PortalResponseHeadersPolicy' } });
  });

  it('sends the same CSP as the local gateway, with no inline or eval script, and HSTS', () => {
    const security = (evaluate(props('PortalResponseHeadersPolicy')) as any).ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp: string = security.ContentSecurityPolicy.ContentSecurityPolicy;
    expect(csp).toBe(headers.contentSecurityPolicy({ apiOrigin: 'https://*.execute-api.us-east-1.amazonaws.com', issuerOrigin: 'https://issuer.invalid' }));
    const scriptSrc = csp.split('; ').find((d) => d.startsWith('script-src '));
    expect(scriptSrc).toBe("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(security.ContentSecurityPolicy.Override).toBe(true);
    expect(security.ContentTypeOptions).toEqual({ Override: true });
    expect(security.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    expect(security.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: headers.HSTS_MAX_AGE_SECONDS, Override: true });
  });

  it('adds the token endpoint origin to connect-src and form-action when it is not the issuer', () => {
    const security = (evaluate(props('PortalResponseHeadersPolicy'), { PortalTokenOrigin: 'https://jit.auth.us-east-1.amazoncognito.com' }) as any).ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(security.ContentSecurityPolicy.ContentSecurityPolicy).toContain("connect-src 'self' https://*.execute-api.us-east-1.amazonaws.com https://issuer.invalid https://jit.auth.us-east-1.amazoncognito.com;");
  });
});

describe('CORS and the portal URL', () => {
  const corsOrigins = (parameters: Record<string, string> = {}) => (evaluate(props('HttpApi').CorsConfiguration, parameters) as { AllowOrigins: string[] }).AllowOrigins;
  const portalUrl = (parameters: Record<string, string> = {}) => evaluate((packaged.resources.Outputs as any).PortalUrl.Value, parameters) as string;

  it('allows exactly the CloudFront domain, the PortalUrl output', () => {
    expect(corsOrigins()).toEqual([`https://${DISTRIBUTION_DOMAIN}`]);
    expect(portalUrl()).toBe(`https://${DISTRIBUTION_DOMAIN}/`);
  });

  it('allows exactly the portal domain when one is given, and serves it with its certificate', () => {
    const parameters = { PortalDomain: 'jit.example.com', PortalCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' };
    expect(corsOrigins(parameters)).toEqual(['https://jit.example.com']);
    expect(portalUrl(parameters)).toBe('https://jit.example.com/');
    const config = evaluate({ Aliases: props('PortalDistribution').DistributionConfig.Aliases, ViewerCertificate: props('PortalDistribution').DistributionConfig.ViewerCertificate }, parameters) as any;
    expect(config.Aliases).toEqual(['jit.example.com']);
    expect(config.ViewerCertificate).toMatchObject({ AcmCertificateArn: parameters.PortalCertificateArn, SslSupportMethod: 'sni-only' });
  });

  it('keeps the headers and methods the API declares', () => {
    const cors = props('HttpApi').CorsConfiguration;
    expect(cors.AllowHeaders).toEqual(['Authorization', 'Content-Type', 'Idempotency-Key']);
    expect(cors.AllowMethods).toEqual(['GET', 'POST', 'OPTIONS']);
  });
});

describe('the portal content', () => {
  it('is written by deployPortal with the API URL and the deploy parameters, at every deploy', () => {
    const content = resources.PortalContent!;
    expect(content.Type).toBe('Custom::PortalContent');
    const properties = content.Properties as Record<string, unknown>;
    expect(properties).toMatchObject({
      ServiceToken: { 'Fn::GetAtt': ['DeployPortalLambdaFunction', 'Arn'] },
      BucketName: { Ref: 'PortalBucket' },
      ApiUrl: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
      Issuer: 'https://issuer.invalid/',
      ClientId: 'identity-center-jit-portal',
      SsoStartUrl: '',
    });
    expect(String(properties.Release)).toMatch(/\S/);
  });

  it('lets deployPortal write and list the portal bucket, and nothing else', () => {
    const role = packagedRoles(packaged).find((r) => r.logicalId === 'DeployPortalRole');
    expect(role).toBeDefined();
    const statements = role!.policies.flatMap((p) => (p as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement);
    const bucketArn = 'arn:aws:s3:::identity-center-jit-dev-portalbucket';
    const s3 = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => ({ Action: s.Action, Resource: s.Resource }))).toEqual([
      { Action: ['s3:PutObject', 's3:DeleteObject'], Resource: `${bucketArn}/*` },
      { Action: 's3:ListBucket', Resource: bucketArn },
    ]);
    const others = statements.flatMap((s) => [s.Action].flat()).filter((a) => !a.startsWith('s3:'));
    expect(others.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});
