/**
 * The DynamoStore suite that runs on dynalite (test/integration) runs here
 * against moto_server's DynamoDB (or CONFORMANCE_ENDPOINT): the store's
 * conditional writes, sparse indexes and cursors behave the same on both servers.
 */
import { startTestTable } from '../support/dynamo.ts';
import { dynamoStoreSuite } from '../integration/store-suite.ts';
import { startExternalEndpoint } from './moto.ts';

dynamoStoreSuite(async () => {
  const endpoint = await startExternalEndpoint();
  const table = await startTestTable(endpoint.url);
  return {
    ...table,
    async stop() {
      await table.stop();
      await endpoint.stop();
    },
  };
});
