/**
 * Local STS (awsQuery, signing name `sts`): GetCallerIdentity. Signed with the credentials of a
 * role session the local access portal issued, the signature is checked for real (the session's
 * secret key) and the answer is the session's assumed-role identity; or ExpiredToken once the
 * session has expired, or AccessDenied when a service control policy on its account denies it.
 *
 * In AWS, GetCallerIdentity itself is never denied by policies; here it stands in for any call
 * the session makes, so that whether a session still works can be asked with one command.
 * Other credentials (the local cloud's own keys) answer as the local account's root, unchecked.
 */
import { AwsError, LOCAL_ACCOUNT_ID, xmlText, type QueryService, type RestRequest } from './protocol/aws.ts';
import { parseAuthorization, SignatureError, verifySignature } from './protocol/sigv4.ts';
import type { RoleSessions } from './idc/role-sessions.ts';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

const header = (req: RestRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export function createLocalSts(sessions: RoleSessions, now: () => number = Date.now): QueryService {
  /** The identity the signed request acts as. */
  function callerOf(req: RestRequest): { arn: string; userId: string; account: string } {
    const auth = parseAuthorization(header(req, 'authorization'));
    if (!auth) throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    const session = sessions.get(auth.accessKeyId);
    if (!session) return { arn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root`, userId: LOCAL_ACCOUNT_ID, account: LOCAL_ACCOUNT_ID };
    if (header(req, 'x-amz-security-token') !== session.sessionToken) throw new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    try {
      verifySignature(req, auth, session.secretAccessKey, now());
    } catch (error) {
      if (error instanceof SignatureError) throw new AwsError(error.code, error.message, 403);
      throw error;
    }
    sessions.authorize(session, 'sts:GetCallerIdentity');
    return sessions.identityOf(session);
  }

  return {
    signingName: 'sts',
    xmlNamespace: STS_NAMESPACE,
    async handle(action, params, req) {
      if (action !== 'GetCallerIdentity') throw new AwsError('InvalidAction', `The local STS does not answer ${action || '(no Action)'}; it answers GetCallerIdentity.`, 400);
      if (params.get('Version') !== '2011-06-15') throw new AwsError('InvalidParameterValue', 'Version must be 2011-06-15', 400);
      const caller = callerOf(req);
      return `<Arn>${xmlText(caller.arn)}</Arn><UserId>${xmlText(caller.userId)}</UserId><Account>${caller.account}</Account>`;
    },
  };
}
