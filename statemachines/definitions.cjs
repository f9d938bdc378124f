// The state machine definitions as CloudFormation receives them: JSON text for
// DefinitionString. Serverless's ${file(x.json)} drops null values, and ASL needs
// them ("ResultPath": null keeps a state's input); a string keeps every null.
const { readFileSync } = require('node:fs');
const path = require('node:path');

const definition = (name) => JSON.stringify(JSON.parse(readFileSync(path.join(__dirname, `${name}.asl.json`), 'utf8')));

module.exports = {
  grant: () => definition('grant'),
  revoke: () => definition('revoke'),
};
