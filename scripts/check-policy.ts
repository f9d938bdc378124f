/**
 * `npm run policy:check -- <policy.yaml> [--org <fixture.yaml>] [--delegated-admin]`
 *
 * Validates a policy file (line-precise errors) and then checks its names
 * against a directory: every user, group, permission set, account and OU must
 * resolve, and with --delegated-admin no rule may cover the management account.
 * With --org the directory is the local Identity Center emulator seeded from
 * that fixture; without it, the real Identity Center and Organizations of the
 * AWS credentials in the environment (IDC_INSTANCE_ARN / IDENTITY_STORE_ID, or
 * the first instance). Exit code 0: fit to deploy; 1: problems listed.
 * Warnings do not fail the check: a rule whose permission sets' SessionDuration is longer
 * than the rule's max duration (with session revocation off, a session outlives the grant),
 * and a group target an identity provider provisions by SCIM (its memberships added here can
 * be undone by the IdP's next push).
 */
import { IdentityCenterInventory } from '../lib/adapters/access-inventory.ts';
import { IdentityCenterDirectory, IdentityCenterWriter } from '../lib/adapters/identity-center.ts';
import { IdentityCenterSessionAccess } from '../lib/adapters/organizations-scp.ts';
import { scimAdvice } from '../lib/backstops/reconciler.ts';
import { durationMs } from '../lib/domain/duration.ts';
import { sessionDurationMs } from '../lib/domain/session-cut.ts';
import type { PolicyDocument } from '../lib/policy/schema.ts';
import { ConfigError } from '../lib/errors.ts';
import { loadPolicyFile, PolicyEngine } from '../lib/policy/index.ts';
import { startEdge } from '../local/edge.ts';
import { createIdentityCenterEmulator } from '../local/idc/index.ts';

/** Rules whose permission sets let a session outlive the longest grant the rule allows. */
async function sessionWarnings(document: PolicyDocument, directory: IdentityCenterDirectory, access: IdentityCenterSessionAccess): Promise<string[]> {
  const warnings: string[] = [];
  for (const rule of document.rules) {
    if (rule.targets.type !== 'account') continue;
    for (const name of rule.targets.permissionSets) {
      const arn = await directory.findPermissionSetArn(name);
      if (!arn) continue; // reported as a problem already
      const session = (await access.sessionDuration(arn)) ?? 'PT1H';
      if (sessionDurationMs(session) > durationMs(rule.duration.max)) {
        warnings.push(
          `rule ${rule.id}: permission set ${name} has SessionDuration ${session}, longer than the rule's max duration ${rule.duration.max}; unless session revocation is on (sessionRevocation: scp), a session started during a grant outlives it`,
        );
      }
    }
  }
  return warnings;
}

export async function checkPolicy(argv: string[]): Promise<{ problems: string[]; warnings: string[] }> {
  const file = argv.find((a) => !a.startsWith('--') && argv[argv.indexOf(a) - 1] !== '--org');
  if (!file) throw new ConfigError('usage: npm run policy:check -- <policy.yaml> [--org <fixture.yaml>] [--delegated-admin]');
  const orgIndex = argv.indexOf('--org');
  const org = orgIndex >= 0 ? argv[orgIndex + 1] : undefined;
  const delegatedAdmin = argv.includes('--delegated-admin');

  const document = await loadPolicyFile(file); // throws PolicyError with file:line:col for each problem
  let stop = async () => undefined as void;
  let endpoint: string | undefined;
  if (org) {
    const idc = createIdentityCenterEmulator({ fixture: org, knobs: { throttleTps: 0, provisioningDelayMs: { minMs: 0, maxMs: 0 } } });
    const edge = await startEdge({ port: 0, jsonServices: idc.services, log: () => undefined });
    endpoint = edge.url;
    stop = () => edge.close();
  }
  try {
    const clientConfig = endpoint ? { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {};
    const { SSOAdminClient } = await import('@aws-sdk/client-sso-admin');
    const { IdentitystoreClient } = await import('@aws-sdk/client-identitystore');
    const { OrganizationsClient } = await import('@aws-sdk/client-organizations');
    const options = {
      ...(process.env.IDC_INSTANCE_ARN ? { instanceArn: process.env.IDC_INSTANCE_ARN } : {}),
      ...(process.env.IDENTITY_STORE_ID ? { identityStoreId: process.env.IDENTITY_STORE_ID } : {}),
      clients: { ssoAdmin: new SSOAdminClient(clientConfig), identityStore: new IdentitystoreClient(clientConfig), organizations: new OrganizationsClient(clientConfig) },
    };
    const directory = new IdentityCenterDirectory(options);
    const problems = await new PolicyEngine(document, directory, { delegatedAdmin }).validateAgainstDirectory();
    const access = new IdentityCenterSessionAccess({
      ssoAdmin: () => directory.clients.ssoAdmin(),
      instanceArn: async () => (await directory.instance()).instanceArn,
      managementAccountId: () => directory.managementAccountId(),
      now: Date.now,
    });
    const warnings: string[] = await sessionWarnings(document, directory, access);
    const inventory = new IdentityCenterInventory(new IdentityCenterWriter(options));
    for (const rule of document.rules) {
      if (rule.targets.type !== 'group') continue;
      for (const name of rule.targets.groups) {
        const groupId = await directory.findGroupId(name);
        if (!groupId) continue; // a problem above already
        const group = await inventory.describeGroup(groupId);
        if (group.externalIds.length > 0) warnings.push(`rule ${rule.id}: group target ${scimAdvice(group)}`);
      }
    }
    return { problems, warnings };
  } finally {
    await stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { problems, warnings } = await checkPolicy(process.argv.slice(2));
    if (warnings.length > 0) console.warn(`${warnings.length} warning(s):\n${warnings.map((w) => `  - ${w}`).join('\n')}`);
    if (problems.length === 0) {
      console.log('policy OK: every name resolves');
    } else {
      console.error(`policy has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
      process.exitCode = 1;
    }
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = err instanceof ConfigError ? 1 : 2;
  }
}
