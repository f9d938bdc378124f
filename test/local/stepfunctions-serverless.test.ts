import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStateMachinesFromServerless, registerStateMachines } from '../../local/stepfunctions/serverless.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';

const serverlessYml = `
service: jit
provider:
  name: aws
  stage: \${opt:stage, 'dev'}
params:
  default:
    grantAsl: ./statemachines/grant.asl.json
custom:
  tablePrefix: \${self:service}-\${sls:stage}
resources:
  Resources:
    GrantsTable:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: \${self:custom.tablePrefix}-grants
    GrantStateMachine:
      Type: AWS::StepFunctions::StateMachine
      Properties:
        StateMachineName: \${self:service}-\${sls:stage}-grant
        RoleArn: !GetAtt StatesRole.Arn
        Definition: \${file(\${param:grantAsl})}
        DefinitionSubstitutions:
          CheckFunctionArn: !GetAtt CheckLambdaFunction.Arn
          TableName: !Ref GrantsTable
          Where: !Sub "\${AWS::Region}/\${AWS::AccountId}"
          QueueUrl: !Sub
            - "https://sqs.\${AWS::Region}.amazonaws.com/\${AWS::AccountId}/\${Q}"
            - Q: !GetAtt DeadLetters.QueueName
          Joined:
            Fn::Join: ['-', [a, !Ref GrantsTable]]
          Plain: literal
    RevokeStateMachine:
      Type: AWS::StepFunctions::StateMachine
      Properties:
        StateMachineName:
          Fn::Sub: "\${AWS::StackName}-revoke"
        DefinitionString: |
          {"StartAt":"Echo","States":{"Echo":{"Type":"Pass","Result":{"table":"\${TableName}","q":"quote\\"d"},"End":true}}}
        DefinitionSubstitutions:
          TableName: 'table "with" quotes'
`;

const grantAsl = {
  StartAt: 'Check',
  States: {
    Check: {
      Type: 'Task',
      Resource: '${CheckFunctionArn}',
      Parameters: { 'input.$': '$', table: '${TableName}', where: '${Where}', queue: '${QueueUrl}', joined: '${Joined}', plain: '${Plain}' },
      End: true,
    },
  },
};

describe('loading state machines from serverless.yml', () => {
  let dir: string;
  const asked: string[] = [];
  const resolve = (logicalId: string, attribute?: string) => {
    asked.push(attribute ? `${logicalId}.${attribute}` : logicalId);
    if (logicalId === 'CheckLambdaFunction' && attribute === 'Arn') return 'arn:aws:lambda:us-east-1:000000000000:function:jit-dev-check';
    if (logicalId === 'GrantsTable' && !attribute) return 'jit-dev-grants';
    if (logicalId === 'DeadLetters') return 'jit-dev-dlq';
    if (logicalId === 'StatesRole') return 'arn:aws:iam::000000000000:role/states';
    if (logicalId === 'AWS::StackName') return 'jit-dev';
    throw new Error(`unknown ${logicalId}`);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jit-sls-'));
    mkdirSync(join(dir, 'statemachines'));
    writeFileSync(join(dir, 'serverless.yml'), serverlessYml);
    writeFileSync(join(dir, 'statemachines', 'grant.asl.json'), JSON.stringify(grantAsl));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves file() (nested param:), self:, sls:stage and DefinitionSubstitutions intrinsics', () => {
    const machines = loadStateMachinesFromServerless(join(dir, 'serverless.yml'), resolve);
    expect(machines.map((m) => [m.logicalId, m.name])).toEqual([
      ['GrantStateMachine', 'jit-dev-grant'],
      ['RevokeStateMachine', 'jit-dev-revoke'],
    ]);
    const grant = machines[0]!;
    expect(grant.roleArn).toBe('arn:aws:iam::000000000000:role/states');
    expect(grant.definition).toEqual({
      StartAt: 'Check',
      States: {
        Check: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:000000000000:function:jit-dev-check',
          Parameters: {
            'input.$': '$',
            table: 'jit-dev-grants',
            where: 'us-east-1/000000000000',
            queue: 'https://sqs.us-east-1.amazonaws.com/000000000000/jit-dev-dlq',
            joined: 'a-jit-dev-grants',
            plain: 'literal',
          },
          End: true,
        },
      },
    });
    expect(machines[1]!.definition).toEqual({
      StartAt: 'Echo',
      States: { Echo: { Type: 'Pass', Result: { table: 'table "with" quotes', q: 'quote"d' }, End: true } },
    });
  });

  it('uses the stage option', () => {
    const machines = loadStateMachinesFromServerless(join(dir, 'serverless.yml'), { resolve, stage: 'prod' });
    expect(machines[0]!.name).toBe('jit-prod-grant');
  });

  it('runs a loaded definition end to end, the Task calling the Lambda handler the resolver named', async () => {
    const sfn = new LocalStepFunctions({ log: () => {} });
    const arns = registerStateMachines(sfn, loadStateMachinesFromServerless(join(dir, 'serverless.yml'), resolve));
    sfn.registerLambda('arn:aws:lambda:us-east-1:000000000000:function:jit-dev-check', async (event: { table: string; input: unknown }) => ({
      sawTable: event.table,
      sawInput: event.input,
    }));
    const { executionArn } = sfn.startExecution(arns.GrantStateMachine!, 'g1', '{"grantId":"01H"}');
    const done = await sfn.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ sawTable: 'jit-dev-grants', sawInput: { grantId: '01H' } });
    await sfn.close();
  });

  it('fails loudly when a placeholder has no substitution', () => {
    const broken = serverlessYml.replace('          Plain: literal\n', '');
    writeFileSync(join(dir, 'broken.yml'), broken);
    expect(() => loadStateMachinesFromServerless(join(dir, 'broken.yml'), resolve)).toThrow(/\$\{Plain\}/);
  });
});
