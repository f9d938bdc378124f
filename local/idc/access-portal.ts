/**
 * The AWS access portal's GetRoleCredentials (`GET /federation/credentials?account_id=&role_name=`,
 * header `x-amz-sso_bearer_token`, unsigned), as `@aws-sdk/client-sso` and boto3's `sso` client
 * call it. The bearer is a token of the local issuer (`npm run token -- <email>`); the role
 * name is the permission set's name. Errors as the portal answers them: UnauthorizedException
 * for a token it does not accept, ForbiddenException ("No access") for access the user does not hold.
 */
import { AwsError, type RestService } from '../protocol/aws.ts';
import type { RoleSessions } from './role-sessions.ts';
import type { IdcState } from './state.ts';

/** The signing name of the access portal's API (`awsssoportal`): its requests are unsigned, so it is routed by path. */
export const ACCESS_PORTAL_SIGNING_NAME = 'awsssoportal';
export const ROLE_CREDENTIALS_PATH = '/federation/credentials';

/** The email a bearer token was issued for, or a thrown error when the token is not accepted. */
export type BearerVerifier = (token: string) => Promise<{ email: string }>;

const unauthorized = () => new AwsError('UnauthorizedException', 'Session token not found or invalid', 401);

export function createAccessPortal(state: IdcState, sessions: RoleSessions, verifyBearer: BearerVerifier): RestService {
  return {
    signingName: ACCESS_PORTAL_SIGNING_NAME,
    paths: [ROLE_CREDENTIALS_PATH],
    async handle(req) {
      if (req.method !== 'GET' || req.path !== ROLE_CREDENTIALS_PATH) throw new AwsError('InvalidRequestException', `The local access portal answers GET ${ROLE_CREDENTIALS_PATH} only`, 400);
      const header = req.headers['x-amz-sso_bearer_token'];
      const token = Array.isArray(header) ? header[0] : header;
      if (!token) throw unauthorized();
      let email: string;
      try {
        ({ email } = await verifyBearer(token));
      } catch {
        throw unauthorized();
      }
      const accountId = req.query.get('account_id');
      const roleName = req.query.get('role_name');
      if (!accountId || !/^\d{12}$/.test(accountId)) throw new AwsError('InvalidRequestException', 'account_id must be a 12-digit account id', 400);
      if (!roleName) throw new AwsError('InvalidRequestException', 'role_name is required', 400);
      const user = state.fixture.users.find((u) => u.email.toLowerCase() === email.toLowerCase());
      if (!user) throw unauthorized();
      const session = sessions.issue(user.id, accountId, roleName);
      return {
        status: 200,
        body: {
          roleCredentials: {
            accessKeyId: session.accessKeyId,
            secretAccessKey: session.secretAccessKey,
            sessionToken: session.sessionToken,
            expiration: session.expiresAt,
          },
        },
      };
    },
  };
}
