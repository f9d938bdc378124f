/** One structured JSON logger per container (Powertools). Grant id and request id are appended per invocation. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'identity-center-jit' });
