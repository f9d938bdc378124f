import { slackOnTheLocalCloud } from './slack-local.suite.ts';

slackOnTheLocalCloud({ packaged: false });
