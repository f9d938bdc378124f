import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerlessConfig, parseCloudFormationYaml, resolveFunctionEnvironment, resolveIntrinsics } from '../../local/serverless-config.ts';

let dir: string;
let file: string;

const YML = `
service: demo
params:
  default:
    table: \${self:service}-\${sls:stage}-items
    suffix: base
  prod:
    suffix: prod-only
custom:
  names:
    machine: \${self:service}-\${sls:stage}-flow
  fromFile: \${file(./extra.yml):nested.value}
  missingWithFallback: \${file(./absent.yml), 'fallback'}
  fromEnv: \${env:DEMO_VAR, 'unset'}
provider:
  name: aws
  stage: \${opt:stage, 'dev'}
  region: \${opt:region, 'eu-west-1'}
  timeout: 12
  environment:
    TABLE: !Ref ItemsTable
    MACHINE_ARN: !Ref FlowMachine
    SUFFIX: \${param:suffix}
functions:
  worker:
    handler: src/worker.main
    environment:
      QUEUE_ARN: !GetAtt Queue.Arn
      SELF_ARN: !GetAtt WorkerLambdaFunction.Arn
    events:
      - httpApi: 'GET /things/{id}'
      - httpApi: '*'
      - httpApi: { method: any, path: /all }
resources:
  Parameters:
    RoleArn: { Type: String, Default: '' }
  Conditions:
    HasRole: !Not [!Equals [!Ref RoleArn, '']]
  Resources:
    ItemsTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: \${param:table}
    FlowMachine:
      Type: AWS::StepFunctions::StateMachine
      Properties:
        StateMachineName: \${self:custom.names.machine}
        DefinitionSubstitutions:
          TableName: !Ref ItemsTable
          TableArn: !GetAtt ItemsTable.Arn
          Region: !Sub '\${AWS::Region}-\${!Literal}'
          Joined: !Join ['/', [a, !Select [1, !Split [',', 'x,y,z']]]]
          Maybe: !If [HasRole, !Ref RoleArn, !Ref AWS::NoValue]
          List: [one, !If [HasRole, two, !Ref AWS::NoValue]]
          WithVars: !Sub ['\${Name}:\${ItemsTable}', { Name: !GetAtt FlowMachine.Name }]
    Queue:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: demo-queue
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sls-config-'));
  file = path.join(dir, 'serverless.yml');
  await writeFile(file, YML);
  await writeFile(path.join(dir, 'extra.yml'), 'nested:\n  value: from-file\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseCloudFormationYaml', () => {
  it('turns every short form into its long form', () => {
    const doc = parseCloudFormationYaml(`
a: !Ref X
b: !GetAtt Res.Attr.Deep
c: !GetAtt [Res, Arn]
d: !Sub 'x-\${AWS::Region}'
e: !If [Cond, !Ref A, !Ref AWS::NoValue]
f: !Join ['', [!Ref A, b]]
g: !Condition C
h: !ImportValue shared
i: !FindInMap [M, K, V]
j: !Base64 {'Fn::Sub': x}
`);
    expect(doc).toEqual({
      a: { Ref: 'X' },
      b: { 'Fn::GetAtt': ['Res', 'Attr.Deep'] },
      c: { 'Fn::GetAtt': ['Res', 'Arn'] },
      d: { 'Fn::Sub': 'x-${AWS::Region}' },
      e: { 'Fn::If': ['Cond', { Ref: 'A' }, { Ref: 'AWS::NoValue' }] },
      f: { 'Fn::Join': ['', [{ Ref: 'A' }, 'b']] },
      g: { Condition: 'C' },
      h: { 'Fn::ImportValue': 'shared' },
      i: { 'Fn::FindInMap': ['M', 'K', 'V'] },
      j: { 'Fn::Base64': { 'Fn::Sub': 'x' } },
    });
  });

  it('names the file and line of a syntax error', () => {
    expect(() => parseCloudFormationYaml('a: [1, 2\nb: 3', 'broken.yml')).toThrow(/broken\.yml/);
  });
});

describe('loadServerlessConfig', () => {
  it('resolves self, sls, opt, param, env and file variables, leaving CloudFormation placeholders alone', () => {
    const config = loadServerlessConfig({ file, env: { DEMO_VAR: 'set' } });
    expect(config).toMatchObject({ service: 'demo', stage: 'dev', region: 'eu-west-1' });
    expect(config.custom).toMatchObject({
      names: { machine: 'demo-dev-flow' },
      fromFile: 'from-file',
      missingWithFallback: 'fallback',
      fromEnv: 'set',
    });
    const machine = config.resources.Resources.FlowMachine!.Properties!;
    expect(machine.StateMachineName).toBe('demo-dev-flow');
    expect(machine.DefinitionSubstitutions).toMatchObject({ Region: { 'Fn::Sub': '${AWS::Region}-${!Literal}' } });
  });

  it('takes params from --param, then params.<stage>, then params.default', () => {
    const prod = loadServerlessConfig({ file, stage: 'prod', env: {} });
    expect(prod.stage).toBe('prod');
    expect(prod.functions[0]!.environment.SUFFIX).toBe('prod-only');
    expect(prod.resources.Resources.ItemsTable!.Properties!.TableName).toBe('demo-prod-items');
    expect(loadServerlessConfig({ file, env: {} }).functions[0]!.environment.SUFFIX).toBe('base');
    expect(loadServerlessConfig({ file, stage: 'prod', params: { suffix: 'cli' }, env: {} }).functions[0]!.environment.SUFFIX).toBe('cli');
  });

  it('fails clearly on a variable it cannot resolve', async () => {
    const broken = path.join(dir, 'broken.yml');
    await writeFile(broken, 'service: x\nprovider:\n  name: aws\ncustom:\n  a: ${param:nope}\n');
    expect(() => loadServerlessConfig({ file: broken })).toThrow(/\$\{param:nope\} at "custom.a"/);
  });

  it('describes functions: handler file, merged environment, routes in every event syntax', () => {
    const [worker] = loadServerlessConfig({ file, env: {} }).functions;
    expect(worker!.handler).toEqual({
      reference: 'src/worker.main',
      file: path.join(dir, 'src/worker.ts'),
      relativeFile: 'src/worker.ts',
      exportName: 'main',
    });
    expect(worker!.lambdaName).toBe('demo-dev-worker');
    expect(worker!.timeoutSeconds).toBe(12);
    expect(Object.keys(worker!.environment).sort()).toEqual(['MACHINE_ARN', 'QUEUE_ARN', 'SELF_ARN', 'SUFFIX', 'TABLE']);
    expect(worker!.httpRoutes.map((r) => [r.method, r.path, r.routeKey, r.authorizer])).toEqual([
      ['GET', '/things/{id}', 'GET /things/{id}', undefined],
      ['*', '*', '$default', undefined],
      ['*', '/all', 'ANY /all', undefined],
    ]);
  });
});

describe('resolveIntrinsics', () => {
  it('evaluates a function environment with local names and ARNs', () => {
    const config = loadServerlessConfig({ file, env: {} });
    expect(resolveFunctionEnvironment(config, config.functions[0]!)).toEqual({
      TABLE: 'demo-dev-items',
      MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:stateMachine:demo-dev-flow',
      SUFFIX: 'base',
      QUEUE_ARN: 'arn:aws:sqs:eu-west-1:000000000000:demo-queue',
      SELF_ARN: 'arn:aws:lambda:eu-west-1:000000000000:function:demo-dev-worker',
    });
  });

  it('evaluates DefinitionSubstitutions: Sub, Join/Select/Split, conditions and AWS::NoValue', () => {
    const config = loadServerlessConfig({ file, env: {} });
    const subs = (machine: typeof config) => resolveIntrinsics(machine.resources.Resources.FlowMachine!.Properties!.DefinitionSubstitutions, machine);
    expect(subs(config)).toEqual({
      TableName: 'demo-dev-items',
      TableArn: 'arn:aws:dynamodb:eu-west-1:000000000000:table/demo-dev-items',
      Region: 'eu-west-1-${Literal}',
      Joined: 'a/y',
      List: ['one'],
      WithVars: 'demo-dev-flow:demo-dev-items',
    });
    const withRole = resolveIntrinsics(config.resources.Resources.FlowMachine!.Properties!.DefinitionSubstitutions, config, {
      parameters: { RoleArn: 'arn:aws:iam::111111111111:role/r' },
    });
    expect(withRole).toMatchObject({ Maybe: 'arn:aws:iam::111111111111:role/r', List: ['one', 'two'] });
  });

  it('lets the caller supply Ref and GetAtt values', () => {
    const config = loadServerlessConfig({ file, env: {} });
    const value = resolveIntrinsics({ 'Fn::Sub': '${ItemsTable}|${Queue.Arn}' }, config, {
      ref: (id) => (id === 'ItemsTable' ? 'custom-table' : undefined),
      getAtt: (id, attr) => (id === 'Queue' && attr === 'Arn' ? 'custom-arn' : undefined),
    });
    expect(value).toBe('custom-table|custom-arn');
  });

  it('refuses a Ref to something that does not exist', () => {
    const config = loadServerlessConfig({ file, env: {} });
    expect(() => resolveIntrinsics({ Ref: 'Nope' }, config)).toThrow(/Nope/);
  });
});
