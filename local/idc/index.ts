/** Local IAM Identity Center + Organizations: emulator, fixture, knobs and a minimal awsJson server. */
export * from './emulator.ts';
export * from './fixture.ts';
export * from './knobs.ts';
export * from './server.ts';
export * from './persist.ts';
