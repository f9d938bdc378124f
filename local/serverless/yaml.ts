/**
 * YAML with CloudFormation's short-form tags turned into their long form
 * (`!Ref X` → `{ Ref: 'X' }`, `!Sub s` → `{ 'Fn::Sub': s }`), as serverless.yml and the
 * files it includes are written.
 */
import { parse, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';

const INTRINSIC_FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'ToJsonString',
  'Length',
] as const;

function longForm(name: string, value: unknown): Record<string, unknown> {
  if (name === 'Ref' || name === 'Condition') return { [name]: value };
  if (name === 'GetAtt' && typeof value === 'string') {
    // `!GetAtt Resource.Attr.Nested` → ['Resource', 'Attr.Nested']
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}

/** One tag definition per node kind (scalar, sequence, mapping) for every short form. */
export const cloudFormationTags: Tags = ['Ref', 'Condition', 'GetAtt', ...INTRINSIC_FUNCTIONS].flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => longForm(name, value) },
  {
    tag: `!${name}`,
    collection: 'seq' as const,
    resolve: (seq: YAMLMap.Parsed | YAMLSeq.Parsed) => longForm(name, seq.toJSON()),
  },
  {
    tag: `!${name}`,
    collection: 'map' as const,
    resolve: (map: YAMLMap.Parsed | YAMLSeq.Parsed) => longForm(name, map.toJSON()),
  },
]);

/** Parses YAML text that may use CloudFormation short-form tags. */
export function parseCloudFormationYaml(text: string, fileName = 'serverless.yml'): unknown {
  try {
    return parse(text, { customTags: cloudFormationTags, merge: true, prettyErrors: true, maxAliasCount: -1 });
  } catch (err) {
    throw new Error(`${fileName}: ${(err as Error).message}`, { cause: err });
  }
}
