import { slackOnTheLocalCloud } from './slack-local.suite.ts';

slackOnTheLocalCloud({ packaged: true });
