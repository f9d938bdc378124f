/**
 * DynamoStore against a real DynamoDB-compatible server: dynalite on loopback,
 * or the endpoint in AWS_ENDPOINT_URL_DYNAMODB when given.
 */
import { startTestTable } from '../support/dynamo.ts';
import { dynamoStoreSuite } from './store-suite.ts';

dynamoStoreSuite(startTestTable);
