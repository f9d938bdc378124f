/**
 * The Serverless variables this project uses: `${self:…}`, `${sls:stage|instanceId}`,
 * `${param:…}` (CLI, then `params.<stage>`, then `params.default`), `${opt:…}`, `${env:…}`,
 * `${aws:region|accountId}`, and `${file(…)}` (YAML, JSON, or a `.js`/`.cjs` module's export
 * or what its exported function returns), each with an optional `, fallback`. CloudFormation's
 * own `${AWS::Region}` / `${Resource.Attr}` placeholders are left for the intrinsics.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { LOCAL_ACCOUNT_ID } from '../protocol/aws.ts';
import { parseCloudFormationYaml } from './yaml.ts';

const VARIABLE_SOURCES = ['self', 'sls', 'param', 'opt', 'env', 'file', 'aws', 'strToBool'];
/** An innermost Serverless variable: a known source and no nested `${`. */
const INNERMOST_VARIABLE = new RegExp(`\\$\\{\\s*((?:${VARIABLE_SOURCES.join('|')})[:(][^\${}]*)\\}`);
const MISSING = Symbol('missing');

/** Where variables resolve from: the CLI's stage, region, `--param`s and options, and the environment. */
export interface VariableSources {
  stage: string;
  region: string;
  params: Record<string, string>;
  options: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

/** Resolves the Serverless variables in a raw serverless.yml document (or any part of it). */
export class VariableResolver {
  private readonly depth = new Set<string>();
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly dir: string,
    private readonly opts: VariableSources,
  ) {}

  resolve(value: unknown, at: string): unknown {
    if (typeof value === 'string') return this.resolveString(value, at);
    if (Array.isArray(value)) return value.map((v, i) => this.resolve(v, `${at}[${i}]`));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v, at ? `${at}.${k}` : k)]));
    }
    return value;
  }

  private resolveString(text: string, at: string): unknown {
    let current: unknown = text;
    // Innermost first, so `${file(${param:policyFile})}` resolves the param, then the file.
    for (let guard = 0; typeof current === 'string' && guard < 100; guard++) {
      const match = INNERMOST_VARIABLE.exec(current);
      if (!match) return current;
      const whole = match[0] === current;
      const value = this.resolveVariable(match[1]!.trim(), at);
      if (value === MISSING) throw new Error(`serverless.yml: cannot resolve ${match[0]} at "${at}": value not found`);
      if (whole) return typeof value === 'string' ? value : this.resolve(value, at);
      if (value !== null && typeof value === 'object') {
        throw new Error(`serverless.yml: ${match[0]} at "${at}" is an object and cannot be part of a string`);
      }
      current = current.slice(0, match.index) + String(value) + current.slice(match.index + match[0].length);
    }
    return current;
  }

  /** `source:address` with an optional `, fallback` (quoted literal, number or another address). */
  private resolveVariable(expression: string, at: string): unknown {
    const [head, ...rest] = splitTopLevelComma(expression);
    const primary = this.lookup(head!.trim(), at);
    if (primary !== MISSING && primary !== undefined && primary !== null) return primary;
    if (rest.length === 0) return MISSING;
    const fallback = rest.join(',').trim();
    const quoted = /^(['"])(.*)\1$/s.exec(fallback);
    if (quoted) return quoted[2];
    if (/^-?\d+(\.\d+)?$/.test(fallback)) return Number(fallback);
    if (fallback === 'true' || fallback === 'false') return fallback === 'true';
    if (fallback === 'null') return null;
    return this.resolveVariable(fallback, at);
  }

  private lookup(reference: string, at: string): unknown {
    const fileMatch = /^file\(([^)]*)\)(?::(.*))?$/.exec(reference);
    if (fileMatch) return this.readFile(fileMatch[1]!.trim(), fileMatch[2]?.trim());
    const colon = reference.indexOf(':');
    if (colon < 0) return MISSING;
    const source = reference.slice(0, colon);
    const address = reference.slice(colon + 1);
    const { stage, region, params, options, env } = this.opts;
    switch (source) {
      case 'self': {
        const key = `self:${address}`;
        if (this.depth.has(key)) throw new Error(`serverless.yml: circular reference through \${${key}} at "${at}"`);
        this.depth.add(key);
        try {
          const found = getPath(this.raw, address);
          return found === undefined ? MISSING : this.resolve(found, address);
        } finally {
          this.depth.delete(key);
        }
      }
      case 'sls':
        if (address === 'stage') return stage;
        if (address === 'instanceId') return 'local';
        return MISSING;
      case 'aws':
        if (address === 'region') return region;
        if (address === 'accountId') return LOCAL_ACCOUNT_ID;
        return MISSING;
      case 'opt':
        if (address === 'stage') return options.stage ?? MISSING;
        if (address === 'region') return options.region ?? MISSING;
        return options[address] ?? MISSING;
      case 'env':
        return env[address] ?? MISSING;
      case 'param': {
        if (address in params) return params[address];
        const byStage = getPath(this.raw, `params.${stage}.${address}`);
        if (byStage !== undefined) return this.resolve(byStage, `params.${stage}.${address}`);
        const byDefault = getPath(this.raw, `params.default.${address}`);
        return byDefault === undefined ? MISSING : this.resolve(byDefault, `params.default.${address}`);
      }
      default:
        return MISSING;
    }
  }

  private readFile(relative: string, address: string | undefined): unknown {
    const file = path.resolve(this.dir, relative);
    if (!existsSync(file)) return MISSING;
    if (/\.c?js$/.test(file)) {
      // A JavaScript file's export (or what its exported function returns), as Serverless resolves it.
      const exported = createRequire(import.meta.url)(file) as unknown;
      const found = address ? getPath(exported, address) : exported;
      if (found === undefined) return MISSING;
      return typeof found === 'function' ? (found as () => unknown)() : found;
    }
    const text = readFileSync(file, 'utf8');
    const content = file.endsWith('.json') ? (JSON.parse(text) as unknown) : parseCloudFormationYaml(text, relative);
    if (!address) return content;
    const found = getPath(content, address);
    return found === undefined ? MISSING : found;
  }
}

function splitTopLevelComma(expression: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  let parens = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') parens++;
    else if (c === ')') parens--;
    else if (c === ',' && parens === 0) {
      parts.push(expression.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(expression.slice(start));
  return parts;
}

/** The value at a dotted path (`provider.stage`), or undefined. */
export function getPath(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
