/**
 * A copy of the current package (`npm run package`'s folder) whose template a test changes,
 * e.g. to take a permission out and show that IAM enforcement in packaged mode bites.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../../local/cloud.ts';
import { ensurePackaged } from '../../local/packaged/build.ts';
import { PACKAGED_TEMPLATE } from '../../local/packaged/template.ts';

export type PackagedTemplate = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

export interface EditedPackage {
  /** Pass as `packageDir` to startLocalCloud / startFastLocalCloud. */
  dir: string;
  remove(): void;
}

export async function editedPackage(edit: (template: PackagedTemplate) => void): Promise<EditedPackage> {
  const dir = mkdtempSync(path.join(tmpdir(), 'identity-center-jit-package-'));
  cpSync(await ensurePackaged(ROOT), dir, { recursive: true });
  const templateFile = path.join(dir, PACKAGED_TEMPLATE);
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as PackagedTemplate;
  edit(template);
  writeFileSync(templateFile, JSON.stringify(template));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An edit that takes one managed policy (by logical id) off a role of the template; throws unless the role had it. */
export function withoutManagedPolicy(roleLogicalId: string, policyLogicalId: string): (template: PackagedTemplate) => void {
  return (template) => {
    const role = template.Resources[roleLogicalId]?.Properties as { ManagedPolicyArns?: unknown[] } | undefined;
    const arns = role?.ManagedPolicyArns ?? [];
    const kept = arns.filter((arn) => JSON.stringify(arn) !== JSON.stringify({ Ref: policyLogicalId }));
    if (!role || kept.length !== arns.length - 1) throw new Error(`${roleLogicalId} does not attach ${policyLogicalId}`);
    role.ManagedPolicyArns = kept;
  };
}
