/**
 * Signature Version 4, checked as AWS checks it: the canonical request is rebuilt from what
 * arrived (method, path, query, the headers the signature names, the body), signed again with
 * the secret key the access key id stands for, and compared in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** The path as sent (still URI-encoded). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** A request whose signature does not hold, and why (AWS's SignatureDoesNotMatch / IncompleteSignature). */
export class SignatureError extends Error {
  constructor(
    readonly code: 'SignatureDoesNotMatch' | 'IncompleteSignature',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** How far a request's X-Amz-Date may be from now, as AWS allows. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const headerValue = (headers: SignedRequest['headers'], name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

export function parseAuthorization(authorization: string | undefined): ParsedAuthorization | undefined {
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(authorization ?? '');
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(';'), signature: m[6]! };
}

/** `20240101T000000Z` → epoch ms. */
function amzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

/** The string AWS signs for this request (its canonical request hashed into the string to sign). */
export function stringToSign(req: SignedRequest, auth: ParsedAuthorization, date: string): string {
  // Services other than S3 encode each path segment once more when signing.
  const canonicalUri = req.path.split('/').map(rfc3986).join('/') || '/';
  const canonicalQuery = [...req.query.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${(headerValue(req.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = headerValue(req.headers, 'x-amz-content-sha256') ?? sha256(req.body);
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, auth.signedHeaders.join(';'), payloadHash].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return ['AWS4-HMAC-SHA256', date, scope, sha256(canonicalRequest)].join('\n');
}

/** The signature `secretAccessKey` gives this request. */
export function signatureOf(req: SignedRequest, auth: ParsedAuthorization, date: string, secretAccessKey: string): string {
  let key = hmac(`AWS4${secretAccessKey}`, auth.date);
  for (const part of [auth.region, auth.service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign(req, auth, date), 'utf8').digest('hex');
}

/**
 * Throws SignatureError unless the request is signed (Authorization header, X-Amz-Date within
 * 15 minutes of `now`, host among the signed headers) with `secretAccessKey`.
 */
export function verifySignature(req: SignedRequest, auth: ParsedAuthorization, secretAccessKey: string, now: number = Date.now()): void {
  const date = headerValue(req.headers, 'x-amz-date');
  const signedAt = date ? amzDate(date) : undefined;
  if (!date || signedAt === undefined) throw new SignatureError('IncompleteSignature', 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.');
  if (!date.startsWith(auth.date)) throw new SignatureError('SignatureDoesNotMatch', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${date.slice(0, 8)}'`);
  if (!auth.signedHeaders.includes('host')) throw new SignatureError('SignatureDoesNotMatch', "'Host' must be a signed header.");
  if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) {
    throw new SignatureError('SignatureDoesNotMatch', `Signature expired: ${date} is now earlier or later than 15 minutes from the server's time.`);
  }
  const expected = Buffer.from(signatureOf(req, auth, date, secretAccessKey), 'hex');
  const given = Buffer.from(auth.signature, 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new SignatureError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}
