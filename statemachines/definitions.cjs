// The state machine definitions as CloudFormation receives them: JSON text for
// DefinitionString. Serverless's ${file(x.json)} drops null values, and ASL needs
// them ("ResultPath": null keeps a state's input); a string keeps every null.
const { readFileSync } = require('node:fs');
const path = require('node:path');

const read = (name) => JSON.parse(readFileSync(path.join(__dirname, `${name}.asl.json`), 'utf8'));

/** The states that cut a grant's sessions after its final write (deploy parameter sessionRevocation: scp). */
const SESSION_STATES = ['CutSessions', 'RecordSessionsPending'];

/**
 * The revoke workflow without session revocation (sessionRevocation: off): it ends at the
 * grant's final write, so no state is entered after it (each costs a transition).
 */
function withoutSessionCut(definition) {
  const states = { ...definition.States };
  for (const name of SESSION_STATES) delete states[name];
  const { Next: _cut, ...finish } = states.FinishGrant;
  states.FinishGrant = {
    ...finish,
    Catch: finish.Catch.map((c) => (SESSION_STATES.includes(c.Next) ? { ...c, Next: 'Ended' } : c)),
    End: true,
  };
  return { ...definition, States: states };
}

module.exports = {
  grant: () => JSON.stringify(read('grant')),
  revoke: () => JSON.stringify(withoutSessionCut(read('revoke'))),
  revokeCuttingSessions: () => JSON.stringify(read('revoke')),
  withoutSessionCut,
};
